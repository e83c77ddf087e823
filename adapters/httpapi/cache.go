package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
)

// localCacheRoute holds the route template of a request the response cache
// handled.
const localCacheRoute = "etalase.cacheRoute"

// HeaderXCache tells a client whether the response came from the cache:
// HIT, MISS, or BYPASS when the cache is off or unavailable.
const HeaderXCache = "X-Cache"

// The values of X-Cache.
const (
	CacheHit    = "HIT"
	CacheMiss   = "MISS"
	CacheBypass = "BYPASS"
)

// ResponseScoper is a ResponseStore that scopes the context of a request
// before its lookup; the handler runs with that context, so the layers
// under it can tell they are computing a response that will be stored.
type ResponseScoper interface {
	Scope(ctx context.Context) context.Context
}

// ResponseStore keeps whole GET responses for the response cache. Lookup
// receives the normalized target (path, then "?" and the sorted,
// allow-listed query when there is one) and answers with the stored bytes
// and CacheHit; with CacheMiss and a function that stores the response
// computed now (ttl 0: the store's default); or with CacheBypass. The
// store decides what a response depends on and retires it when that
// changes; the cache adapter implements it.
type ResponseStore interface {
	Lookup(ctx context.Context, target string) (cached []byte, state string, fill func(ctx context.Context, value []byte, ttl time.Duration))
}

// CacheRule is the response cache's setting for one route.
type CacheRule struct {
	// Off opts the route out: its responses say BYPASS.
	Off bool
	// TTL overrides the store's default lifetime of the route's entries.
	TTL time.Duration
	// Query lists the query parameters that select the response; they are
	// part of the key, sorted. Others do not change a 200 response (a bad
	// one is a 400, which is never cached), so they are left out.
	Query []string
}

// ResponseCacheConfig configures ResponseCache.
type ResponseCacheConfig struct {
	// Store holds the responses; nil turns the cache off (every cacheable
	// route says BYPASS).
	Store ResponseStore
	// Rules are by route template ("/products/:id"); a route without a
	// rule is not cached and gets no X-Cache header.
	Rules map[string]CacheRule
	// Bypassed, if set, is called for every response the cache was off for.
	Bypassed func()
}

// DefaultCacheRules caches the reads of products and categories, items and
// list pages, keyed by every query parameter their handlers read.
func DefaultCacheRules() map[string]CacheRule {
	return map[string]CacheRule{
		"/products":       {Query: []string{"categoryId", "cursor", "limit", "q", "sort"}},
		"/products/:id":   {},
		"/categories":     {Query: []string{"cursor", "limit"}},
		"/categories/:id": {},
	}
}

// cachedResponse is a stored 200 response. Its stored form is JSON an
// operator can read, {"contentType":...,"etag":...,"body":<the body>},
// written with the body last so a hit can take the body without parsing
// it (see encode and decodeCached).
type cachedResponse struct {
	ContentType string `json:"contentType"`
	ETag        string `json:"etag,omitempty"`
	Body        []byte `json:"-"`
}

// bodyField separates the head of a stored response from its body. It
// cannot occur inside the head's strings, where every quote is escaped.
const bodyField = `,"body":`

func (r cachedResponse) encode() ([]byte, error) {
	head, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(head)+len(bodyField)+len(r.Body)+1)
	out = append(out, head[:len(head)-1]...)
	out = append(out, bodyField...)
	out = append(out, r.Body...)
	return append(out, '}'), nil
}

func decodeCached(b []byte) (cachedResponse, error) {
	i := bytes.Index(b, []byte(bodyField))
	if i < 0 || len(b) < i+len(bodyField)+1 || b[len(b)-1] != '}' {
		return cachedResponse{}, errors.New("not a stored response")
	}
	r, ok := decodeHead(b[:i])
	if !ok {
		// A head the fast reader does not know (other escapes, another
		// field order) is still read, by the JSON decoder.
		head := append(append(make([]byte, 0, i+1), b[:i]...), '}')
		if err := json.Unmarshal(head, &r); err != nil {
			return cachedResponse{}, err
		}
	}
	r.Body = b[i+len(bodyField) : len(b)-1]
	return r, nil
}

// The head encode writes: {"contentType":"...","etag":"..." (no closing
// brace; the etag is left out when empty).
const (
	headContentType = `{"contentType":"`
	headETag        = `,"etag":"`
)

// decodeHead reads the head as encode writes it without the reflection of
// the JSON decoder, which a hit would otherwise pay on every request. It
// reports false for anything else.
func decodeHead(head []byte) (cachedResponse, bool) {
	rest, ok := bytes.CutPrefix(head, []byte(headContentType))
	if !ok {
		return cachedResponse{}, false
	}
	ct, rest, ok := cutJSONString(rest)
	if !ok {
		return cachedResponse{}, false
	}
	var r cachedResponse
	if string(ct) == fiber.MIMEApplicationJSON {
		r.ContentType = fiber.MIMEApplicationJSON
	} else {
		r.ContentType = string(ct)
	}
	if len(rest) == 0 {
		return r, true
	}
	if rest, ok = bytes.CutPrefix(rest, []byte(headETag)); !ok {
		return cachedResponse{}, false
	}
	etag, rest, ok := cutJSONString(rest)
	if !ok || len(rest) != 0 {
		return cachedResponse{}, false
	}
	r.ETag = string(etag)
	return r, true
}

