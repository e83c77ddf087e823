package postgres_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/etalase/etalase/domain"
	"github.com/etalase/etalase/test/pgtest"
)

// BenchmarkRelay measures relaying one job in the small batches a busy
// relay claims (five rows a step), from a filled outbox to a queue that
// accepts everything.
func BenchmarkRelay(b *testing.B) {
	ctx := context.Background()
	s := pgtest.NewStore(b)
	err := s.InTx(ctx, func(tx domain.Store) error {
		for i := 0; i < b.N; i++ {
			job := domain.Job{ID: fmt.Sprintf("job-%d", i), Type: domain.JobGenerateReport,
				Queue: domain.QueueReport, Payload: []byte(`{"productId":1,"reportId":1,"requestedBy":"bench"}`)}
			if err := tx.Outbox().Add(ctx, job); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatalf("fill outbox: %v", err)
	}
	accept := func(context.Context, domain.Job) error { return nil }
	b.ResetTimer()
	for relayed := 0; relayed < b.N; {
		n, err := s.Outbox().Relay(ctx, 5, accept)
		if err != nil {
			b.Fatalf("Relay: %v", err)
		}
		if n == 0 {
			b.Fatalf("Relay sent nothing with %d of %d jobs left", b.N-relayed, b.N)
		}
		relayed += n
	}
}
