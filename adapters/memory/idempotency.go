package memory

import (
	"context"
	"time"

	"github.com/etalase/etalase/domain"
)

var _ domain.IdempotencyStore = idempotency{}

// idempotency is the IdempotencyStore of a Store. Because InTx serializes
// transactions, a key Begin holds is never contended: a second caller waits
// for the first transaction to end and then sees its record.
type idempotency struct{ s *Store }

func (i idempotency) Begin(ctx context.Context, scope, key string, notBefore time.Time) (domain.IdempotencyRecord, bool, error) {
	if i.s.tx == nil {
		return domain.IdempotencyRecord{}, false, errNoTx
	}
	var (
		rec   domain.IdempotencyRecord
		found bool
	)
	err := i.s.do(ctx, func(st *state) error {
		rec, found = st.idem[idemKey{scope, key}]
		if found && rec.CreatedAt.Before(notBefore) {
			rec, found = domain.IdempotencyRecord{}, false
		}
		return nil
	})
	return rec, found, err
}

// Save stores the record, replacing an expired one under the same key.
func (i idempotency) Save(ctx context.Context, r domain.IdempotencyRecord) error {
	return i.s.do(ctx, func(st *state) error {
		st.idem[idemKey{r.Scope, r.Key}] = r
		return nil
	})
}
