package cache

import (
	"strconv"
	"testing"
	"time"
)

// liveLocal returns a tier whose subscription has just answered a ping.
func liveLocal(t *testing.T, entries int) *localTier {
	t.Helper()
	n := newLocalTier(LocalConfig{Entries: entries, Window: time.Hour})
	n.Subscribed()
	n.confirm(n.subscription())
	n.Answered(n.Tag())
	return n
}

func TestLocalServesOnlyWhileAPingIsRecent(t *testing.T) {
	t.Parallel()
	// A window long enough that a busy machine does not age a fresh ping.
	n := newLocalTier(LocalConfig{Entries: 10, Window: 500 * time.Millisecond})
	n.put("k", []string{"g"}, []byte("v"), 1, time.Hour, n.mark())
	if _, ok := n.get("k", 1); ok {
		t.Fatal("served before any ping was answered")
	}
	n.Answered(n.Tag())
	if v, ok := n.get("k", 1); !ok || string(v) != "v" {
		t.Fatalf("get = %q, %v right after a ping was answered", v, ok)
	}
	sent := n.Tag()
	time.Sleep(600 * time.Millisecond)
	n.Answered(sent) // answered now, but sent more than a window ago
	if _, ok := n.get("k", 1); ok {
		t.Fatal("served on a ping sent more than a window ago")
	}
	n.Answered(n.Tag())
	if _, ok := n.get("k", 1); !ok {
		t.Fatal("not served after a fresh ping")
	}
	n.Lost()
	if _, ok := n.get("k", 1); ok {
		t.Fatal("served after the subscription was lost")
	}
}

func TestLocalAnsweredNeverGoesBack(t *testing.T) {
	t.Parallel()
	n := newLocalTier(LocalConfig{Entries: 10})
	newer := n.Tag()
	time.Sleep(time.Millisecond)
	n.Answered(n.Tag())
	after := n.answered.Load()
	n.Answered(newer)
	for _, bad := range []string{"", "x", "-5", "0"} {
		n.Answered(bad)
	}
	if got := n.answered.Load(); got != after {
		t.Fatalf("answered moved from %d to %d", after, got)
	}
}

func TestLocalInvalidateDropsWhatDependsOnTheGenerations(t *testing.T) {
	t.Parallel()
	n := liveLocal(t, 100)
	m := n.mark()
	n.put("item:1", []string{"gen:product:1", "gen:names"}, []byte("1"), 1, time.Hour, m)
	n.put("item:2", []string{"gen:product:2", "gen:names"}, []byte("2"), 1, time.Hour, m)
	n.put("list", []string{"gen:products", "gen:names"}, []byte("l"), 1, time.Hour, m)
	n.invalidate([]string{"gen:product:1", "gen:products"})
	for key, want := range map[string]bool{"item:1": false, "item:2": true, "list": false} {
		if _, ok := n.get(key, 1); ok != want {
			t.Errorf("%s served = %v, want %v", key, ok, want)
		}
	}
	n.invalidate([]string{"gen:names"})
	if n.size() != 0 || len(n.byGen) != 0 {
		t.Errorf("after retiring every generation: %d entries, index %v", n.size(), n.byGen)
	}
}

func TestLocalRefusesPutsOfReadsOlderThanAnInvalidation(t *testing.T) {
	t.Parallel()
	n := liveLocal(t, 100)
	m := n.mark()
	n.invalidate([]string{"gen:other"}) // any invalidation, after the read began
	n.put("k", []string{"g"}, []byte("old"), 1, time.Hour, m)
	if _, ok := n.get("k", 1); ok {
		t.Fatal("a read that began before an invalidation was stored")
	}
	n.put("k", []string{"g"}, []byte("new"), 1, time.Hour, n.mark())
	if v, ok := n.get("k", 1); !ok || string(v) != "new" {
		t.Fatalf("get = %q, %v", v, ok)
	}
}

func TestLocalObserveRetiresOnANewerGeneration(t *testing.T) {
	t.Parallel()
	n := liveLocal(t, 100)
	n.observe([]string{"g"}, []int64{5})
	m := n.mark()
	n.put("k", []string{"g"}, []byte("v5"), 1, time.Hour, m)
	n.observe([]string{"g"}, []int64{5})
	if _, ok := n.get("k", 1); !ok {
		t.Fatal("the same generation retired the entry")
	}
	inflight := n.mark()
	n.observe([]string{"g"}, []int64{6})
	if _, ok := n.get("k", 1); ok {
		t.Fatal("an entry of generation 5 was served after 6 was read")
	}
	n.put("k", []string{"g"}, []byte("v5"), 1, time.Hour, inflight)
	if _, ok := n.get("k", 1); ok {
		t.Fatal("a read that began before generation 6 was seen was stored")
	}
	n.observe([]string{"g"}, []int64{4}) // an older value read late changes nothing
	if n.known["g"] != 6 {
		t.Fatalf("known generation = %d, want 6", n.known["g"])
	}
}

