package memory_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/etalase/etalase/adapters/memory"
	"github.com/etalase/etalase/domain"
	"github.com/etalase/etalase/test/contract"
)

// TestInTxPanicRollsBack checks that a panicking fn leaves nothing behind
// and does not leave the store locked: the dev server recovers panics and
// must keep serving.
func TestInTxPanicRollsBack(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := memory.New()
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("the panic did not reach the caller")
			}
		}()
		_ = s.InTx(ctx, func(tx domain.Store) error {
			if _, err := tx.Categories().Create(ctx, domain.CategoryFields{Name: "half done"}); err != nil {
				return err
			}
			panic("handler bug")
		})
	}()
	page, err := s.Categories().List(ctx, domain.CategoryQuery{Limit: 10})
	if err != nil || len(page.Items) != 0 {
		t.Fatalf("after a panicking transaction: %v, %v; want no categories", page.Items, err)
	}
}

// TestRelayReleasesClaimsWhenCanceled checks that a relay whose context ends
// mid-batch leaves the unsent jobs for the next relay.
func TestRelayReleasesClaimsWhenCanceled(t *testing.T) {
	t.Parallel()
	s := memory.New()
	ctx := context.Background()
	for _, id := range []string{"a", "b", "c"} {
		if err := s.Outbox().Add(ctx, domain.Job{ID: id, Type: domain.JobGenerateReport, Queue: domain.QueueReport}); err != nil {
			t.Fatal(err)
		}
	}
	cctx, cancel := context.WithCancel(ctx)
	n, err := s.Outbox().Relay(cctx, 10, func(context.Context, domain.Job) error {
		cancel()
		return nil
	})
	if err != nil || n != 1 {
		t.Fatalf("canceled relay sent %d, %v; want 1 sent before the cancel", n, err)
	}
	var sent []string
	n, err = s.Outbox().Relay(ctx, 10, func(_ context.Context, j domain.Job) error {
		sent = append(sent, j.ID)
		return nil
	})
	if err != nil || n != 2 || !slices.Equal(sent, []string{"b", "c"}) {
		t.Fatalf("next relay sent %v (%d), %v; want [b c]", sent, n, err)
	}
}

// TestContextEnded checks that calls with an ended context fail with its
// error instead of touching the state.
func TestContextEnded(t *testing.T) {
	t.Parallel()
	s := memory.New()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Categories().Create(ctx, domain.CategoryFields{Name: "late"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Create with a canceled context: %v", err)
	}
	err := s.InTx(ctx, func(tx domain.Store) error { return nil })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("InTx with a canceled context: %v", err)
	}
}

// FuzzProductPages checks keyset pagination on arbitrary names and prices:
// walking every page of every sort yields every product once, in order.
func FuzzProductPages(f *testing.F) {
	f.Add("anvil|bolt|anvil|Ünïcode|a_b|%", uint64(0x0102030405060708), uint8(2))
	f.Add("|||", uint64(0), uint8(1))
	f.Add("z|y|x|w|v|u|t|s|r|q|p", uint64(1<<63), uint8(3))
	f.Fuzz(func(t *testing.T, names string, prices uint64, limit uint8) {
		ctx := context.Background()
		s := memory.New()
		c, err := s.Categories().Create(ctx, domain.CategoryFields{Name: "c"})
		if err != nil {
			t.Fatal(err)
		}
		var all []domain.Product
		for i, name := range strings.Split(names, "|") {
			if len(all) == 30 {
				break
			}
			if !utf8.ValidString(name) {
				name = strings.ToValidUTF8(name, "?")
			}
			if r := []rune(name); len(r) > domain.MaxProductNameLength {
				name = string(r[:domain.MaxProductNameLength])
			}
			price := domain.Price((prices >> (uint(i) % 8 * 8)) & 0xff)
			p, err := s.Products().Create(ctx, domain.ProductFields{Name: name, Price: price, CategoryID: c.ID})
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, p)
		}
		pageSize := int(limit%10) + 1
		for _, sort := range contract.AllSorts {
			want := slices.Clone(all)
			slices.SortFunc(want, contract.Order(sort))
			var got []int64
			q := domain.ProductQuery{Limit: pageSize, Sort: sort}
			for pages := 0; pages <= len(all)+1; pages++ {
				page, err := s.Products().List(ctx, q)
				if err != nil {
					t.Fatalf("%s: %v", sort, err)
				}
				for _, p := range page.Items {
					got = append(got, p.ID)
				}
				if page.Next == nil {
					break
				}
				next, err := domain.DecodeCursor(page.Next.Encode())
				if err != nil {
					t.Fatalf("%s: cursor %+v does not survive encoding: %v", sort, *page.Next, err)
				}
				q.After = &next
			}
			var wantIDs []int64
			for _, p := range want {
				wantIDs = append(wantIDs, p.ID)
			}
			if !slices.Equal(got, wantIDs) {
				t.Fatalf("%s, limit %d: walked %v, want %v", sort, pageSize, got, wantIDs)
			}
		}
	})
}
