package cache

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestRoundsBeginAfterTheCallerAsked: a caller that arrives while a run is
// going is not served by it, but by a later run whose input includes its
// own; callers arriving together share that one run.
func TestRoundsBeginAfterTheCallerAsked(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	started := make(chan []string, 10)
	var runs [][]string
	var mu sync.Mutex
	r := rounds[string]{timeout: time.Minute, run: func(ctx context.Context, in []string) (string, error) {
		mu.Lock()
		runs = append(runs, in)
		mu.Unlock()
		started <- in
		<-release
		return strings.Join(in, ","), nil
	}}

	first := make(chan string, 1)
	go func() { out, _ := r.do("a"); first <- out }()
	if in := <-started; !slices.Equal(in, []string{"a"}) {
		t.Fatalf("the first run got %v, want [a]", in)
	}
	// Three callers arrive while the first run is going.
	later := make(chan string, 3)
	var joined sync.WaitGroup
	for _, in := range []string{"b", "c", "a"} {
		joined.Go(func() { out, _ := r.do(in); later <- out })
	}
	// Let them join the next round before the first run ends.
	deadline := time.Now().Add(10 * time.Second)
	for {
		r.mu.Lock()
		n := 0
		if r.next != nil {
			n = len(r.next.in)
		}
		r.mu.Unlock()
		if n == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the callers did not join the next round")
		}
		time.Sleep(time.Millisecond)
	}
	release <- struct{}{}
	if out := <-first; out != "a" {
		t.Fatalf("the first caller got %q, want the first run's a", out)
	}
	if in := <-started; !slices.Equal(in, []string{"a", "b", "c"}) {
		t.Fatalf("the second run got %v, want the union [a b c]", in)
	}
	close(release)
	joined.Wait()
	close(later)
	for out := range later {
		if out != "a,b,c" {
			t.Errorf("a later caller got %q, want the second run's a,b,c", out)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(runs) != 2 {
		t.Errorf("%d runs for four callers (%v), want 2", len(runs), runs)
	}
}
