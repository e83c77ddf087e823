package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/etalase/etalase/bootstrap"
	"github.com/etalase/etalase/test/testproc"
)

// TestDevFallsBackToMemory runs `etalase dev` with no DATABASE_URL or
// REDIS_URL while their defaults point at closed ports: it must start on the
// in-memory adapters, generate a key, and serve reads and writes.
func TestDevFallsBackToMemory(t *testing.T) {
	t.Parallel()
	addr := fmt.Sprintf("127.0.0.1:%d", testproc.FreePort(t))
	ops := fmt.Sprintf("127.0.0.1:%d", testproc.FreePort(t))
	c, err := bootstrap.LoadConfig("dev", func(k string) string {
		return map[string]string{"HTTP_ADDR": addr, "OPS_ADDR": ops, "LOG_LEVEL": "warn"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.DatabaseURLSet || c.RedisURLSet || c.GeneratedKey == nil {
		t.Fatalf("dev without variables: set=%t/%t, generated key %v", c.DatabaseURLSet, c.RedisURLSet, c.GeneratedKey)
	}
	// The defaults, moved to ports where nothing listens.
	c.DatabaseURL = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/etalase?sslmode=disable", testproc.FreePort(t))
	c.RedisURL = fmt.Sprintf("redis://127.0.0.1:%d/0", testproc.FreePort(t))
	c.CacheRedisURL = c.RedisURL
	runApp(t, "dev", c) // fails to wire unless dev falls back
	s := &service{base: "http://" + addr}
	waitReady(t, s.base+"/healthz")

	key := bearer(c.GeneratedKey.Secret)
	cat := id(t, s.do(t, "POST", "/categories", `{"name":"Memory"}`, key, jsonBody).want(t, 201).JSON(t))
	p := s.do(t, "POST", "/products", fmt.Sprintf(`{"name":"Kept in RAM","price":"3.50","categoryId":%d}`, cat),
		key, jsonBody).want(t, 201).JSON(t)
	got := s.do(t, "GET", fmt.Sprintf("/products/%d", id(t, p)), "").want(t, 200).JSON(t)
	if got["name"] != "Kept in RAM" || got["price"] != "3.50" {
		t.Fatalf("GET on memory = %v", got)
	}
	s.do(t, "POST", "/categories", `{"name":"Nope"}`, asWriter, jsonBody).want(t, 401)
}

// TestDevDoesNotFallBackWhenSet checks that an explicit DATABASE_URL that
// does not answer is an error, not a silent switch to memory.
func TestDevDoesNotFallBackWhenSet(t *testing.T) {
	t.Parallel()
	closed := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/etalase?sslmode=disable&connect_timeout=2", testproc.FreePort(t))
	c, err := bootstrap.LoadConfig("dev", func(k string) string {
		return map[string]string{"DATABASE_URL": closed, "HTTP_ADDR": fmt.Sprintf("127.0.0.1:%d", testproc.FreePort(t)),
			"OPS_ADDR": fmt.Sprintf("127.0.0.1:%d", testproc.FreePort(t))}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := bootstrap.NewApp(ctx, "dev", c, zaptest.NewLogger(t, zaptest.Level(zap.ErrorLevel))); err == nil {
		t.Fatal("dev with an unreachable DATABASE_URL started")
	}
}
