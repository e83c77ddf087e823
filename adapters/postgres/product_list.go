package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/etalase/etalase/domain"
)

// The constant parts of a product list query: the select, and the filters
// by category and by name (%s: the pattern's placeholder).
const (
	listProducts = `SELECT ` + productColumns + `
		FROM products p JOIN categories c ON c.id = p.category_id`
	filterCategory = `p.category_id = `
	filterName     = `lower(p.name) LIKE '%%' || lower(%s) || '%%' ESCAPE '\'`
)

// productOrder is how a list in one sort pages: the keyset condition
// selecting rows strictly after the cursor in the sort's direction
// (%[1]s: the key's placeholder, %[2]s: the id's), and the ORDER BY. Both
// are on (sort column, id), so an index of the migration serves them.
type productOrder struct {
	after   string
	orderBy string
}

// productOrders holds the order of every sort a list accepts.
var productOrders = map[domain.Sort]productOrder{
	{Field: domain.SortByID}:                    {`p.id > %[2]s`, `p.id`},
	{Field: domain.SortByID, Desc: true}:        {`p.id < %[2]s`, `p.id DESC`},
	{Field: domain.SortByName}:                  {`(p.name COLLATE "C", p.id) > (%[1]s, %[2]s)`, `p.name COLLATE "C", p.id`},
	{Field: domain.SortByName, Desc: true}:      {`(p.name COLLATE "C", p.id) < (%[1]s, %[2]s)`, `p.name COLLATE "C" DESC, p.id DESC`},
	{Field: domain.SortByPrice}:                 {`(p.price_cents, p.id) > (%[1]s, %[2]s)`, `p.price_cents, p.id`},
	{Field: domain.SortByPrice, Desc: true}:     {`(p.price_cents, p.id) < (%[1]s, %[2]s)`, `p.price_cents DESC, p.id DESC`},
	{Field: domain.SortByCreatedAt}:             {`(p.created_at, p.id) > (%[1]s, %[2]s)`, `p.created_at, p.id`},
	{Field: domain.SortByCreatedAt, Desc: true}: {`(p.created_at, p.id) < (%[1]s, %[2]s)`, `p.created_at DESC, p.id DESC`},
}

// List returns one keyset page: rows after q.After in q.Sort's order,
// filtered by category and name. It reads one row more than the page to
// know whether a next page exists.
func (r *ProductRepo) List(ctx context.Context, q domain.ProductQuery) (domain.ProductPage, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = domain.DefaultPageSize
	}
	sql, args, err := listProductsQuery(q, limit+1)
	if err != nil {
		return domain.ProductPage{}, err
	}
	rows, err := r.db.Query(ctx, sql, args...)
	if err != nil {
		return domain.ProductPage{}, mapError("postgres: list products", err)
	}
	items, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (domain.Product, error) {
		p, err := scanProduct(row)
		return p.toDomain(), err
	})
	if err != nil {
		return domain.ProductPage{}, mapError("postgres: list products", err)
	}
	page := domain.ProductPage{Items: items}
	if len(items) > limit {
		page.Items = items[:limit]
		last := page.Items[limit-1]
		next := q.Sort.CursorAt(last)
		page.Next = &next
	}
	return page, nil
}

// listProductsQuery assembles the list statement of q from the constant
// parts above, reading at most fetch rows, and returns it with its
// arguments. Values only ever travel as arguments.
func listProductsQuery(q domain.ProductQuery, fetch int) (string, []any, error) {
	order, ok := productOrders[q.Sort]
	if !ok {
		return "", nil, domain.Invalid("bad sort", domain.FieldError{Field: "sort", Message: "is not a sort this list knows"})
	}
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	var where []string
	if q.CategoryID != 0 {
		where = append(where, filterCategory+arg(q.CategoryID))
	}
	if q.Q != "" {
		where = append(where, fmt.Sprintf(filterName, arg(escapeLike(q.Q))))
	}
	if q.After != nil {
		after, err := q.After.Position(q.Sort.Field)
		if err != nil {
			return "", nil, err
		}
		key := sortValue(q.Sort.Field, after)
		keyPlaceholder := ""
		if key != nil {
			keyPlaceholder = arg(key)
		}
		where = append(where, fmt.Sprintf(order.after, keyPlaceholder, arg(q.After.ID)))
	}
	var sql strings.Builder
	sql.WriteString(listProducts)
	if len(where) > 0 {
		sql.WriteString("\n\t\tWHERE ")
		sql.WriteString(strings.Join(where, " AND "))
	}
	sql.WriteString("\n\t\tORDER BY ")
	sql.WriteString(order.orderBy)
	sql.WriteString("\n\t\tLIMIT ")
	sql.WriteString(arg(fetch))
	return sql.String(), args, nil
}

// sortValue is the value of p the keyset condition compares for a sort
// by f, as the query argument of its column; sorting by id has none (nil).
func sortValue(f domain.SortField, p domain.Product) any {
	switch f {
	case domain.SortByName:
		return p.Name
	case domain.SortByPrice:
		return int64(p.Price)
	case domain.SortByCreatedAt:
		return p.CreatedAt
	default:
		return nil
	}
}

// escapeLike makes s match itself literally inside a LIKE pattern whose
// escape character is the backslash.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
