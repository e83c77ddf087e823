package postgres_test

import (
	"testing"

	"github.com/etalase/etalase/domain"
	"github.com/etalase/etalase/test/contract"
	"github.com/etalase/etalase/test/pgtest"
)

// TestStoreContract runs the Store specification every adapter meets
// against a fresh database per case.
func TestStoreContract(t *testing.T) {
	t.Parallel()
	contract.RunStore(t, func(t *testing.T) domain.Store { return pgtest.NewStore(t) })
}
