package cache

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/etalase/etalase/adapters/cache"
	"github.com/etalase/etalase/test/sentinelproc"
)

// TestSentinelFailoverUnderLoad fails the cache's Redis over in the middle
// of the two-process stale checker: gracefully (SENTINEL FAILOVER, where the
// old master goes on acknowledging writes until the sentinels reconfigure
// it, then forgets them), and by killing the master while its replica lags
// (frozen behind a filler larger than the sockets buffer), so that what the master acknowledged alone is gone. No read may
// return what an acknowledged write replaced, and no request may fail; with
// the shared cache only and with the local tier (the default), whose subscriptions
// must follow the master.
func TestSentinelFailoverUnderLoad(t *testing.T) {
	for _, tier := range []struct {
		name string
		env  map[string]string
	}{{"shared", sharedOnly}, {"local", nil}} {
		t.Run("graceful/"+tier.name, func(t *testing.T) {
			d := sentinelproc.Start(t)
			c := startCluster(t, 2, d.Env(tier.env))
			st := runLoad(t, c, 16*time.Second, map[time.Duration]func(){
				3 * time.Second: func() {
					old := d.Master()
					begin := time.Now()
					now := d.Failover()
					t.Logf("failover from %s to %s in %v", old.Addr(), now.Addr(), time.Since(begin))
					// Until the sentinels turn the old master into a replica
					// of the new one (they look every 10 s), no write has a
					// replica to acknowledge it and every write bumps the
					// epoch: the window the cache is bypassed in.
					d.WaitReplicas(now, 1, 30*time.Second)
					t.Logf("the new master has a replica %v after the failover began", time.Since(begin))
				},
			})
			t.Logf("SENTINEL FAILOVER at 3s of 16s: %v", st)
			st.check(t)
		})
		t.Run("kill-lagging/"+tier.name, func(t *testing.T) {
			d := sentinelproc.Start(t)
			c := startCluster(t, 2, d.Env(tier.env))
			st := runLoad(t, c, 16*time.Second, map[time.Duration]func(){
				3 * time.Second: func() {
					old, replica := d.Nodes[0], d.Nodes[1]
					d.Lag(old, replica)
					time.Sleep(600 * time.Millisecond) // writes the replica never sees
					old.Kill()
					replica.Thaw()
					begin := time.Now()
					now := d.WaitNewMaster(old, 30*time.Second)
					t.Logf("master %s killed while %s lagged; %s promoted after %v", old.Addr(), replica.Addr(), now.Addr(), time.Since(begin))
					old.RestartAsReplicaOf(now)
					d.WaitReplicas(now, 1, 30*time.Second)
					t.Logf("the new master has a replica %v after the kill", time.Since(begin))
				},
			})
			t.Logf("master killed at 3.6s of 16s, replica frozen from 3s: %v", st)
			st.check(t)
		})
	}
}

// TestSentinelDemotionClosesSubscriptions is what the local tier's argument
// behind Sentinel rests on: when the sentinels turn the old master into a
// replica of the new one, they close its pub/sub connections in the same
// step, so no process stays subscribed where a write's PUBLISH is not
// counted. A subscriber on the master sees its connection end, and the
// demoted master has no pub/sub client left.
func TestSentinelDemotionClosesSubscriptions(t *testing.T) {
	d := sentinelproc.Start(t)
	old := d.Master()
	client := redis.NewClient(&redis.Options{Addr: old.Addr()})
	t.Cleanup(func() { _ = client.Close() })
	ctx := context.Background()
	ps := client.Subscribe(ctx, cache.InvalidationChannel)
	t.Cleanup(func() { _ = ps.Close() })
	if _, err := ps.Receive(ctx); err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	ended := make(chan error, 1)
	go func() {
		for {
			if _, err := ps.Receive(ctx); err != nil {
				ended <- err
				return
			}
		}
	}()
	now := d.Failover()
	d.WaitReplicas(now, 1, 30*time.Second) // the old master is a replica now
	select {
	case err := <-ended:
		t.Logf("the subscription on the demoted master ended: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("the subscription on the demoted master is still open 5 s after it became a replica")
	}
	// go-redis would quietly subscribe again, on the replica, as etalase's
	// Listen does not: it returns, and subscribes through the Sentinel
	// client, on the new master.
	_ = ps.Close()
	time.Sleep(100 * time.Millisecond)
	admin := redis.NewClient(&redis.Options{Addr: old.Addr()})
	t.Cleanup(func() { _ = admin.Close() })
	list, err := admin.ClientList(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(list, "\n") {
		// The sentinels' own subscriptions (to their hello channel) stay.
		if (strings.Contains(line, " sub=1") || strings.Contains(line, " flags=P")) && !strings.Contains(line, " name=sentinel-") {
			t.Errorf("a pub/sub client is left on the demoted master: %s", line)
		}
	}
}
