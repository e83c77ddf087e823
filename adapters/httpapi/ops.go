package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/zap"
)

// OpsConfig is what the operators' listener serves.
type OpsConfig struct {
	// Metrics is what GET /metrics gathers.
	Metrics prometheus.Gatherer
	// Checks are the readiness checks of GET /readyz: the API's.
	Checks []Check
	// ReadyTimeout bounds all checks together; 0 means DefaultReadyTimeout.
	ReadyTimeout time.Duration
}

// Ops is the operators' listener: /metrics, Go's /debug/pprof/, /healthz
// and /readyz, on net/http and on an address of its own (OPS_ADDR), so that
// profiles and figures never reach the public API's port and a process
// without the API (the worker) still answers health probes.
type Ops struct {
	srv *http.Server
	log *zap.Logger

	mu sync.Mutex
	ln net.Listener
}

// NewOps builds the listener; it does not listen yet.
func NewOps(cfg OpsConfig, log *zap.Logger) *Ops {
	if cfg.ReadyTimeout <= 0 {
		cfg.ReadyTimeout = DefaultReadyTimeout
	}
	if log == nil {
		log = zap.NewNop()
	}
	// Its own mux: net/http/pprof also registers on DefaultServeMux, which
	// nothing here serves.
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(cfg.Metrics, promhttp.HandlerOpts{}))
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeOpsJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		status, out := readiness(r.Context(), cfg.Checks, cfg.ReadyTimeout, log)
		writeOpsJSON(w, status, out)
	})
	return &Ops{
		// No write timeout: a CPU profile or a trace streams for as many
		// seconds as it is asked to.
		srv: &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 60 * time.Second},
		log: log,
	}
}

func writeOpsJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// Handler returns the listener's routes, for tests.
func (o *Ops) Handler() http.Handler { return o.srv.Handler }

// Listen binds addr synchronously, so a taken port is an error here, and
// then serves in a goroutine until Shutdown.
func (o *Ops) Listen(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	o.mu.Lock()
	o.ln = ln
	o.mu.Unlock()
	go func() {
		if err := o.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			o.log.Error("ops server stopped", zap.Error(err))
		}
	}()
	return nil
}

// Addr returns the address the listener is bound to, or nil before Listen.
func (o *Ops) Addr() net.Addr {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.ln == nil {
		return nil
	}
	return o.ln.Addr()
}

// opsDrain is how long Shutdown waits for requests in flight: a scrape
// ends at once, and a profile being taken is not worth the API's or the
// jobs' share of SHUTDOWN_TIMEOUT.
const opsDrain = time.Second

// Shutdown stops accepting connections, waits for requests in flight up
// to opsDrain or until ctx ends, and then closes what remains.
func (o *Ops) Shutdown(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, opsDrain)
	defer cancel()
	if err := o.srv.Shutdown(ctx); err != nil {
		o.log.Warn("ops server closed requests in flight", zap.Error(err))
		_ = o.srv.Close()
	}
	return nil
}
