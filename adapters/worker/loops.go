package worker

import (
	"context"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.uber.org/zap"
)

// OutboxChannel is the PostgreSQL notification channel an outbox insert
// signals.
const OutboxChannel = "etalase_outbox"

// The loops' defaults.
const (
	DefaultRelayPoll     = 5 * time.Second
	DefaultSweepInterval = 10 * time.Second
	maxBackoff           = 10 * time.Second
)

// Drainer relays the outbox until it is empty: the application's Relay.
type Drainer interface {
	Drain(ctx context.Context) (int, error)
}

// Sweeper re-enqueues stale reports: the application's Sweeper.
type Sweeper interface {
	Sweep(ctx context.Context) (int, error)
}

// loop is a goroutine that runs until Stop.
type loop struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func (l *loop) start(fns ...func(ctx context.Context)) {
	ctx, cancel := context.WithCancel(context.Background())
	l.cancel = cancel
	for _, fn := range fns {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			fn(ctx)
		}()
	}
}

// stop cancels the loop and waits for it, or for ctx to end.
func (l *loop) stop(ctx context.Context) error {
	if l.cancel == nil {
		return nil
	}
	l.cancel()
	done := make(chan struct{})
	go func() {
		l.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// RelayLoop moves outbox jobs to the queue as soon as they are committed: a
// dedicated PostgreSQL connection LISTENs for the outbox's notifications
// and wakes the relay; a slow poll covers notifications lost while the
// connection was down. Any number of relay loops may run at once.
type RelayLoop struct {
	relay Drainer
	dsn   string
	poll  time.Duration
	log   *zap.Logger
	wake  chan struct{}
	loop  loop
}

// NewRelayLoop returns a relay loop; dsn is the PostgreSQL connection string
// of the listening connection, poll the fallback interval. With no dsn (an
// outbox that is not in PostgreSQL) only the poll drives the relay.
func NewRelayLoop(relay Drainer, dsn string, poll time.Duration, log *zap.Logger) *RelayLoop {
	if poll <= 0 {
		poll = DefaultRelayPoll
	}
	return &RelayLoop{relay: relay, dsn: dsn, poll: poll, log: log.With(zap.String("component", "relay")),
		wake: make(chan struct{}, 1)}
}

// Start runs the listener and the relay in the background.
func (r *RelayLoop) Start() {
	if r.dsn == "" {
		r.loop.start(r.run)
		return
	}
	r.loop.start(r.listen, r.run)
}

// Stop ends the loop, letting a relay step in progress finish within ctx.
func (r *RelayLoop) Stop(ctx context.Context) error { return r.loop.stop(ctx) }

// Wake asks for a relay step now; wakes that arrive during a step fold into
// one further step.
func (r *RelayLoop) Wake() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

func (r *RelayLoop) run(ctx context.Context) {
	ticker := time.NewTicker(r.poll)
	defer ticker.Stop()
	backoff := time.Duration(0)
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.wake:
		case <-ticker.C:
		}
		n, err := r.relay.Drain(ctx)
		if err != nil && ctx.Err() == nil {
			backoff = nextBackoff(backoff)
			r.log.Warn("relay step failed", zap.Int("sent", n), zap.Duration("retry_in", backoff), zap.Error(err))
			if !sleep(ctx, backoff) {
				return
			}
			r.Wake()
			continue
		}
		backoff = 0
		if n > 0 {
			r.log.Debug("outbox relayed", zap.Int("sent", n))
		}
	}
}

// listen holds the LISTEN connection, reconnecting after any error.
func (r *RelayLoop) listen(ctx context.Context) {
	backoff := time.Duration(0)
	for ctx.Err() == nil {
		err := r.listenOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		backoff = nextBackoff(backoff)
		r.log.Warn("outbox listener lost its connection", zap.Duration("retry_in", backoff), zap.Error(err))
		if !sleep(ctx, backoff) {
			return
		}
	}
}

func (r *RelayLoop) listenOnce(ctx context.Context) error {
	// Parsed as a pool's DSN, which it usually is: pgx's pool options
	// (pool_max_conns, ...) are dropped rather than sent to PostgreSQL.
	cfg, err := pgxpool.ParseConfig(r.dsn)
	if err != nil {
		return err
	}
	conn, err := pgx.ConnectConfig(ctx, cfg.ConnConfig)
	if err != nil {
		return err
	}
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = conn.Close(closeCtx)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+OutboxChannel); err != nil {
		return err
	}
	// Jobs committed while nobody listened are picked up now.
	r.Wake()
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return err
		}
		r.Wake()
	}
}

// SweepLoop runs the sweeper at a fixed interval.
type SweepLoop struct {
	sweeper  Sweeper
	interval time.Duration
	log      *zap.Logger
	loop     loop
}

// NewSweepLoop returns a loop sweeping every interval.
func NewSweepLoop(sweeper Sweeper, interval time.Duration, log *zap.Logger) *SweepLoop {
	if interval <= 0 {
		interval = DefaultSweepInterval
	}
	return &SweepLoop{sweeper: sweeper, interval: interval, log: log.With(zap.String("component", "sweeper"))}
}

// Start runs the sweeper in the background.
func (s *SweepLoop) Start() { s.loop.start(s.run) }

// Stop ends the loop within ctx.
func (s *SweepLoop) Stop(ctx context.Context) error { return s.loop.stop(ctx) }

func (s *SweepLoop) run(ctx context.Context) {
	ticker := time.NewTicker(s.interval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		n, err := s.sweeper.Sweep(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			s.log.Warn("sweep failed", zap.Int("requeued", n), zap.Error(err))
		case n > 0:
			s.log.Info("stale reports enqueued again", zap.Int("requeued", n))
		}
	}
}

func nextBackoff(d time.Duration) time.Duration {
	if d <= 0 {
		return 200 * time.Millisecond
	}
	return min(2*d, maxBackoff)
}

// sleep waits d or until ctx ends; it reports whether the wait completed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
