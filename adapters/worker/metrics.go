package worker

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/etalase/etalase/application"
	"github.com/etalase/etalase/domain"
)

// Metrics counts the jobs a worker runs.
type Metrics struct {
	processed *prometheus.CounterVec
	failed    *prometheus.CounterVec
	retried   *prometheus.CounterVec
	duration  *prometheus.HistogramVec
}

// NewMetrics registers the job metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		processed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "etalase_jobs_processed_total", Help: "Job attempts that succeeded, by job type.",
		}, []string{"type"}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "etalase_jobs_failed_total", Help: "Job attempts that failed, by job type.",
		}, []string{"type"}),
		retried: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "etalase_jobs_retried_total", Help: "Job attempts that were retries of a failed attempt, by job type.",
		}, []string{"type"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "etalase_job_duration_seconds",
			Help:    "Time a job attempt ran, by job type.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"type"}),
	}
	reg.MustRegister(m.processed, m.failed, m.retried, m.duration)
	return m
}

func (m *Metrics) observe(jobType string, d time.Duration, err error, retried int) {
	if m == nil {
		return
	}
	m.duration.WithLabelValues(jobType).Observe(d.Seconds())
	if retried > 0 {
		m.retried.WithLabelValues(jobType).Inc()
	}
	if err != nil {
		m.failed.WithLabelValues(jobType).Inc()
		return
	}
	m.processed.WithLabelValues(jobType).Inc()
}

// scrapeTimeout bounds the queries a scrape makes, so a down dependency
// slows /metrics, never hangs it.
const scrapeTimeout = 2 * time.Second

// BacklogCollector reports, at scrape time, the outbox backlog and the age
// of its oldest unsent job, and the size of every queue by state.
type BacklogCollector struct {
	outbox    domain.Outbox
	inspector application.QueueInspector
	backlog   *prometheus.Desc
	oldest    *prometheus.Desc
	queue     *prometheus.Desc
	up        *prometheus.Desc
}

var _ prometheus.Collector = (*BacklogCollector)(nil)

// NewBacklogCollector returns a collector over an outbox and a queue
// inspector; either may be nil to leave its figures out.
func NewBacklogCollector(outbox domain.Outbox, inspector application.QueueInspector) *BacklogCollector {
	return &BacklogCollector{
		outbox:    outbox,
		inspector: inspector,
		backlog:   prometheus.NewDesc("etalase_outbox_backlog", "Outbox jobs not yet handed to the queue.", nil, nil),
		oldest:    prometheus.NewDesc("etalase_outbox_oldest_age_seconds", "Age of the oldest unsent outbox job; 0 when none.", nil, nil),
		queue:     prometheus.NewDesc("etalase_queue_jobs", "Jobs in a queue, by state.", []string{"queue", "state"}, nil),
		up:        prometheus.NewDesc("etalase_jobs_source_up", "Whether the last scrape could read a job source (outbox, queue).", []string{"source"}, nil),
	}
}

// Describe sends the collector's descriptions.
func (c *BacklogCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.backlog
	ch <- c.oldest
	ch <- c.queue
	ch <- c.up
}

// Collect reads the outbox and the queues.
func (c *BacklogCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	if c.outbox != nil {
		n, oldest, err := c.outbox.Backlog(ctx)
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, boolValue(err == nil), "outbox")
		if err == nil {
			age := 0.0
			if n > 0 && !oldest.IsZero() {
				age = time.Since(oldest).Seconds()
			}
			ch <- prometheus.MustNewConstMetric(c.backlog, prometheus.GaugeValue, float64(n))
			ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, age)
		}
	}
	if c.inspector != nil {
		counts, err := c.inspector.Counts(ctx)
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, boolValue(err == nil), "queue")
		for _, q := range counts {
			for state, n := range map[string]int{"pending": q.Pending, "active": q.Active, "scheduled": q.Scheduled,
				"retry": q.Retry, "archived": q.Archived, "completed": q.Completed} {
				ch <- prometheus.MustNewConstMetric(c.queue, prometheus.GaugeValue, float64(n), q.Queue, state)
			}
		}
	}
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
