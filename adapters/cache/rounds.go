package cache

import (
	"context"
	"slices"
	"sync"
	"time"
)

// epochBumpTimeout bounds one bump of the epoch in PostgreSQL.
const epochBumpTimeout = 10 * time.Second

// rounds coalesces concurrent calls that each need a run that began after
// they asked (after their write committed, or after they last doubted the
// cache): while one run is going, every caller that arrives joins the next
// round, whose input is the union of what they brought. A burst of writes
// so costs a few runs rather than one each:
//   - the epoch's bumps (no input): a burst of writes that cannot invalidate
//     in Redis (an outage, a failover's window) costs PostgreSQL two
//     updates of the epoch's one row, not one per write queued behind its
//     row lock;
//   - the retirement of generations (the input), with the local tier's
//     broadcast and its acknowledgements: 32 clients creating products
//     cost a few round trips and broadcasts, each acknowledged by every
//     process once, rather than 32. A round's broadcast begins after every
//     write in it committed, so the local tier's argument (local.go) holds
//     for each of them.
type rounds[T any] struct {
	run     func(ctx context.Context, in []string) (T, error)
	timeout time.Duration // of one run, which no caller's context ends

	mu      sync.Mutex
	running bool
	next    *round[T] // starts when the running one ends
}

type round[T any] struct {
	in   map[string]struct{}
	done chan struct{}
	out  T
	err  error
}

// do returns the result of a run that began after do was called and whose
// input includes in.
func (r *rounds[T]) do(in ...string) (T, error) {
	r.mu.Lock()
	call := r.next
	if call == nil {
		call = &round[T]{in: make(map[string]struct{}, len(in)), done: make(chan struct{})}
		r.next = call
	}
	for _, s := range in {
		call.in[s] = struct{}{}
	}
	if !r.running {
		r.startLocked()
	}
	r.mu.Unlock()
	<-call.done
	return call.out, call.err
}

func (r *rounds[T]) startLocked() {
	call := r.next
	r.next, r.running = nil, true
	go func() {
		in := make([]string, 0, len(call.in))
		for s := range call.in {
			in = append(in, s)
		}
		slices.Sort(in)
		ctx, cancel := context.WithTimeout(context.Background(), r.timeout)
		call.out, call.err = r.run(ctx, in)
		cancel()
		close(call.done)
		r.mu.Lock()
		r.running = false
		if r.next != nil {
			r.startLocked()
		}
		r.mu.Unlock()
	}()
}
