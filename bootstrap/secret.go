package bootstrap

import (
	"net/url"
	"strings"
)

// mask stands in for a secret wherever configuration is printed.
const mask = "***"

// RedactURL returns rawURL with its password, if any, replaced by ***, so
// the URL can be logged. A string that does not parse as a URL is masked
// whole, since it may be anything.
func RedactURL(rawURL string) string {
	if rawURL == "" {
		return ""
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return mask
	}
	if _, has := u.User.Password(); !has {
		return u.String()
	}
	// UserPassword would percent-encode the mask; a placeholder that needs
	// no escaping is swapped for it after formatting.
	const placeholder = "REDACTEDPASSWORD"
	u.User = url.UserPassword(u.User.Username(), placeholder)
	return strings.Replace(u.String(), ":"+placeholder+"@", ":"+mask+"@", 1)
}

// Redact removes the password of rawURL from s, for error texts of libraries
// that might quote it.
func Redact(s, rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.User == nil {
		return s
	}
	if pw, has := u.User.Password(); has && pw != "" {
		s = strings.ReplaceAll(s, pw, mask)
		if esc := url.QueryEscape(pw); esc != pw {
			s = strings.ReplaceAll(s, esc, mask)
		}
	}
	return s
}
