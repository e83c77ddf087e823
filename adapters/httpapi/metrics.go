package httpapi

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics counts HTTP requests by route template and status and times
// them.
type Metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec

	// series keeps the children of both vectors per label set, so a request
	// does one map lookup instead of hashing and checking its labels twice.
	// The label sets are few: known methods, route templates, statuses.
	mu     sync.RWMutex
	series map[seriesKey]series
}

// seriesKey is the label set of a request.
type seriesKey struct {
	method, route string
	status        int
}

// series holds the metrics of one label set.
type series struct {
	requests prometheus.Counter
	duration prometheus.Observer
}

// NewMetrics registers the HTTP metrics with reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "etalase_http_requests_total",
			Help: "HTTP requests answered, by method, route template and status.",
		}, []string{"method", "route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "etalase_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by method and route template.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"method", "route"}),
		series: make(map[seriesKey]series),
	}
	for _, c := range []prometheus.Collector{m.requests, m.duration} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register http metrics: %w", err)
		}
	}
	return m, nil
}

// Middleware observes every request. Install it outermost, so the status
// it records is the one the error handler chose.
func (m *Metrics) Middleware() fiber.Handler {
	return func(c *fiber.Ctx) error {
		start := time.Now()
		err := c.Next()
		s := m.lookup(seriesKey{method: c.Method(), route: routeLabel(c), status: c.Response().StatusCode()})
		s.requests.Inc()
		s.duration.Observe(time.Since(start).Seconds())
		return err
	}
}

// routeLabel names the route a request is counted under: the matched
// route's template (a cache hit is answered by its route's own
// middleware), else "unmatched". Every global middleware is mounted at "/"
// and no route of the API is "/", so "/" means no route matched.
func routeLabel(c *fiber.Ctx) string {
	if r := c.Route(); r != nil && r.Path != "/" {
		return r.Path
	}
	return "unmatched"
}

// lookup returns the metrics of k, creating them the first time. The
// method in k may point into fiber's request buffer: a new key is copied
// before it is kept.
func (m *Metrics) lookup(k seriesKey) series {
	m.mu.RLock()
	s, ok := m.series[k]
	m.mu.RUnlock()
	if ok {
		return s
	}
	k.method = strings.Clone(k.method)
	k.route = strings.Clone(k.route)
	status := strconv.Itoa(k.status)
	s = series{
		requests: m.requests.WithLabelValues(k.method, k.route, status),
		duration: m.duration.WithLabelValues(k.method, k.route),
	}
	m.mu.Lock()
	m.series[k] = s
	m.mu.Unlock()
	return s
}
