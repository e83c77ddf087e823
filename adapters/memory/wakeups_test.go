package memory_test

import (
	"testing"

	"github.com/etalase/etalase/adapters/memory"
	"github.com/etalase/etalase/domain"
	"github.com/etalase/etalase/test/contract"
)

func TestOutboxWakeupsContract(t *testing.T) {
	t.Parallel()
	contract.RunOutboxWakeups(t, func(*testing.T) (domain.Store, domain.OutboxWakeups) {
		s := memory.New()
		return s, memory.NewOutboxWakeups(s)
	})
}
