package bootstrap

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/etalase/etalase/adapters/httpapi"
)

func TestLoadConfigJobs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		vars    map[string]string
		want    JobsConfig
		wantVar string
	}{
		{"defaults", nil, JobsConfig{SweepAfter: 2 * time.Minute, SweepInterval: 10 * time.Second,
			RelayPoll: 5 * time.Second, RetryBase: 2 * time.Second}, ""},
		{"set", map[string]string{"REPORT_SWEEP_AFTER": "30s", "REPORT_SWEEP_INTERVAL": "1s",
			"OUTBOX_POLL_INTERVAL": "250ms", "JOB_RETRY_BASE": "100ms"},
			JobsConfig{SweepAfter: 30 * time.Second, SweepInterval: time.Second,
				RelayPoll: 250 * time.Millisecond, RetryBase: 100 * time.Millisecond}, ""},
		{"not a duration", map[string]string{"REPORT_SWEEP_AFTER": "soon"}, JobsConfig{}, "REPORT_SWEEP_AFTER"},
		{"sweep before the job can finish", map[string]string{"REPORT_DELAY": "10s", "REPORT_SWEEP_AFTER": "5s"},
			JobsConfig{}, "REPORT_SWEEP_AFTER"},
		{"poll too fast", map[string]string{"OUTBOX_POLL_INTERVAL": "1ms"}, JobsConfig{}, "OUTBOX_POLL_INTERVAL"},
	}
	for _, tc := range tests {
		for _, command := range []string{"worker", "api"} {
			t.Run(tc.name+"/"+command, func(t *testing.T) {
				t.Parallel()
				vars := map[string]string{"API_KEYS": "a:b"}
				for k, v := range tc.vars {
					vars[k] = v
				}
				c, err := LoadConfig(command, env(vars))
				if tc.wantVar != "" {
					ce, ok := err.(*ConfigError)
					if !ok || ce.Variable != tc.wantVar {
						t.Fatalf("err = %v, want a config error naming %s", err, tc.wantVar)
					}
					return
				}
				if err != nil || c.Jobs != tc.want {
					t.Fatalf("Jobs = %+v, %v; want %+v", c.Jobs, err, tc.want)
				}
			})
		}
	}
}

// TestDevFallbackRunsReports starts dev wired on the in-memory store and
// queue, creates a product over HTTP and waits for its report to complete:
// the relay, woken by the memory outbox (its poll is an hour), the memory
// queue's runner and the report use case together.
func TestDevFallbackRunsReports(t *testing.T) {
	t.Parallel()
	vars := map[string]string{"API_KEYS": "me:secret-0123456789", "HTTP_ADDR": "127.0.0.1:0",
		"REPORT_DELAY": "10ms", "LOG_LEVEL": "error", "OUTBOX_POLL_INTERVAL": "1h"}
	c, err := LoadConfig("dev", env(vars))
	if err != nil {
		t.Fatal(err)
	}
	var srv *httpapi.Server
	app := fx.New(DevOptions(c, zap.NewNop(), Fallback{Postgres: true, Redis: true}), appOptions(c, zap.NewNop()),
		fx.Populate(&srv))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := app.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = app.Stop(context.Background()) }()
	base := "http://" + srv.Addr().String()
	post := func(path, body string) map[string]any {
		req, _ := http.NewRequest(http.MethodPost, base+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer secret-0123456789")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusCreated {
			t.Fatalf("POST %s = %d, %v", path, resp.StatusCode, out)
		}
		return out
	}
	// /readyz says what it checked, and that it is the memory fallback.
	resp, err := http.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	var ready struct {
		Checks map[string]string `json:"checks"`
	}
	err = json.NewDecoder(resp.Body).Decode(&ready)
	resp.Body.Close()
	if err != nil || ready.Checks["memory-store"] != "ok" || ready.Checks["memory-queue"] != "ok" {
		t.Errorf("/readyz checks = %v (%v), want memory-store and memory-queue ok", ready.Checks, err)
	}
	cat := post("/categories", `{"name":"Books"}`)
	p := post("/products", fmt.Sprintf(`{"name":"Go","price":"19.99","stock":2,"categoryId":%v}`, cat["id"]))
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(fmt.Sprintf("%s/products/%v/reports", base, p["id"]))
		if err != nil {
			t.Fatal(err)
		}
		var list struct {
			Data []struct {
				Status string         `json:"status"`
				Result map[string]any `json:"result"`
			} `json:"data"`
		}
		err = json.NewDecoder(resp.Body).Decode(&list)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if len(list.Data) == 1 && list.Data[0].Status == "completed" {
			if list.Data[0].Result["stockValue"] != "39.98" {
				t.Errorf("result = %v, want stockValue 39.98", list.Data[0].Result)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("reports = %+v; want one completed", list.Data)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
