package cache

import (
	"context"
	"encoding/json"
	"strconv"

	"github.com/etalase/etalase/application"
	"github.com/etalase/etalase/domain"
)

var _ application.CacheInspector = (*Guard)(nil)

// maxShownValue bounds how much of a cached value the console shows.
const maxShownValue = 600

// InspectProduct reads, without counting it as a lookup, what each layer
// holds for product id: the repository's entry, the response cache's entry
// of GET /products/{id} and this process's local tier (both keys), each with the
// stamp it carries and the stamp a current entry must carry now.
func (g *Guard) InspectProduct(ctx context.Context, id int64) (application.ProductCacheView, error) {
	v := application.ProductCacheView{Trusted: g.trusted.Load(), Epoch: g.epoch.Load(), Generations: map[string]int64{}}
	deps := productDeps(id)
	layers := []struct{ layer, key string }{
		{LayerRepository, productKey(id)},
		{LayerResponse, responseKey(domain.View{Resource: domain.ResourceProducts, ID: id})},
	}
	for _, l := range layers {
		rctx, cancel := context.WithTimeout(ctx, g.cfg.Timeout)
		gens, raw, err := g.cache.Read(rctx, l.key, deps)
		cancel()
		if err != nil {
			return v, domain.Unavailable("the cache is unreachable", err)
		}
		for i, d := range deps {
			if i < len(gens) {
				v.Generations[d] = gens[i]
			}
		}
		e := application.CacheEntry{Layer: l.layer, Key: l.key, Held: raw != nil,
			Current: stamp(g.identityOf(), v.Epoch, gens)}
		if raw != nil {
			var env struct {
				Stamp string          `json:"stamp"`
				Value json.RawMessage `json:"value"`
			}
			if json.Unmarshal(raw, &env) == nil {
				e.Stamp = env.Stamp
				e.Value = shorten(string(env.Value))
			}
			e.Fresh = e.Stamp == e.Current && v.Trusted
		}
		v.Entries = append(v.Entries, e)
	}
	if g.local != nil {
		for _, l := range layers {
			g.local.mu.RLock()
			le, ok := g.local.entries[l.key]
			g.local.mu.RUnlock()
			e := application.CacheEntry{Layer: "local " + l.layer, Key: l.key, Held: ok}
			if ok {
				e.Stamp = "e" + strconv.FormatInt(le.epoch, 10)
				e.Current = "e" + strconv.FormatInt(v.Epoch, 10)
				e.Fresh = le.epoch == v.Epoch && g.local.now() < le.expires && v.Trusted
				e.Value = shorten(string(le.value))
			}
			v.Entries = append(v.Entries, e)
		}
	}
	return v, nil
}

func shorten(s string) string {
	if len(s) <= maxShownValue {
		return s
	}
	return s[:maxShownValue] + "…"
}