// cutJSONString reads the rest of a JSON string whose opening quote is
// already consumed, returning its value and what follows the closing quote.
// It knows only the escapes \" and \\ (an ETag's quotes); any other escape
// reports false.
func cutJSONString(b []byte) (value, rest []byte, ok bool) {
	end := bytes.IndexByte(b, '"')
	if end < 0 {
		return nil, nil, false
	}
	if bytes.IndexByte(b[:end], '\\') < 0 {
		return b[:end], b[end+1:], true
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		switch ch := b[i]; ch {
		case '"':
			return out, b[i+1:], true
		case '\\':
			if i+1 == len(b) || (b[i+1] != '"' && b[i+1] != '\\') {
				return nil, nil, false
			}
			i++
			out = append(out, b[i])
		default:
			if ch < 0x20 {
				return nil, nil, false
			}
			out = append(out, ch)
		}
	}
	return nil, nil, false
}

// ResponseCache is the global GET response cache (the seed tutorial's
// CacheInterceptor): a hit is answered from the store, with its ETag and a
// 304 when If-None-Match names it, without running the handler; a miss runs
// the handler and stores its response if it is a 200.
func ResponseCache(cfg ResponseCacheConfig) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if c.Method() != fiber.MethodGet {
			return c.Next()
		}
		path := strings.TrimSuffix(c.Path(), "/")
		route := routeTemplate(path)
		rule, ok := cfg.Rules[route]
		if !ok {
			return c.Next()
		}
		// A hit never reaches the route; the metrics still name it.
		c.Locals(localCacheRoute, route)
		if rule.Off || cfg.Store == nil {
			c.Set(HeaderXCache, CacheBypass)
			if cfg.Bypassed != nil && !rule.Off {
				cfg.Bypassed()
			}
			return c.Next()
		}
		target := path
		if q := normalizedQuery(c, rule.Query); q != "" {
			target += "?" + q
		}
		ctx := c.UserContext()
		if sc, ok := cfg.Store.(ResponseScoper); ok {
			ctx = sc.Scope(ctx)
			c.SetUserContext(ctx)
		}
		cached, state, fill := cfg.Store.Lookup(ctx, target)
		if state == CacheHit {
			if r, err := decodeCached(cached); err == nil {
				return replay(c, r)
			}
			state = CacheBypass
			fill = nil
		}
		ifNoneMatch := c.Get(fiber.HeaderIfNoneMatch)
		if fill != nil && ifNoneMatch != "" {
			// Let the handler write the full response so it can be stored;
			// the 304 is decided below.
			ifNoneMatch = strings.Clone(ifNoneMatch)
			c.Request().Header.Del(fiber.HeaderIfNoneMatch)
		}
		err := c.Next()
		c.Set(HeaderXCache, state)
		if err != nil || fill == nil || c.Response().StatusCode() != fiber.StatusOK {
			return err
		}
		body := c.Response().Body()
		if !json.Valid(body) {
			return nil
		}
		r := cachedResponse{
			ContentType: string(c.Response().Header.ContentType()),
			ETag:        string(c.Response().Header.Peek(fiber.HeaderETag)),
			Body:        body,
		}
		if b, err := r.encode(); err == nil {
			fill(c.UserContext(), b, rule.TTL)
		}
		if r.ETag != "" && noneMatch(ifNoneMatch, r.ETag) {
			c.Status(fiber.StatusNotModified)
			c.Response().ResetBody()
		}
		return nil
	}
}

// replay answers from a stored response.
func replay(c *fiber.Ctx, r cachedResponse) error {
	c.Set(HeaderXCache, CacheHit)
	if r.ETag != "" {
		c.Set(fiber.HeaderETag, r.ETag)
		if noneMatch(c.Get(fiber.HeaderIfNoneMatch), r.ETag) {
			return c.SendStatus(fiber.StatusNotModified)
		}
	}
	c.Set(fiber.HeaderContentType, r.ContentType)
	return c.Status(fiber.StatusOK).Send(r.Body)
}

// routeTemplate maps a path to the template of the cacheable route it
// would match ("" for none). Only the resources the cache knows are named.
func routeTemplate(path string) string {
	for _, res := range cachedResources {
		rest, ok := strings.CutPrefix(path, res.path)
		switch {
		case !ok:
			continue
		case rest == "":
			return res.path
		case rest[0] == '/' && len(rest) > 1 && !strings.Contains(rest[1:], "/"):
			return res.item
		}
	}
	return ""
}

// cachedResources are the collections routeTemplate knows, with the
// template of their items spelled out so a lookup builds no string.
var cachedResources = [...]struct{ path, item string }{
	{"/products", "/products/:id"},
	{"/categories", "/categories/:id"},
}

// normalizedQuery keeps the allow-listed parameters, the first value of
// each as the handlers read them, sorted by name and escaped.
func normalizedQuery(c *fiber.Ctx, allowed []string) string {
	if len(allowed) == 0 {
		return ""
	}
	names := make([]string, 0, len(allowed))
	args := c.Request().URI().QueryArgs()
	for _, name := range allowed {
		if args.Has(name) {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return ""
	}
	sort.Strings(names)
	var b strings.Builder
	for i, name := range names {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(name))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(string(args.Peek(name))))
	}
	return b.String()
}
