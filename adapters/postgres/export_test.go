package postgres

// ListProductsQuery exposes the list statement to the plan test.
var ListProductsQuery = listProductsQuery
