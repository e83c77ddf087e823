package httpapi

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/valyala/fasthttp"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/etalase/etalase/domain"
)

// hitStore answers every lookup with the same stored response.
type hitStore struct{ stored []byte }

func (s hitStore) Lookup(context.Context, domain.View) ([]byte, func(context.Context, []byte, time.Duration)) {
	return s.stored, nil
}

// BenchmarkCachedHit measures what the server spends on a response cache
// hit of an item beyond the store's lookup: the middleware chain as the
// service installs it (metrics, request id, access log, recover, cache), in
// process, without the network.
func BenchmarkCachedHit(b *testing.B) {
	body := []byte(`{"id":42,"sku":"BN-0042","name":"bench product 42","description":"A product of the benchmark, ` +
		`with a description long enough to look like a real one.","price":"10.42","stock":42,"categoryId":1,` +
		`"category":{"id":1,"name":"bench 0"},"version":1,"createdAt":"2026-11-25T10:00:00Z","updatedAt":"2026-11-25T10:00:00Z"}`)
	stored, err := cachedResponse{ContentType: "application/json", ETag: `"1"`, Body: body}.encode()
	if err != nil {
		b.Fatal(err)
	}
	loggers := []struct {
		name string
		log  *zap.Logger
	}{
		{"nop-log", zap.NewNop()},
		{"json-log", zap.New(zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()),
			zapcore.AddSync(io.Discard), zapcore.InfoLevel))},
	}
	for _, l := range loggers {
		b.Run(l.name, func(b *testing.B) {
			m, err := NewMetrics(prometheus.NewRegistry())
			if err != nil {
				b.Fatal(err)
			}
			s := New(Config{Observe: m.Middleware(), Responses: hitStore{stored: stored}}, Services{}, l.log, nil)
			handler := s.App().Handler()
			var rc fasthttp.RequestCtx
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				rc.Request.Reset()
				rc.Response.Reset()
				rc.Request.Header.SetMethod(fasthttp.MethodGet)
				rc.Request.SetRequestURI("/products/42")
				handler(&rc)
				if rc.Response.StatusCode() != fasthttp.StatusOK || string(rc.Response.Header.Peek(HeaderXCache)) != string(CacheHit) ||
					!strings.HasPrefix(string(rc.Response.Body()), `{"id":42`) {
					b.Fatalf("status %d, X-Cache %q", rc.Response.StatusCode(), rc.Response.Header.Peek(HeaderXCache))
				}
			}
		})
	}
}
