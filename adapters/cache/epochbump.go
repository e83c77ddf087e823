package cache

import (
	"context"
	"sync"
	"time"
)

// epochBumpTimeout bounds one bump of the epoch in PostgreSQL.
const epochBumpTimeout = 10 * time.Second

// epochBumps coalesces concurrent bumps of the epoch. A caller needs a bump
// that began after it asked (after its write committed, or after it last
// doubted the cache); while one bump is running, every caller that arrives
// shares the next one. A burst of writes that cannot invalidate in Redis
// (a Redis outage, a failover's window) so costs PostgreSQL two updates of
// the epoch's one row, not one per write queued behind its row lock.
type epochBumps struct {
	bump func(context.Context) (int64, error)

	mu      sync.Mutex
	running bool
	next    *epochBump // starts when the running one ends
}

type epochBump struct {
	done  chan struct{}
	epoch int64
	err   error
}

// do returns the epoch of a bump that began after do was called.
func (b *epochBumps) do() (int64, error) {
	b.mu.Lock()
	call := b.next
	if call == nil {
		call = &epochBump{done: make(chan struct{})}
		b.next = call
	}
	if !b.running {
		b.startLocked()
	}
	b.mu.Unlock()
	<-call.done
	return call.epoch, call.err
}

func (b *epochBumps) startLocked() {
	call := b.next
	b.next, b.running = nil, true
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), epochBumpTimeout)
		call.epoch, call.err = b.bump(ctx)
		cancel()
		close(call.done)
		b.mu.Lock()
		b.running = false
		if b.next != nil {
			b.startLocked()
		}
		b.mu.Unlock()
	}()
}
