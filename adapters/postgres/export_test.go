package postgres

// ListProductsQuery exposes the list statement to the plan test.
var ListProductsQuery = listProductsQuery

// ReportSummaryQuery exposes the report's summary statement to the plan test.
const ReportSummaryQuery = reportSummary
