package console

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
)

// Key is a named secret. Only admin keys sign in; writer keys are known so
// that a writer is told no rather than "wrong key".
type Key struct {
	Name   string
	Secret string
}

// cookieName is the session cookie. Its value is
// "<name>.<expiry unix>.<nonce>.<mac>": the admin key's name, when the
// session ends, a random nonce and an HMAC of the three under a key derived
// from that admin's secret. It carries no key material, needs no server
// state (any API process verifies it) and dies with its key: a rotated or
// removed admin key ends its sessions.
const cookieName = "etalase_console"

// keyEntry is one known key: its name, a digest of its secret, and the MAC
// key of its sessions.
type keyEntry struct {
	name   string
	digest [sha256.Size]byte
	mac    []byte
	admin  bool
}

type keyring []keyEntry

func newKeyring(admins, writers []Key) keyring {
	var r keyring
	add := func(k Key, admin bool) {
		d := sha256.Sum256([]byte(k.Secret))
		m := hmac.New(sha256.New, []byte(k.Secret))
		m.Write([]byte("etalase console session v1"))
		r = append(r, keyEntry{name: k.Name, digest: d, mac: m.Sum(nil), admin: admin})
	}
	for _, k := range admins {
		add(k, true)
	}
	for _, k := range writers {
		add(k, false)
	}
	return r
}

// lookup finds the key whose secret is secret, comparing against every
// entry in constant time.
func (r keyring) lookup(secret string) (keyEntry, bool) {
	d := sha256.Sum256([]byte(secret))
	var found keyEntry
	ok := false
	for _, e := range r {
		if subtle.ConstantTimeCompare(d[:], e.digest[:]) == 1 && !ok {
			found, ok = e, true
		}
	}
	return found, ok
}

func (r keyring) admin(name string) (keyEntry, bool) {
	for _, e := range r {
		if e.admin && e.name == name {
			return e, true
		}
	}
	return keyEntry{}, false
}

// session is a verified session cookie.
type session struct {
	name    string
	expires time.Time
	token   string // the cookie's value
	mac     []byte // the admin's MAC key
}

// csrf is the token every state-changing form of this session carries.
func (s session) csrf() string {
	m := hmac.New(sha256.New, s.mac)
	m.Write([]byte("csrf\x00" + s.token))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (s session) validCSRF(token string) bool {
	want := s.csrf()
	return len(token) == len(want) && subtle.ConstantTimeCompare([]byte(token), []byte(want)) == 1
}

func sign(mac []byte, payload string) string {
	m := hmac.New(sha256.New, mac)
	m.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// newSession issues a session of admin e lasting ttl.
func newSession(e keyEntry, now time.Time, ttl time.Duration) session {
	nonce := make([]byte, 18)
	_, _ = rand.Read(nonce)
	exp := now.Add(ttl).Truncate(time.Second)
	payload := e.name + "." + strconv.FormatInt(exp.Unix(), 10) + "." + base64.RawURLEncoding.EncodeToString(nonce)
	return session{name: e.name, expires: exp, token: payload + "." + sign(e.mac, payload), mac: e.mac}
}

// verify reads a cookie's value back into a session: a known admin's,
// unexpired, with a valid MAC.
func (r keyring) verify(value string, now time.Time) (session, bool) {
	i := strings.LastIndexByte(value, '.')
	if i < 0 {
		return session{}, false
	}
	payload, mac := value[:i], value[i+1:]
	parts := strings.Split(payload, ".")
	if len(parts) < 3 {
		return session{}, false
	}
	// A key name may hold dots; the expiry and the nonce never do.
	name := strings.Join(parts[:len(parts)-2], ".")
	exp, err := strconv.ParseInt(parts[len(parts)-2], 10, 64)
	if err != nil || !now.Before(time.Unix(exp, 0)) {
		return session{}, false
	}
	e, ok := r.admin(name)
	if !ok {
		return session{}, false
	}
	want := sign(e.mac, payload)
	if len(mac) != len(want) || subtle.ConstantTimeCompare([]byte(mac), []byte(want)) != 1 {
		return session{}, false
	}
	return session{name: name, expires: time.Unix(exp, 0), token: value, mac: e.mac}, true
}

// secure says whether the client reached us over TLS, directly or through
// a proxy that says so: the cookie is Secure then.
func secure(c *fiber.Ctx) bool {
	return c.Context().IsTLS() || strings.EqualFold(c.Get(fiber.HeaderXForwardedProto), "https")
}

func setSessionCookie(c *fiber.Ctx, s session) {
	c.Cookie(&fiber.Cookie{
		Name: cookieName, Value: s.token, Path: "/admin", Expires: s.expires,
		MaxAge: int(time.Until(s.expires).Seconds()), HTTPOnly: true, SameSite: fiber.CookieSameSiteStrictMode,
		Secure: secure(c),
	})
}

func clearSessionCookie(c *fiber.Ctx) {
	c.Cookie(&fiber.Cookie{
		Name: cookieName, Value: "", Path: "/admin", MaxAge: -1, Expires: time.Unix(1, 0),
		HTTPOnly: true, SameSite: fiber.CookieSameSiteStrictMode, Secure: secure(c),
	})
}
