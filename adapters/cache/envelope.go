package cache

import (
	"bytes"
	"strconv"
)

// The stamped envelope: every entry in the shared cache carries the stamp
// it was computed under, and is served only while that stamp is current.

// stamp is what an entry must carry to be current: the database's
// identity, the epoch and the generations of its dependencies.
func stamp(identity string, epoch int64, gens []int64) string {
	b := make([]byte, 0, len(identity)+20+20*len(gens))
	b = append(b, identity...)
	b = append(b, ".e"...)
	b = strconv.AppendInt(b, epoch, 10)
	for i, n := range gens {
		if i == 0 {
			b = append(b, '/')
		} else {
			b = append(b, '.')
		}
		b = strconv.AppendInt(b, n, 10)
	}
	return string(b)
}

// The stored form of an entry is JSON an operator can read:
// {"stamp":"5d41402abc-4000.e1764../1764..","value":<the JSON value>}.
const (
	envelopeHead = `{"stamp":"`
	envelopeMid  = `","value":`
	envelopeTail = `}`
)

func wrap(stamp string, value []byte) []byte {
	b := make([]byte, 0, len(envelopeHead)+len(stamp)+len(envelopeMid)+len(value)+1)
	b = append(b, envelopeHead...)
	b = append(b, stamp...)
	b = append(b, envelopeMid...)
	b = append(b, value...)
	return append(b, envelopeTail...)
}

// unwrap returns the value of raw if raw carries exactly stamp.
func unwrap(raw []byte, stamp string) ([]byte, bool) {
	n := len(envelopeHead) + len(stamp) + len(envelopeMid)
	if len(raw) < n+len(envelopeTail) {
		return nil, false
	}
	if !bytes.HasPrefix(raw, []byte(envelopeHead)) ||
		string(raw[len(envelopeHead):len(envelopeHead)+len(stamp)]) != stamp ||
		!bytes.HasPrefix(raw[len(envelopeHead)+len(stamp):], []byte(envelopeMid)) ||
		!bytes.HasSuffix(raw, []byte(envelopeTail)) {
		return nil, false
	}
	return raw[n : len(raw)-len(envelopeTail)], true
}
