package bootstrap

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/etalase/etalase/test/redisproc"
)

func TestRedisOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		url        string
		mode       string
		addrs      []string
		wantAddrs  []string
		wantPass   string
		wantDB     int
		wantMaster string
		wantErr    string
	}{
		{name: "single default", url: "redis://127.0.0.1:6379/0", mode: "single",
			wantAddrs: []string{"127.0.0.1:6379"}},
		{name: "single with password and db", url: "redis://:s3cret@cache:6380/3", mode: "",
			wantAddrs: []string{"cache:6380"}, wantPass: "s3cret", wantDB: 3},
		{name: "cluster takes addrs", url: "redis://:pw@ignored:1/0", mode: "cluster", addrs: []string{"a:1", "b:2"},
			wantAddrs: []string{"a:1", "b:2"}, wantPass: "pw"},
		{name: "sentinel with master in url", url: "redis://:pw@x/2?master=mymaster", mode: "sentinel",
			addrs: []string{"s1:26379"}, wantAddrs: []string{"s1:26379"}, wantPass: "pw", wantDB: 2, wantMaster: "mymaster"},
		{name: "sentinel without master", url: "redis://x/0", mode: "sentinel", addrs: []string{"s1:26379"},
			wantErr: "master name"},
		{name: "cluster without addrs", url: "redis://x/0", mode: "cluster", wantErr: "addresses"},
		{name: "cluster with db", url: "redis://x/4", mode: "cluster", addrs: []string{"a:1"}, wantErr: "database 0"},
		{name: "unknown mode", url: "redis://x/0", mode: "ring", wantErr: "unknown mode"},
		{name: "bad scheme", url: "http://:pw@x/0", mode: "single", wantErr: "not a valid Redis URL"},
		{name: "master in single mode", url: "redis://x/0?master=m", mode: "single", wantErr: "sentinel"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o, err := redisOptions(tt.url, tt.mode, tt.addrs)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "pw") {
					t.Fatalf("error leaks the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if fmt.Sprint(o.Addrs) != fmt.Sprint(tt.wantAddrs) || o.Password != tt.wantPass ||
				o.DB != tt.wantDB || o.MasterName != tt.wantMaster {
				t.Fatalf("got addrs=%v pass=%q db=%d master=%q, want %v %q %d %q",
					o.Addrs, o.Password, o.DB, o.MasterName, tt.wantAddrs, tt.wantPass, tt.wantDB, tt.wantMaster)
			}
		})
	}
}

// TestNewRedisClientPassword runs a private password-protected redis-server
// and checks that a password in the URL authenticates and a wrong one fails.
func TestNewRedisClientPassword(t *testing.T) {
	t.Parallel()
	srv := redisproc.Start(t, redisproc.With("requirepass", "p@ss:word"))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	good, err := NewRedisClient("redis://:p%40ss%3Aword@"+srv.Addr()+"/2", "single", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer good.Close()
	if err := good.Ping(ctx).Err(); err != nil {
		t.Fatalf("ping with the right password: %v", err)
	}
	bad, err := NewRedisClient("redis://:wrong@"+srv.Addr()+"/2", "single", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	if err := bad.Ping(ctx).Err(); err == nil {
		t.Fatal("ping with a wrong password succeeded")
	}
}
