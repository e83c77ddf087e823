package cache

import (
	"slices"
	"testing"
)

func TestInvalidationMessages(t *testing.T) {
	t.Parallel()
	m := Invalidation{From: "p1", ID: "7", Gens: []string{"etalase:gen:product:1", "etalase:gen:products"}}
	if got := decodeInvalidation(m.encode()); got.From != m.From || got.ID != m.ID || !slices.Equal(got.Gens, m.Gens) {
		t.Fatalf("round trip of %+v: %+v", m, got)
	}
	// An older process's message: generations only, nobody to acknowledge.
	if got := decodeInvalidation("etalase:gen:products etalase:gen:category-names"); got.From != "" || len(got.Gens) != 2 {
		t.Fatalf("an older message: %+v", got)
	}
}

// A write waits for as many acknowledgements as the publish counted, some
// of which may arrive before the publish answered; duplicates and late
// ones change nothing.
func TestAckWaits(t *testing.T) {
	t.Parallel()
	var a ackWaits
	id, w := a.expect()
	a.ack(id) // before the publish answered
	if !a.need(w, 3) {
		t.Fatal("done with 1 of 3 acknowledgements")
	}
	a.ack(id)
	select {
	case <-w.done:
		t.Fatal("done with 2 of 3")
	default:
	}
	a.ack(id)
	<-w.done
	a.ack(id) // one more: no second close
	a.forget(id)
	a.ack(id) // after the write returned

	id2, w2 := a.expect()
	if id2 == id {
		t.Fatal("two writes share an id")
	}
	a.ack(id2)
	if a.need(w2, 1) {
		t.Fatal("still waiting with every acknowledgement in")
	}
	if _, w3 := a.expect(); a.need(w3, 0) {
		t.Fatal("waiting for a publish that reached nobody")
	}
}
