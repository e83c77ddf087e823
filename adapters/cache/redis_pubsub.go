package cache

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// InvalidationChannel is the pub/sub channel the local tiers of every
// process listen on; a message is "@" and the writer's id (its
// acknowledgements go to AckChannel of it), a space, the write's id, then
// the retired generations, each after a space.
const InvalidationChannel = Prefix + "invalidations"

// AckChannel is the channel on which process id hears the
// acknowledgements of its invalidations; a message is the write's id.
func AckChannel(id string) string { return Prefix + "acks:" + id }

var _ Broadcaster = (*Redis)(nil)

// Retire bumps gens and publishes them on InvalidationChannel in one
// pipeline, the bumps first: Redis runs a connection's commands in order,
// so a subscriber that receives the message reads the new generations.
// It answers how many subscribers Redis handed the message to. With
// replicas to wait for, the bumps and the publish must reach them too:
// a failover must not forget the bumps, and Redis hands a PUBLISH to its
// replicas' subscribers through replication.
func (r *Redis) Retire(ctx context.Context, gens []string, msg Invalidation) (int64, error) {
	var publish *redis.IntCmd
	var wait *redis.Cmd
	cmds, err := r.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, g := range gens {
			p.Eval(ctx, advanceScript, []string{g}, "bump")
		}
		publish = p.Publish(ctx, InvalidationChannel, msg.encode())
		wait = r.awaitReplicas(ctx, p)
		return nil
	})
	if err == nil {
		for _, c := range cmds {
			if err = c.Err(); err != nil {
				break
			}
		}
	}
	if err == nil {
		err = r.replicated(wait)
	}
	if err != nil {
		return 0, fmt.Errorf("retire generations: %w", err)
	}
	return publish.Val(), nil
}

// Ack publishes the acknowledgements of invalidations this process
// applied, one pipeline for all of them.
func (r *Redis) Ack(ctx context.Context, acks []Ack) error {
	_, err := r.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, a := range acks {
			p.Publish(ctx, AckChannel(a.To), a.ID)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("acknowledge invalidations: %w", err)
	}
	return nil
}

// Probe publishes on the acknowledgement channel of process self, through
// the client (on the master), and answers how many subscribers got it: 1
// when self's subscription is on the server writers publish to.
func (r *Redis) Probe(ctx context.Context, self string) (int64, error) {
	n, err := r.client.Publish(ctx, AckChannel(self), probeID).Result()
	if err != nil {
		return 0, fmt.Errorf("probe the subscription: %w", err)
	}
	return n, nil
}

// probeID is the id of a probe's message: no write has it.
const probeID = "-"

// Listen subscribes to InvalidationChannel and to the acknowledgements of
// process self, and PINGs on the subscribing connection every interval
// while l wants it: a ping's answer comes after every message published
// before Redis read the ping. Any receive error ends the subscription
// (go-redis would quietly reconnect and lose what was published in
// between), so the listener hears Lost and a caller that listens again
// hears Subscribed on a clean slate.
func (r *Redis) Listen(ctx context.Context, self string, every time.Duration, l Listener) error {
	ps := r.client.Subscribe(ctx)
	defer ps.Close()
	acks := AckChannel(self)
	if err := ps.Subscribe(ctx, InvalidationChannel, acks); err != nil {
		return fmt.Errorf("subscribe to invalidations: %w", err)
	}
	// Close unblocks the receive below when ctx ends.
	stop := context.AfterFunc(ctx, func() { _ = ps.Close() })
	defer stop()
	pinging := make(chan struct{})
	defer func() { <-pinging }()
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		defer close(pinging)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-pctx.Done():
				return
			case <-t.C:
			}
			if l.Wanted() {
				// A failed ping shows up as a receive error.
				_ = ps.Ping(pctx, l.Tag())
			}
		}
	}()
	defer l.Lost()
	for {
		msg, err := ps.Receive(ctx)
		if err != nil {
			return fmt.Errorf("receive invalidations: %w", err)
		}
		switch m := msg.(type) {
		case *redis.Subscription:
			// Both channels are live once the second is (Redis confirms
			// them in order).
			if m.Kind == "subscribe" && m.Channel == acks {
				l.Subscribed()
			}
		case *redis.Message:
			if m.Channel == acks {
				l.Acked(m.Payload)
			} else {
				l.Invalidated(decodeInvalidation(m.Payload))
			}
		case *redis.Pong:
			l.Answered(m.Payload)
		}
	}
}
