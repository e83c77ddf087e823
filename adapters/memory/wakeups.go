package memory

import (
	"context"
	"sync"

	"github.com/etalase/etalase/domain"
)

// OutboxWakeups is domain.OutboxWakeups of a Store: every commit that adds
// to its outbox wakes every watcher.
type OutboxWakeups struct{ db *database }

var _ domain.OutboxWakeups = OutboxWakeups{}

// NewOutboxWakeups returns the wake-ups of s's outbox.
func NewOutboxWakeups(s *Store) OutboxWakeups { return OutboxWakeups{db: s.db} }

// Watch wakes at once, then after every commit that added jobs, until ctx
// ends. A memory subscription never breaks.
func (w OutboxWakeups) Watch(ctx context.Context, wake func()) error {
	ch := w.db.wakeups.subscribe()
	defer w.db.wakeups.unsubscribe(ch)
	wake()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ch:
			wake()
		}
	}
}

// wakeups are the channels of the watchers of one database's outbox. Each
// holds at most one pending wake-up: wakes while one is pending fold into it.
type wakeups struct {
	mu  sync.Mutex
	chs map[chan struct{}]struct{}
}

func (w *wakeups) subscribe() chan struct{} {
	ch := make(chan struct{}, 1)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.chs == nil {
		w.chs = map[chan struct{}]struct{}{}
	}
	w.chs[ch] = struct{}{}
	return ch
}

func (w *wakeups) unsubscribe(ch chan struct{}) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.chs, ch)
}

// wake signals every watcher without waiting for any.
func (w *wakeups) wake() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for ch := range w.chs {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}
