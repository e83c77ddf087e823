package bootstrap

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/etalase/etalase/adapters/httpapi"
)

// OpsModule serves the operators' listener on OPS_ADDR in every server
// command: the metrics registry, pprof, and /healthz and /readyz with the
// API's readiness checks. OnStart binds synchronously, so a taken OPS_ADDR
// fails the start; OnStop closes it with the process.
func OpsModule() fx.Option {
	return fx.Module("ops",
		fx.Provide(newOps),
		fx.Invoke(runOps),
	)
}

// opsParams is what the operators' listener is built from.
type opsParams struct {
	fx.In

	Registry *prometheus.Registry
	Checks   []httpapi.Check `group:"checks"`
	Log      *zap.Logger
}

func newOps(p opsParams) *httpapi.Ops {
	return httpapi.NewOps(httpapi.OpsConfig{Metrics: p.Registry, Checks: p.Checks}, p.Log.Named("ops"))
}

func runOps(lc fx.Lifecycle, o *httpapi.Ops, c Config, log *zap.Logger) {
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error {
			if err := o.Listen(c.OpsAddr); err != nil {
				return fmt.Errorf("OPS_ADDR: %w", err)
			}
			log.Info("ops server listening", zap.String("addr", o.Addr().String()))
			return nil
		},
		OnStop: o.Shutdown,
	})
}

// healthcheckCommand is `etalase healthcheck`, Docker's HEALTHCHECK in an
// image without a shell or curl.
var healthcheckCommand = Command{
	Name:    "healthcheck",
	Summary: "probe /readyz of the local process on OPS_ADDR: exit 0 when ready, 1 otherwise",
	Run:     runHealthcheck,
	Probe:   true,
}

// healthcheckTimeout bounds the probe; it exceeds the readiness checks'
// own bound, so an unready process answers 503 before the probe gives up.
const healthcheckTimeout = httpapi.DefaultReadyTimeout + time.Second

func runHealthcheck(ctx context.Context, c Config, args []string, stdout io.Writer) error {
	if len(args) != 0 {
		return usageError{"takes no arguments"}
	}
	url, err := readyURL(c.OpsAddr)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, healthcheckTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	// Never through a proxy the environment may name: the process is local.
	client := &http.Client{Transport: &http.Transport{Proxy: nil}}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	line := strings.Join(strings.Fields(string(body)), " ")
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s: %s", url, resp.Status, line)
	}
	fmt.Fprintln(stdout, line)
	return nil
}

// readyURL is the /readyz of the process listening on opsAddr: an address
// that listens on every interface (":9090", "0.0.0.0:9090", "[::]:9090")
// is probed on loopback.
func readyURL(opsAddr string) (string, error) {
	host, port, err := net.SplitHostPort(opsAddr)
	if err != nil {
		return "", fmt.Errorf("OPS_ADDR: %w", err)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/readyz", nil
}
