package httpapi

import (
	"crypto/sha256"
	"crypto/subtle"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// localKeyName is the fiber local holding the authenticated key's name.
const localKeyName = "etalase.keyName"

type keyEntry struct {
	name   string
	digest [sha256.Size]byte
	admin  bool
}

// keyring holds digests of the configured secrets. Comparing fixed-size
// digests in constant time leaks neither a secret's content nor its length.
type keyring struct {
	entries []keyEntry
}

func newKeyring(apiKeys, adminKeys []APIKey) keyring {
	var r keyring
	for _, k := range apiKeys {
		r.entries = append(r.entries, keyEntry{name: k.Name, digest: sha256.Sum256([]byte(k.Secret))})
	}
	for _, k := range adminKeys {
		r.entries = append(r.entries, keyEntry{name: k.Name, digest: sha256.Sum256([]byte(k.Secret)), admin: true})
	}
	return r
}

// lookup finds the key whose secret is secret. It compares against every
// entry, so the time taken does not say which one matched.
func (r keyring) lookup(secret string) (keyEntry, bool) {
	d := sha256.Sum256([]byte(secret))
	var found keyEntry
	ok := false
	for _, e := range r.entries {
		if subtle.ConstantTimeCompare(d[:], e.digest[:]) == 1 && !ok {
			found, ok = e, true
		}
	}
	return found, ok
}

// bearer extracts the token of an "Authorization: Bearer <token>" header.
func bearer(c *fiber.Ctx) (string, bool) {
	h := c.Get(fiber.HeaderAuthorization)
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

func (s *Server) authenticate(c *fiber.Ctx) (keyEntry, error) {
	token, ok := bearer(c)
	if !ok {
		return keyEntry{}, errUnauthorized("this request needs an API key: Authorization: Bearer <secret>")
	}
	key, ok := s.keys.lookup(token)
	if !ok {
		return keyEntry{}, errUnauthorized("the API key is not valid")
	}
	c.Locals(localKeyName, key.name)
	return key, nil
}

// requireKey lets a request through only with a valid API or admin key, and
// records the key's name for KeyName.
func (s *Server) requireKey(c *fiber.Ctx) error {
	if _, err := s.authenticate(c); err != nil {
		return err
	}
	return c.Next()
}

// requireAdmin lets a request through only with an admin key: no key or an
// unknown one is 401, a known non-admin key is 403.
func (s *Server) requireAdmin(c *fiber.Ctx) error {
	key, err := s.authenticate(c)
	if err != nil {
		return err
	}
	if !key.admin {
		return errForbidden("this request needs an admin key: the key is known but is not one of ADMIN_KEYS")
	}
	return c.Next()
}

// RequireKey is the middleware guarding write routes, for handlers that
// other files of this package or bootstrap register.
func (s *Server) RequireKey() fiber.Handler { return s.requireKey }

// RequireAdmin is the middleware guarding /admin routes.
func (s *Server) RequireAdmin() fiber.Handler { return s.requireAdmin }

// KeyName returns the name of the API key that authenticated the request,
// or "" on a public route. Use it as a report's requestedBy.
func KeyName(c *fiber.Ctx) string {
	name, _ := c.Locals(localKeyName).(string)
	return name
}
