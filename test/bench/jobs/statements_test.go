package jobs

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/etalase/etalase/adapters/memory"
	"github.com/etalase/etalase/adapters/postgres"
	"github.com/etalase/etalase/application"
	"github.com/etalase/etalase/domain"
	"github.com/etalase/etalase/test/pgtest"
	"github.com/etalase/etalase/test/testproc"
)

// BenchmarkStatementCeiling runs the reports' pipeline in this process on
// PostgreSQL alone: the burst's creations from burstClients callers
// through the create use case, a relay stepping through the outbox as
// fast as it fills, and the default number of workers running each report
// through its use case (one statement each), over a pool of a deployment's
// size; the queue between them is the in-memory twin of asynq. No HTTP, no
// Redis, no asynq: what is left is what PostgreSQL must do for a report on
// this machine, and the service's reports/s, measured in the same run, is
// a share of it.
func BenchmarkStatementCeiling(b *testing.B) {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, testproc.WithPoolMaxConns(pgtest.NewDatabase(b), benchPoolMaxConns, true))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pool.Close)
	store := postgres.NewStore(pool)
	catalog := application.NewCatalog(store)
	var cats []int64
	for i := range categories {
		c, err := store.Categories().Create(ctx, domain.CategoryFields{Name: fmt.Sprintf("Bench %d", i)})
		if err != nil {
			b.Fatal(err)
		}
		cats = append(cats, c.ID)
	}
	e := &env{db: pool}
	var seq atomic.Int64
	var elapsed time.Duration
	b.ResetTimer()
	for range b.N {
		floor := e.maxProductID(b)
		runCtx, stop := context.WithCancel(ctx)
		q := memory.NewQueue(0, time.Second)
		relay := application.NewRelay(store, q, 0)
		var bg sync.WaitGroup
		bg.Go(func() { relayUntil(runCtx, relay) })
		bg.Go(func() {
			// The workers' default concurrency with REPORT_DELAY=0.
			q.Run(runCtx, runtime.GOMAXPROCS(0)*64, application.NewReports(store, 0).HandleJob, application.Permanent)
		})
		start := time.Now()
		createFrom(b, burstClients, burstSize, func() error {
			n := seq.Add(1)
			_, err := catalog.CreateProduct(ctx, application.CreateProduct{RequestedBy: "bench", Fields: domain.ProductFields{
				Name: fmt.Sprintf("Bench product %d", n), Price: domain.Price(n%100000 + 1), Stock: n % 50,
				CategoryID: cats[n%int64(len(cats))]}})
			return err
		})
		elapsed += e.waitCompleted(b, floor).Sub(start)
		stop()
		bg.Wait()
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N*burstSize)/elapsed.Seconds(), "reports/s")
}

// relayUntil moves the outbox to the queue until ctx ends, looking again
// at once while there is more and after a millisecond when it is empty.
func relayUntil(ctx context.Context, relay *application.Relay) {
	for ctx.Err() == nil {
		if _, err := relay.Drain(ctx); err != nil && ctx.Err() == nil {
			time.Sleep(10 * time.Millisecond)
			continue
		}
		time.Sleep(time.Millisecond)
	}
}
