package apiclient

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestDoAndCreate(t *testing.T) {
	var got struct{ method, path, auth, ctype, body string }
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got.method, got.path, got.auth, got.ctype, got.body = r.Method, r.URL.Path, r.Header.Get("Authorization"), r.Header.Get("Content-Type"), string(b)
		if r.URL.Path == "/bad" {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"title":"bad"}`))
			return
		}
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{"id":42}`))
	}))
	defer srv.Close()
	c := New(srv.URL, "s3cret")

	r, id, err := c.Create("/things", map[string]any{"name": "x"})
	if err != nil || id != 42 || r.Status != http.StatusCreated {
		t.Fatalf("Create = %d, %d, %v", r.Status, id, err)
	}
	if got.method != "POST" || got.path != "/things" || got.auth != "Bearer s3cret" || got.ctype != "application/json" || got.body != `{"name":"x"}` {
		t.Fatalf("sent %+v", got)
	}
	if _, _, err := c.Create("/bad", nil); err == nil {
		t.Fatal("Create of a 400 returned no error")
	}
	if got.body != "" || got.ctype != "" {
		t.Fatalf("a nil body was sent as %q (%s)", got.body, got.ctype)
	}
	anon := &Client{Base: srv.URL}
	if _, err := anon.Do(http.MethodPatch, srv.URL+"/raw", `{"a":1}`, Header{"Content-Type", "application/merge-patch+json"}); err != nil {
		t.Fatal(err)
	}
	if got.auth != "" || got.ctype != "application/merge-patch+json" || got.body != `{"a":1}` || got.path != "/raw" {
		t.Fatalf("sent %+v", got)
	}
}
