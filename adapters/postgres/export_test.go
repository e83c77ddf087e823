package postgres

// ListProductsQuery exposes the list statement to the plan test.
var ListProductsQuery = listProductsQuery

// ReportSummaryQuery exposes the report's summary statement to the plan test.
var ReportSummaryQuery = reportSummary

// FinishBatches reports how a store's report jobs shared statements: the
// statements its batcher ran, the jobs they answered, and now the jobs
// waiting for a statement and the slots held.
func FinishBatches(s *Store) (statements, jobs, waiting, running int) {
	b := s.finishes
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.stats.statements, b.stats.jobs, len(b.waiting), b.running
}

// FinishSlots is how many finishing statements a store runs at once.
const FinishSlots = finishSlots
