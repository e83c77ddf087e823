package bootstrap

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/etalase/etalase/test/redisproc"
	"github.com/etalase/etalase/test/testproc"
)

// TestCheckQueueEviction asks private redis-servers for their policy, as
// plain, managed (CONFIG renamed) and odd (INFO renamed, both renamed)
// deployments answer it: an evicting queue Redis is refused with one line
// naming the fix, unless REDIS_ALLOW_EVICTION; one that cannot tell, or
// does not answer, is let through with a warning.
func TestCheckQueueEviction(t *testing.T) {
	t.Parallel()
	lru := redisproc.With("maxmemory-policy", "allkeys-lru")
	noConfig := redisproc.With("rename-command", "CONFIG", "")
	noInfo := redisproc.With("rename-command", "INFO", "")
	tests := []struct {
		name     string
		opts     []redisproc.Option
		vars     map[string]string
		wantErr  []string // what the error says; nil: no error
		wantWarn string
	}{
		{name: "noeviction"},
		{name: "allkeys-lru shared with the cache", opts: []redisproc.Option{lru},
			wantErr: []string{"REDIS_URL: ", "allkeys-lru", "noeviction", "CACHE_REDIS_URL", "REDIS_ALLOW_EVICTION=true"}},
		{name: "allkeys-lru, the cache apart", opts: []redisproc.Option{lru},
			vars:    map[string]string{"CACHE_REDIS_URL": "redis://127.0.0.1:1/0"},
			wantErr: []string{"REDIS_URL: ", "allkeys-lru", "REDIS_ALLOW_EVICTION=true"}},
		{name: "volatile-lru", opts: []redisproc.Option{redisproc.With("maxmemory-policy", "volatile-lru")},
			wantErr: []string{"volatile-lru"}},
		{name: "allowed", opts: []redisproc.Option{lru}, vars: map[string]string{"REDIS_ALLOW_EVICTION": "true"},
			wantWarn: "allowed by REDIS_ALLOW_EVICTION"},
		{name: "CONFIG renamed", opts: []redisproc.Option{lru, noConfig}, wantErr: []string{"allkeys-lru"}},
		{name: "INFO renamed", opts: []redisproc.Option{lru, noInfo}, wantErr: []string{"allkeys-lru"}},
		{name: "both renamed", opts: []redisproc.Option{lru, noInfo, noConfig}, wantWarn: "could not read"},
		{name: "unreachable", wantWarn: "could not read"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			url := fmt.Sprintf("redis://127.0.0.1:%d/0", testproc.FreePort(t))
			if tt.name != "unreachable" {
				url = redisproc.Start(t, tt.opts...).URL()
			}
			vars := map[string]string{"API_KEYS": "a:b", "REDIS_URL": url}
			for k, v := range tt.vars {
				vars[k] = v
			}
			c, err := LoadConfig("api", env(vars))
			if err != nil {
				t.Fatal(err)
			}
			core, logs := observer.New(zapcore.WarnLevel)
			err = checkQueueEviction(context.Background(), c, zap.New(core))
			switch {
			case tt.wantErr == nil && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.wantErr != nil && err == nil:
				t.Fatal("not refused")
			case err != nil:
				msg := err.Error()
				for _, want := range tt.wantErr {
					if !strings.Contains(msg, want) {
						t.Errorf("error %q lacks %q", msg, want)
					}
				}
				if strings.Contains(msg, "\n") {
					t.Errorf("error %q is not one line", msg)
				}
				if strings.Contains(tt.name, "apart") == strings.Contains(msg, "CACHE_REDIS_URL") {
					t.Errorf("error %q names CACHE_REDIS_URL though the cache has its own Redis, or not though it has none", msg)
				}
			}
			var warned []string
			for _, e := range logs.All() {
				warned = append(warned, e.Message)
			}
			if got := strings.Join(warned, "; "); tt.wantWarn == "" && got != "" || !strings.Contains(got, tt.wantWarn) {
				t.Errorf("warnings %q, want %q", got, tt.wantWarn)
			}
		})
	}
}
