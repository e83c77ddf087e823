package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/etalase/etalase/domain"
)

// HeaderXCache tells a client whether the response came from the cache.
const HeaderXCache = "X-Cache"

// CacheState is what X-Cache says of a response.
type CacheState string

// The states of X-Cache.
const (
	// CacheHit: answered from the store without running the handler.
	CacheHit CacheState = "HIT"
	// CacheMiss: computed now, and stored if it is a 200.
	CacheMiss CacheState = "MISS"
	// CacheBypass: the cache is off or unavailable; computed now, not stored.
	CacheBypass CacheState = "BYPASS"
)

// ResponseScoper is a ResponseStore that scopes the context of a request
// before its lookup; the handler runs with that context, so the layers
// under it can tell they are computing a response that will be stored.
type ResponseScoper interface {
	Scope(ctx context.Context) context.Context
}

// ResponseStore keeps whole GET responses for the response cache, by the
// view they render (the route's resource, the typed id of an item, the
// normalized query of a list). Lookup answers a hit with the stored bytes,
// a miss with a function that stores the response computed now (ttl 0:
// the store's default), and a bypass with neither. The store decides what
// a view depends on and retires it when that changes; the cache adapter
// implements it.
type ResponseStore interface {
	Lookup(ctx context.Context, view domain.View) (cached []byte, fill func(ctx context.Context, value []byte, ttl time.Duration))
}

// CacheRule is a route's response cache setting, declared beside the route
// in the route table.
type CacheRule struct {
	// Resource is the collection the route renders; its views are items
	// when the route has an :id, lists otherwise.
	Resource domain.Resource
	// TTL overrides the store's default lifetime of the route's entries.
	TTL time.Duration
}

// cached caches the responses of a route. Its query parameters (the
// route's declared ones, which are the only ones it accepts) select the
// variant of a list.
func cached(resource domain.Resource) *CacheRule { return &CacheRule{Resource: resource} }

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

// responseCache is the GET response cache of one route (the seed
// tutorial's CacheInterceptor, declared per route): a hit is answered from
// the store, with its ETag and a 304 when If-None-Match names it, without
// running the handler; a miss runs the handler and stores its response if
// it is a 200.
func (s *Server) responseCache(rule CacheRule, query []string, item bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if c.Method() != fiber.MethodGet {
			return c.Next()
		}
		view := domain.View{Resource: rule.Resource}
		if item {
			id, err := pathID(c)
			if err != nil {
				return err
			}
			view.ID = id
		} else {
			view.Variant = normalizedQuery(c, query)
		}
		var cached []byte
		var fill func(context.Context, []byte, time.Duration)
		if s.cfg.Responses != nil {
			ctx := c.UserContext()
			if sc, ok := s.cfg.Responses.(ResponseScoper); ok {
				ctx = sc.Scope(ctx)
				c.SetUserContext(ctx)
			}
			cached, fill = s.cfg.Responses.Lookup(ctx, view)
		}
		state := CacheBypass
		switch {
		case cached != nil:
			if r, err := decodeCached(cached); err == nil {
				return replay(c, r)
			}
			fill = nil
		case fill != nil:
			state = CacheMiss
		}
		if state == CacheBypass && s.cfg.CacheBypassed != nil {
			s.cfg.CacheBypassed()
		}
		ifNoneMatch := c.Get(fiber.HeaderIfNoneMatch)
		if fill != nil && ifNoneMatch != "" {
			// Let the handler write the full response so it can be stored;
			// the 304 is decided below.
			ifNoneMatch = strings.Clone(ifNoneMatch)
			c.Request().Header.Del(fiber.HeaderIfNoneMatch)
		}
		err := c.Next()
		c.Set(HeaderXCache, string(state))
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
			notModified(c)
		}
		return nil
	}
}

// replay answers from a stored response.
func replay(c *fiber.Ctx, r cachedResponse) error {
	c.Set(HeaderXCache, string(CacheHit))
	if r.ETag != "" {
		c.Set(fiber.HeaderETag, r.ETag)
		if noneMatch(c.Get(fiber.HeaderIfNoneMatch), r.ETag) {
			notModified(c)
			return nil
		}
	}
	c.Set(fiber.HeaderContentType, r.ContentType)
	return c.Status(fiber.StatusOK).Send(r.Body)
}

// normalizedQuery keeps the route's parameters, sorted by name and escaped.
// The route's query check has already refused unknown, empty and repeated
// ones, so this is the whole query in a canonical order.
func normalizedQuery(c *fiber.Ctx, names []string) string {
	if len(names) == 0 {
		return ""
	}
	args := c.Request().URI().QueryArgs()
	var b strings.Builder
	for _, name := range names {
		if !args.Has(name) {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(name))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(string(args.Peek(name))))
	}
	return b.String()
}
