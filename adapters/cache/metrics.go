package cache

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// The layers a lookup is counted in.
const (
	LayerRepository = "repository"
	LayerResponse   = "response"
)

// Metrics counts what the cache does, by layer.
type Metrics struct {
	hits      *prometheus.CounterVec
	localHits *prometheus.CounterVec
	misses    *prometheus.CounterVec
	bypasses  *prometheus.CounterVec
	acks      *prometheus.CounterVec
	errors    *prometheus.CounterVec
	epoch     prometheus.Gauge
	trusted   prometheus.Gauge
}

// NewMetrics registers the cache's metrics with reg; a nil reg keeps them
// unregistered (tests).
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		hits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "etalase_cache_hits_total", Help: "Cache lookups answered from the cache.",
		}, []string{"layer"}),
		localHits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "etalase_cache_local_hits_total", Help: "Hits (counted in etalase_cache_hits_total too) answered from the local tier.",
		}, []string{"layer"}),
		acks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "etalase_cache_local_invalidations_total",
			Help: "Broadcasts that told the local tiers of writes (one carries every write that arrived while the previous was out), by how they ended: acked (every receiver acknowledged) or waited (the whole write wait).",
		}, []string{"result"}),
		misses: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "etalase_cache_misses_total", Help: "Cache lookups that found no current entry.",
		}, []string{"layer"}),
		bypasses: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "etalase_cache_bypasses_total", Help: "Lookups that skipped the cache because it was off, failing or not yet trusted.",
		}, []string{"layer"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "etalase_cache_errors_total", Help: "Cache operations that failed, by layer (response, repository, write, epoch) and operation.",
		}, []string{"layer", "op"}),
		epoch: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "etalase_cache_epoch", Help: "The cache epoch this process stamps entries with.",
		}),
		trusted: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "etalase_cache_trusted", Help: "1 while this process trusts the cache, 0 while it bypasses it.",
		}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.hits, m.localHits, m.acks, m.misses, m.bypasses, m.errors, m.epoch, m.trusted} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register cache metrics: %w", err)
		}
	}
	return m, nil
}

// Bypass counts a lookup of layer that did not use the cache; the response
// middleware calls it when the cache is off.
func (m *Metrics) Bypass(layer string) {
	if m != nil {
		m.bypasses.WithLabelValues(layer).Inc()
	}
}

func (m *Metrics) hit(layer string) {
	if m != nil && layer != "" {
		m.hits.WithLabelValues(layer).Inc()
	}
}

func (m *Metrics) localHit(layer string) {
	if m != nil && layer != "" {
		m.localHits.WithLabelValues(layer).Inc()
	}
}

func (m *Metrics) acked(all bool) {
	if m == nil {
		return
	}
	if all {
		m.acks.WithLabelValues("acked").Inc()
	} else {
		m.acks.WithLabelValues("waited").Inc()
	}
}

func (m *Metrics) miss(layer string) {
	if m != nil && layer != "" {
		m.misses.WithLabelValues(layer).Inc()
	}
}

func (m *Metrics) bypass(layer string) {
	if layer != "" {
		m.Bypass(layer)
	}
}

func (m *Metrics) failed(layer, op string) {
	if m != nil {
		m.errors.WithLabelValues(layer, op).Inc()
	}
}

func (m *Metrics) state(epoch int64, trusted bool) {
	if m == nil {
		return
	}
	m.epoch.Set(float64(epoch))
	if trusted {
		m.trusted.Set(1)
	} else {
		m.trusted.Set(0)
	}
}
