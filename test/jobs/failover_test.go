package jobs

import (
	"strconv"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/etalase/etalase/test/sentinelproc"
)

// TestJobsSurviveFailoverWithLaggingReplica creates products while the
// queue's replica lags (frozen), then kills the master: the jobs the relay
// handed to the master alone are gone with it. Every report must still
// complete, within seconds of the switch and with the sweeper out of the
// way: an enqueue counts only once a replica holds it, so those jobs were
// never marked sent and the relay hands them to the new master.
func TestJobsSurviveFailoverWithLaggingReplica(t *testing.T) {
	d := sentinelproc.Start(t)
	c := newCluster(t, d.Env(noSweep))
	old, replica := d.Nodes[0], d.Nodes[1]
	// The queue is paused (and the pause replicated) so that the jobs wait
	// in Redis, where the failover can lose them, instead of finishing.
	pause(t, old, true)
	d.WaitReplicas(old, 1, 10*time.Second)
	c.startAPI()
	c.startWorker(nil)
	d.Lag(old, replica)
	for i := range 20 {
		c.mustCreate("/products", c.product("LAG-"+strconv.Itoa(i)))
	}
	time.Sleep(1500 * time.Millisecond) // the relay hands them to the master
	old.Kill()
	replica.Thaw()
	now := d.WaitNewMaster(old, 30*time.Second)
	switched := time.Now()
	old.RestartAsReplicaOf(now)
	pause(t, now, false)
	s := c.waitAllCompleted(30 * time.Second)
	t.Logf("%d products, %d reports completed %.1fs after the new master was named",
		s.Products, s.Completed, time.Since(switched).Seconds())
}

// pause pauses or resumes the report queue on one Redis node.
func pause(t *testing.T, node *sentinelproc.Node, paused bool) {
	t.Helper()
	ins := asynq.NewInspector(asynq.RedisClientOpt{Addr: node.Addr()})
	defer ins.Close()
	var err error
	if paused {
		err = ins.PauseQueue("report")
	} else {
		err = ins.UnpauseQueue("report")
	}
	if err != nil {
		t.Fatalf("pause=%t the report queue on %s: %v", paused, node.Addr(), err)
	}
}
