package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/etalase/etalase/domain"
)

// IdempotencyStore keeps idempotency records in table idempotency_keys. A
// key is held by a transaction-scoped advisory lock on a hash of scope and
// key, so two processes never run the same keyed create at once.
type IdempotencyStore struct {
	db   querier
	inTx bool
}

var _ domain.IdempotencyStore = (*IdempotencyStore)(nil)

// idempotencyRow is a row of idempotency_keys; Product is the jsonb
// document of a productSnapshot.
type idempotencyRow struct {
	Scope       string
	Key         string
	Fingerprint string
	Product     []byte
	CreatedAt   time.Time
}

// productSnapshot is the stored form of the product a keyed create made,
// replayed as it was then. A snapshot saved before products carried their
// category's version reads it as 0, which no category has: the replayed
// ETag then matches nothing, so a conditional request that sends it is
// answered in full or refused, never wrongly confirmed.
type productSnapshot struct {
	ID              int64     `json:"id"`
	SKU             *string   `json:"sku"`
	Name            string    `json:"name"`
	Description     *string   `json:"description"`
	PriceCents      int64     `json:"priceCents"`
	Stock           int64     `json:"stock"`
	CategoryID      int64     `json:"categoryId"`
	CategoryName    string    `json:"categoryName"`
	CategoryVersion int64     `json:"categoryVersion"`
	Version         int64     `json:"version"`
	CreatedAt       time.Time `json:"createdAt"`
	UpdatedAt       time.Time `json:"updatedAt"`
}

func snapshotFromDomain(p domain.Product) productSnapshot {
	return productSnapshot{
		ID:              p.ID,
		SKU:             p.SKU,
		Name:            p.Name,
		Description:     p.Description,
		PriceCents:      int64(p.Price),
		Stock:           p.Stock,
		CategoryID:      p.CategoryID,
		CategoryName:    p.CategoryName,
		CategoryVersion: p.CategoryVersion,
		Version:         p.Version,
		CreatedAt:       p.CreatedAt.UTC(),
		UpdatedAt:       p.UpdatedAt.UTC(),
	}
}

func (s productSnapshot) toDomain() domain.Product {
	return domain.Product{
		ID:              s.ID,
		SKU:             s.SKU,
		Name:            s.Name,
		Description:     s.Description,
		Price:           domain.Price(s.PriceCents),
		Stock:           s.Stock,
		CategoryID:      s.CategoryID,
		CategoryName:    s.CategoryName,
		CategoryVersion: s.CategoryVersion,
		Version:         s.Version,
		CreatedAt:       s.CreatedAt.UTC(),
		UpdatedAt:       s.UpdatedAt.UTC(),
	}
}

func (r idempotencyRow) toDomain() (domain.IdempotencyRecord, error) {
	var snap productSnapshot
	if err := json.Unmarshal(r.Product, &snap); err != nil {
		return domain.IdempotencyRecord{}, fmt.Errorf("postgres: decode idempotency record: %w", err)
	}
	return domain.IdempotencyRecord{
		Scope:       r.Scope,
		Key:         r.Key,
		Fingerprint: r.Fingerprint,
		Product:     snap.toDomain(),
		CreatedAt:   r.CreatedAt.UTC(),
	}, nil
}

// errNotInTx is returned by Begin outside a transaction: without one, the
// key's lock would be released at once.
var errNotInTx = errors.New("postgres: idempotency Begin must run inside a transaction")

// Begin takes the key for the rest of the caller's transaction, or fails
// with KindConflict while another transaction holds it. It then returns the
// record created at or after notBefore, if any; an older one is left for
// Save to replace.
func (s *IdempotencyStore) Begin(ctx context.Context, scope, key string, notBefore time.Time) (domain.IdempotencyRecord, bool, error) {
	const (
		lock = `SELECT pg_try_advisory_xact_lock(hashtextextended($1 || ':' || $2, 0))`
		find = `SELECT scope, key, fingerprint, product, created_at FROM idempotency_keys
			WHERE scope = $1 AND key = $2 AND created_at >= $3`
	)
	if !s.inTx {
		return domain.IdempotencyRecord{}, false, errNotInTx
	}
	var locked bool
	if err := s.db.QueryRow(ctx, lock, scope, key).Scan(&locked); err != nil {
		return domain.IdempotencyRecord{}, false, mapError("postgres: lock idempotency key", err)
	}
	if !locked {
		return domain.IdempotencyRecord{}, false, domain.Conflict("a request with this Idempotency-Key is still in progress")
	}
	var row idempotencyRow
	err := s.db.QueryRow(ctx, find, scope, key, notBefore).Scan(&row.Scope, &row.Key, &row.Fingerprint, &row.Product, &row.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return domain.IdempotencyRecord{}, false, nil
	}
	if err != nil {
		return domain.IdempotencyRecord{}, false, mapError("postgres: find idempotency key", err)
	}
	rec, err := row.toDomain()
	if err != nil {
		return domain.IdempotencyRecord{}, false, err
	}
	return rec, true, nil
}

// Save stores r, replacing the expired record of the same key, if any: the
// caller holds the key (Begin) and found no live record. Its creation time
// defaults to now.
func (s *IdempotencyStore) Save(ctx context.Context, r domain.IdempotencyRecord) error {
	const q = `INSERT INTO idempotency_keys (scope, key, fingerprint, product, created_at)
		VALUES ($1, $2, $3, $4, coalesce($5, now()))
		ON CONFLICT (scope, key) DO UPDATE
		SET fingerprint = EXCLUDED.fingerprint, product = EXCLUDED.product, created_at = EXCLUDED.created_at`
	doc, err := json.Marshal(snapshotFromDomain(r.Product))
	if err != nil {
		return fmt.Errorf("postgres: encode idempotency record: %w", err)
	}
	var created *time.Time
	if !r.CreatedAt.IsZero() {
		created = &r.CreatedAt
	}
	if _, err := s.db.Exec(ctx, q, r.Scope, r.Key, r.Fingerprint, doc, created); err != nil {
		return mapError("postgres: save idempotency key", err)
	}
	return nil
}
