package postgres

// ListProductsQuery exposes the list statement to the plan test.
var ListProductsQuery = listProductsQuery

// ReportSummaryQuery exposes the report's summary statement to the plan test.
var ReportSummaryQuery = reportSummary

// FinishBatches reports how a store's report jobs shared statements: the
// statements its batcher ran, the jobs they answered, and now the jobs
// waiting for a statement and the slots held.
func FinishBatches(s *Store) (statements, jobs, waiting, running int) {
	st, waiting, running := s.finishes.snapshot()
	return st.statements, st.calls, waiting, running
}

// BatchSlots is how many statements of one kind a store runs at once.
const BatchSlots = batchSlots

// CreateBatches is FinishBatches for a store's creations.
func CreateBatches(s *Store) (statements, creations, waiting, running int) {
	st, waiting, running := s.creates.snapshot()
	return st.statements, st.calls, waiting, running
}
