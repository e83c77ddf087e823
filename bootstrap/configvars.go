package bootstrap

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap/zapcore"

	"github.com/etalase/etalase/adapters/postgres"
)

// variable is one row of Config's table.
type variable struct {
	name string
	def  string
	kind kind
}

// kind parses a variable's value into its Config field, and shows the
// field for the start log line. A parse error's text is the problem after
// "config: NAME: ", so it is one line, and it never quotes a value that may
// hold a secret (URLs, keys).
type kind struct {
	parse func(v string) error
	show  func() string
}

// addr is a listen address: host:port, where the host may be empty.
func addr(p *string) kind {
	return kind{
		parse: func(v string) error {
			_, port, err := net.SplitHostPort(v)
			if err != nil {
				return fmt.Errorf("%q is not host:port (like :8080 or 127.0.0.1:8080)", v)
			}
			if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
				return fmt.Errorf("%q has no valid port", v)
			}
			*p = v
			return nil
		},
		show: func() string { return *p },
	}
}

// postgresURL is a PostgreSQL connection URL.
func postgresURL(p *string) kind {
	return urlKind(p, func(v string) error {
		if err := postgres.CheckURL(v); err != nil {
			return errors.New("not a valid PostgreSQL connection URL")
		}
		return nil
	}, "postgres", "postgresql")
}

// redisURL is a Redis URL; what its options say is checked with the mode
// and addresses, once they are known.
func redisURL(p *string) kind { return urlKind(p, nil, "redis", "rediss", "unix") }

func urlKind(p *string, check func(string) error, schemes ...string) kind {
	return kind{
		parse: func(v string) error {
			u, err := url.Parse(v)
			if err != nil {
				return errors.New("not a valid URL")
			}
			found := false
			for _, s := range schemes {
				found = found || u.Scheme == s
			}
			if !found {
				return fmt.Errorf("scheme %q is not one of %s", u.Scheme, strings.Join(schemes, ", "))
			}
			if check != nil {
				if err := check(v); err != nil {
					return err
				}
			}
			*p = v
			return nil
		},
		show: func() string { return RedactURL(*p) },
	}
}

func text(p *string) kind {
	return kind{
		parse: func(v string) error { *p = v; return nil },
		show:  func() string { return *p },
	}
}

func oneOf(p *string, allowed ...string) kind {
	return kind{
		parse: func(v string) error {
			for _, a := range allowed {
				if strings.EqualFold(v, a) {
					*p = a
					return nil
				}
			}
			return fmt.Errorf("%q is not one of %s", v, strings.Join(allowed, ", "))
		},
		show: func() string { return *p },
	}
}

// list is a comma list; blank entries are dropped.
func list(p *[]string) kind {
	return kind{
		parse: func(v string) error {
			var out []string
			for _, s := range strings.Split(v, ",") {
				if s = strings.TrimSpace(s); s != "" {
					out = append(out, s)
				}
			}
			*p = out
			return nil
		},
		show: func() string { return strings.Join(*p, ",") },
	}
}

// addrList is a comma list of host:port addresses; blank entries are
// dropped.
func addrList(p *[]string) kind {
	k := list(p)
	parse := k.parse
	k.parse = func(v string) error {
		if err := parse(v); err != nil {
			return err
		}
		for i, a := range *p {
			if _, _, err := net.SplitHostPort(a); err != nil {
				*p = nil
				return fmt.Errorf("entry %d (%q) is not host:port", i+1, a)
			}
		}
		return nil
	}
	return k
}

// duration is a Go duration at least min long.
func duration(p *time.Duration, min time.Duration) kind {
	return kind{
		parse: func(v string) error {
			d, err := time.ParseDuration(v)
			if err != nil {
				return fmt.Errorf("%q is not a duration (like 60s or 1m30s)", v)
			}
			if d < min {
				return fmt.Errorf("%s is shorter than %s", d, min)
			}
			*p = d
			return nil
		},
		show: func() string { return p.String() },
	}
}

func boolean(p *bool) kind {
	return kind{
		parse: func(v string) error {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return fmt.Errorf("%q is not true or false", v)
			}
			*p = b
			return nil
		},
		show: func() string { return strconv.FormatBool(*p) },
	}
}

func integer(p *int, min, max int) kind {
	return kind{
		parse: func(v string) error {
			n, err := strconv.Atoi(v)
			if err != nil {
				return fmt.Errorf("%q is not an integer", v)
			}
			if n < min || n > max {
				return fmt.Errorf("%d is not between %d and %d", n, min, max)
			}
			*p = n
			return nil
		},
		show: func() string { return strconv.Itoa(*p) },
	}
}

func level(p *zapcore.Level) kind {
	return kind{
		parse: func(v string) error {
			l, err := zapcore.ParseLevel(v)
			if err != nil {
				return fmt.Errorf("%q is not one of debug, info, warn, error", v)
			}
			*p = l
			return nil
		},
		show: func() string { return p.String() },
	}
}

// keys is "name:secret,name2:secret2". Its errors name the entry by
// position and name, never by secret; it shows names only.
func keys(p *[]Key) kind {
	return kind{
		parse: func(v string) error {
			k, err := parseKeys(v)
			*p = k
			return err
		},
		show: func() string {
			parts := make([]string, len(*p))
			for i, k := range *p {
				parts[i] = k.String()
			}
			return strings.Join(parts, ",")
		},
	}
}

func parseKeys(v string) ([]Key, error) {
	var out []Key
	seen := map[string]bool{}
	for i, entry := range strings.Split(v, ",") {
		n, secret, found := strings.Cut(strings.TrimSpace(entry), ":")
		n, secret = strings.TrimSpace(n), strings.TrimSpace(secret)
		switch {
		case !found || n == "" || secret == "":
			return nil, fmt.Errorf("entry %d is not name:secret", i+1)
		case seen[n]:
			return nil, fmt.Errorf("the name %q is used twice", n)
		}
		seen[n] = true
		out = append(out, Key{Name: n, Secret: secret})
	}
	return out, nil
}