func TestLocalChecksEpochAndExpiry(t *testing.T) {
	t.Parallel()
	n := liveLocal(t, 100)
	n.put("k", []string{"g"}, []byte("v"), 3, time.Hour, n.mark())
	n.put("short", []string{"g"}, []byte("v"), 3, time.Nanosecond, n.mark())
	if _, ok := n.get("k", 4); ok {
		t.Error("an entry of epoch 3 was served in epoch 4")
	}
	if _, ok := n.get("short", 3); ok {
		t.Error("an expired entry was served")
	}
}

func TestLocalStaysWithinItsSize(t *testing.T) {
	t.Parallel()
	n := liveLocal(t, 64)
	for i := range 1000 {
		key := "k" + strconv.Itoa(i)
		n.put(key, []string{"g" + strconv.Itoa(i%7)}, []byte(key), 1, time.Hour, n.mark())
		if n.size() > 64 {
			t.Fatalf("%d entries after %d puts, bound 64", n.size(), i+1)
		}
	}
	if v, ok := n.get("k999", 1); !ok || string(v) != "k999" {
		t.Fatalf("the newest entry: %q, %v", v, ok)
	}
	indexed := 0
	for _, keys := range n.byGen {
		indexed += len(keys)
	}
	if indexed != n.size() {
		t.Fatalf("the index holds %d keys for %d entries", indexed, n.size())
	}
}

// The tier is bounded in bytes whatever the values' sizes: entries of
// every size from a few bytes to more than the bound never hold more than
// it, the count of bytes held is exact after drops and replacements, and a
// value larger than an eighth of the bound is not kept at all.
func TestLocalStaysWithinItsBytes(t *testing.T) {
	t.Parallel()
	const bound = 1 << 20
	n := newLocalTier(LocalConfig{Entries: 1_000_000, Bytes: bound, Window: time.Hour})
	n.Subscribed()
	n.confirm(n.subscription())
	n.Answered(n.Tag())
	for i := range 5000 {
		key := "k" + strconv.Itoa(i%900)
		value := make([]byte, (i*7919)%(bound/6))
		n.put(key, []string{"g" + strconv.Itoa(i%13)}, value, 1, time.Hour, n.mark())
		if held := n.held(); held > bound {
			t.Fatalf("%d bytes held after %d puts, bound %d", held, i+1, bound)
		}
		if i%500 == 0 {
			n.invalidate([]string{"g" + strconv.Itoa(i%13)})
		}
	}
	var sum int64
	for key, e := range n.entries {
		sum += entryCost(key, e.gens, e.value)
	}
	if sum != n.held() {
		t.Fatalf("held says %d bytes, the entries take %d", n.held(), sum)
	}
	n.put("huge", []string{"g"}, make([]byte, bound/8), 1, time.Hour, n.mark())
	if _, ok := n.get("huge", 1); ok {
		t.Fatal("a value of an eighth of the bound was kept")
	}
	n.Lost()
	if n.held() != 0 {
		t.Fatalf("%d bytes held after the subscription was lost", n.held())
	}
}

// A new subscription serves nothing until it is confirmed on the master,
// and a confirmation of an older one does not count.
func TestLocalServesOnlyAConfirmedSubscription(t *testing.T) {
	t.Parallel()
	n := newLocalTier(LocalConfig{Entries: 10, Window: time.Hour})
	n.Subscribed()
	old := n.subscription()
	n.put("k", []string{"g"}, []byte("v"), 1, time.Hour, n.mark())
	n.Answered(n.Tag())
	if _, ok := n.get("k", 1); ok {
		t.Fatal("served before the subscription was confirmed")
	}
	n.Lost()
	n.Subscribed()
	n.confirm(old)
	n.put("k", []string{"g"}, []byte("v"), 1, time.Hour, n.mark())
	n.Answered(n.Tag())
	if _, ok := n.get("k", 1); ok {
		t.Fatal("served on the confirmation of an older subscription")
	}
	n.confirm(n.subscription())
	if _, ok := n.get("k", 1); !ok {
		t.Fatal("not served once confirmed")
	}
}

func TestLocalSubscribedStartsClean(t *testing.T) {
	t.Parallel()
	n := liveLocal(t, 10)
	m := n.mark()
	n.put("k", []string{"g"}, []byte("v"), 1, time.Hour, m)
	n.observe([]string{"g"}, []int64{9})
	n.Subscribed() // a new subscription: what was published meanwhile is unknown
	if n.size() != 0 || len(n.known) != 0 {
		t.Fatalf("after a new subscription: %d entries, known %v", n.size(), n.known)
	}
	if _, ok := n.get("k", 1); ok {
		t.Fatal("served before a ping on the new subscription was answered")
	}
}

func TestLocalConfigDefaults(t *testing.T) {
	t.Parallel()
	c := LocalConfig{Entries: 1}.withDefaults()
	if c.Window != 10*time.Millisecond || c.PingEvery != c.Window/4 {
		t.Fatalf("defaults = %+v", c)
	}
	if w := c.writeWait(); w <= c.Window {
		t.Fatalf("a write waits %v, not longer than the window %v", w, c.Window)
	}
	if c := (LocalConfig{Window: time.Second, PingEvery: time.Hour}).withDefaults(); c.PingEvery != 250*time.Millisecond {
		t.Fatalf("a ping slower than a quarter window was kept: %v", c.PingEvery)
	}
}
