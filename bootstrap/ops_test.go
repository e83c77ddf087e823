package bootstrap

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestReadyURL(t *testing.T) {
	t.Parallel()
	tests := []struct{ addr, want string }{
		{"127.0.0.1:9090", "http://127.0.0.1:9090/readyz"},
		{":9090", "http://127.0.0.1:9090/readyz"},
		{"0.0.0.0:9091", "http://127.0.0.1:9091/readyz"},
		{"[::]:9092", "http://127.0.0.1:9092/readyz"},
		{"[::1]:9093", "http://[::1]:9093/readyz"},
		{"localhost:9094", "http://localhost:9094/readyz"},
	}
	for _, tt := range tests {
		if got, err := readyURL(tt.addr); err != nil || got != tt.want {
			t.Errorf("readyURL(%q) = %q, %v; want %q", tt.addr, got, err, tt.want)
		}
	}
}

// TestHealthcheck probes a stand-in for the ops listener: 200 passes (a
// degraded process is still ready), anything else fails with one line.
func TestHealthcheck(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		status int
		body   string
		ok     bool
	}{
		{"ready", 200, `{"status":"ok","checks":{"postgres":"ok"}}`, true},
		{"degraded", 200, `{"status":"degraded","checks":{"queue":"error: unavailable"}}`, true},
		{"unready", 503, "{\"status\":\"unavailable\",\n\"checks\":{\"postgres\":\"error: unavailable\"}}\n", false},
		{"not etalase", 404, "404 page not found\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/readyz" {
					http.NotFound(w, r)
					return
				}
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			}))
			defer srv.Close()
			var stdout bytes.Buffer
			err := runHealthcheck(context.Background(), Config{OpsAddr: srv.Listener.Addr().String()}, nil, &stdout)
			if (err == nil) != tt.ok {
				t.Fatalf("runHealthcheck = %v, want ok %t", err, tt.ok)
			}
			if err != nil && (strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), http.StatusText(tt.status))) {
				t.Fatalf("error %q is not one line with the status", err)
			}
			if tt.ok && strings.TrimSpace(stdout.String()) != tt.body {
				t.Fatalf("stdout %q, want the readiness %q", stdout.String(), tt.body)
			}
		})
	}
}
