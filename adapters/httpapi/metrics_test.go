package httpapi

import (
	"net/http/httptest"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"
)

// gathered reads reg into counts of requests and of duration samples, by
// "method route status" and "method route".
func gathered(t *testing.T, reg *prometheus.Registry) (requests, durations map[string]float64) {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	requests, durations = map[string]float64{}, map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			switch f.GetName() {
			case "etalase_http_requests_total":
				requests[labels["method"]+" "+labels["route"]+" "+labels["status"]] = m.GetCounter().GetValue()
			case "etalase_http_request_duration_seconds":
				durations[labels["method"]+" "+labels["route"]] = float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return requests, durations
}

// TestMetricsLabels checks that every request is counted and timed under
// its method, route template and status, also when the label sets repeat
// and when the response cache answered before any route ran.
func TestMetricsLabels(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := cachedResponse{ContentType: fiber.MIMEApplicationJSON, ETag: `"1"`, Body: []byte(`{"id":7}`)}.encode()
	if err != nil {
		t.Fatal(err)
	}
	app := New(Config{Observe: m.Middleware(), Responses: hitStore{stored: stored}}, Services{}, nil, nil).App()
	requests := []struct {
		method, path string
		times        int
	}{
		{fiber.MethodGet, "/healthz", 3},
		{fiber.MethodGet, "/products/7", 4},
		{fiber.MethodGet, "/products/8", 1},
		{fiber.MethodGet, "/nowhere", 2},
		{fiber.MethodPost, "/healthz", 1},
	}
	for _, r := range requests {
		for i := 0; i < r.times; i++ {
			if _, err := app.Test(httptest.NewRequest(r.method, r.path, nil)); err != nil {
				t.Fatalf("%s %s: %v", r.method, r.path, err)
			}
		}
	}
	wantRequests := map[string]float64{
		"GET /healthz 200":      3,
		"GET /products/:id 200": 5,
		"GET unmatched 404":     2,
		"POST unmatched 405":    1,
	}
	wantDurations := map[string]float64{
		"GET /healthz":      3,
		"GET /products/:id": 5,
		"GET unmatched":     2,
		"POST unmatched":    1,
	}
	gotRequests, gotDurations := gathered(t, reg)
	for _, c := range []struct {
		name      string
		got, want map[string]float64
	}{{"requests", gotRequests, wantRequests}, {"durations", gotDurations, wantDurations}} {
		if len(c.got) != len(c.want) {
			t.Errorf("%s series %v, want %v", c.name, c.got, c.want)
		}
		for k, want := range c.want {
			if c.got[k] != want {
				t.Errorf("%s{%s} = %v, want %v", c.name, k, c.got[k], want)
			}
		}
	}
}
