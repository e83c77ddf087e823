package console

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/etalase/etalase/adapters/console"
	"github.com/etalase/etalase/adapters/memory"
	"github.com/etalase/etalase/application"
)

// newApp serves the console over the memory adapters: what `etalase dev`
// without Redis or PostgreSQL renders.
func newApp(t *testing.T, ttl time.Duration) *fiber.App {
	t.Helper()
	q := memory.NewQueue(4, time.Second)
	h := memory.NewHistory()
	c := console.New(console.Config{
		AdminKeys:  []console.Key{{Name: "ops", Secret: adminSecret}},
		WriterKeys: []console.Key{{Name: "writer", Secret: writerSecret}},
		SessionTTL: ttl,
	}, application.NewConsole(application.ConsoleDeps{Store: memory.New(),
		Jobs: memory.NewBrowser(q), History: h, Board: h}), nil)
	app := fiber.New()
	c.Routes(app)
	return app
}

func do(t *testing.T, app *fiber.App, method, target string, form url.Values, cookie string) (*http.Response, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, target, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	resp, err := app.Test(req, 5000)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.Contains(string(b), adminSecret) || strings.Contains(string(b), writerSecret) {
		t.Errorf("%s %s: a key's secret appears in the page", method, target)
	}
	return resp, string(b)
}

func signIn(t *testing.T, app *fiber.App, secret string) (*http.Response, string) {
	t.Helper()
	resp, _ := do(t, app, http.MethodPost, "/admin/signin", url.Values{"key": {secret}, "next": {"/admin/reports"}}, "")
	for _, c := range resp.Cookies() {
		if c.Name == "etalase_console" && c.Value != "" {
			return resp, c.Name + "=" + c.Value
		}
	}
	return resp, ""
}

func TestSessionAndRefusals(t *testing.T) {
	t.Parallel()
	app := newApp(t, time.Hour)

	resp, _ := do(t, app, http.MethodGet, "/admin/reports?status=failed", nil, "")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/admin/signin?next=") {
		t.Fatalf("no cookie: %d to %q, want 303 to the sign-in page", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, cookie := signIn(t, app, writerSecret); resp.StatusCode != http.StatusForbidden || cookie != "" {
		t.Errorf("a writer key: %d with cookie %q, want 403 and none", resp.StatusCode, cookie)
	}
	resp, cookie := signIn(t, app, adminSecret)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/reports" || cookie == "" {
		t.Fatalf("an admin key: %d to %q, want 303 to /admin/reports with a cookie", resp.StatusCode, resp.Header.Get("Location"))
	}
	set := resp.Header.Get("Set-Cookie")
	for _, want := range []string{"HttpOnly", "SameSite=Strict", "max-age=", "path=/admin"} {
		if !strings.Contains(strings.ToLower(set), strings.ToLower(want)) {
			t.Errorf("the session cookie %q lacks %s", set, want)
		}
	}
	if strings.Contains(strings.ToLower(set), "secure") {
		t.Errorf("the session cookie over plain HTTP is Secure: %q", set)
	}
	for _, page := range []string{"/admin/", "/admin/jobs?state=archived", "/admin/reports", "/admin/product?id=1"} {
		if resp, body := do(t, app, http.MethodGet, page, nil, cookie); resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s signed in: %d %.200s", page, resp.StatusCode, body)
		}
	}

	// A state-changing form needs this session's CSRF token.
	_, page := do(t, app, http.MethodGet, "/admin/", nil, cookie)
	token := between(page, `name="csrf" value="`, `"`)
	if token == "" {
		t.Fatal("the overview has no CSRF token")
	}
	form := url.Values{"queue": {"report"}, "state": {"archived"}, "action": {"run"}}
	if resp, _ := do(t, app, http.MethodPost, "/admin/jobs/bulk", form, cookie); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a POST without the CSRF token: %d, want 403", resp.StatusCode)
	}
	form.Set("csrf", token)
	if resp, _ := do(t, app, http.MethodPost, "/admin/jobs/bulk", form, ""); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a POST with a token but no session: %d, want 403", resp.StatusCode)
	}
	if resp, _ := do(t, app, http.MethodPost, "/admin/jobs/bulk", form, cookie); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("a POST with the token: %d, want 303", resp.StatusCode)
	}

	// A tampered cookie is no session.
	if resp, _ := do(t, app, http.MethodGet, "/admin/", nil, strings.Replace(cookie, "ops", "opz", 1)); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("a tampered cookie: %d, want 303 to sign in", resp.StatusCode)
	}
}

func TestSessionExpires(t *testing.T) {
	t.Parallel()
	app := newApp(t, time.Second)
	_, cookie := signIn(t, app, adminSecret)
	if resp, _ := do(t, app, http.MethodGet, "/admin/", nil, cookie); resp.StatusCode != http.StatusOK {
		t.Fatalf("a fresh session: %d", resp.StatusCode)
	}
	time.Sleep(2100 * time.Millisecond)
	if resp, _ := do(t, app, http.MethodGet, "/admin/", nil, cookie); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("an expired session: %d, want 303 to sign in", resp.StatusCode)
	}
}

func TestWrongKeysAreRateLimited(t *testing.T) {
	t.Parallel()
	app := newApp(t, time.Hour)
	var got []int
	for range 6 {
		resp, _ := signIn(t, app, "not-a-key")
		got = append(got, resp.StatusCode)
	}
	want := []int{401, 401, 401, 401, 401, 429}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("six wrong keys answered %v, want %v", got, want)
		}
	}
	// The limit holds for a right key too until the minute passes: a
	// guesser cannot tell a hit from the 429.
	if resp, _ := signIn(t, app, adminSecret); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("a right key after the limit: %d, want 429", resp.StatusCode)
	}
}

func between(s, start, end string) string {
	_, rest, ok := strings.Cut(s, start)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, end)
	return v
}
