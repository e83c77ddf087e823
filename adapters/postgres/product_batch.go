package postgres

// Concurrent creations share their statement (batch.go): a creation is one
// statement inserting a product and its queued report, and a commit.
//
// The shared statement inserts every creation's product and report, as
// each creation's own would. The products' ids are drawn from their
// identity's sequence first, so each creation is matched to its rows by id
// rather than by the order RETURNING happens to give. When it is refused (a
// SKU taken, by another product or by another creation of the batch; a
// category that does not exist), nothing was inserted and each creation
// runs its own statement, getting its own answer and error.

import (
	"context"
	"errors"
)

// createBatch inserts many products, each with its queued report: $1 to $6
// are the products' fields as insertProduct takes them, $7 and $8 the
// reports' requesters and request ids. It answers, per creation found, its
// position (from 1) and the columns of createAlone's answer.
const createBatch = `WITH j AS (
			SELECT x.*, nextval(pg_get_serial_sequence('products', 'id')) AS id
			FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[], $7::text[], $8::text[])
				WITH ORDINALITY AS x(sku, name, description, price_cents, stock, category_id, requested_by, request_id, n)),
		p AS (
			INSERT INTO products (id, sku, name, description, price_cents, stock, category_id) OVERRIDING SYSTEM VALUE
			SELECT id, sku, name, description, price_cents, stock, category_id FROM j ORDER BY n
			RETURNING *),
		r AS (
			INSERT INTO reports (product_id, requested_by, request_id)
			SELECT p.id, j.requested_by, nullif(j.request_id, '') FROM p JOIN j ON j.id = p.id ORDER BY j.n
			RETURNING ` + reportColumns + `)
		SELECT j.n, ` + productColumns + `, r.*
		FROM j JOIN p ON p.id = j.id JOIN categories c ON c.id = p.category_id JOIN r ON r.product_id = p.id
		ORDER BY j.n`

// newCreateBatcher shares the creations run on db, the pool. queued wakes
// the relays after a shared statement committed, for the reports of callers
// that left while it ran (the others wake them too; the wakes coalesce).
func newCreateBatcher(db querier, queued func()) *batcher[creation, created] {
	return newBatcher("postgres: create product",
		func(ctx context.Context, c creation) (created, error) { return createAlone(ctx, db, c) },
		func(ctx context.Context, cs []creation) ([]created, error) {
			out, err := createTogether(ctx, db, cs)
			if err == nil {
				queued()
			}
			return out, err
		})
}

// createTogether runs createBatch for cs.
func createTogether(ctx context.Context, db querier, cs []creation) ([]created, error) {
	const op = "postgres: create products"
	var (
		skus, descriptions    = make([]*string, len(cs)), make([]*string, len(cs))
		names, by, requestIDs = make([]string, len(cs)), make([]string, len(cs)), make([]string, len(cs))
		prices, stocks, cats  = make([]int64, len(cs)), make([]int64, len(cs)), make([]int64, len(cs))
	)
	for i, c := range cs {
		f := c.fields
		skus[i], names[i], descriptions[i], prices[i], stocks[i], cats[i] = f.SKU, f.Name, f.Description, int64(f.Price), f.Stock, f.CategoryID
		by[i], requestIDs[i] = c.requestedBy, c.requestID
	}
	rows, err := db.Query(ctx, createBatch, skus, names, descriptions, prices, stocks, cats, by, requestIDs)
	if err != nil {
		return nil, sharedError(op, err)
	}
	defer rows.Close()
	out := make([]created, len(cs))
	for rows.Next() {
		var (
			n int
			c created
		)
		if err := rows.Scan(append([]any{&n}, append(c.product.dest(), c.report.dest()...)...)...); err != nil {
			return nil, sharedError(op, err)
		}
		if n < 1 || n > len(cs) {
			return nil, errors.New("postgres: the shared creation answered a position it was not given")
		}
		c.ok = true
		out[n-1] = c
	}
	if err := rows.Err(); err != nil {
		return nil, sharedError(op, err)
	}
	return out, nil
}
