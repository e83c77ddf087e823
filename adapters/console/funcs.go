package console

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"math"
	"strings"
	"time"

	"github.com/etalase/etalase/application"
	"github.com/etalase/etalase/domain"
)

// funcs are the helpers the templates use.
var funcs = template.FuncMap{
	"ago":      ago,
	"until":    until,
	"stamp":    stamp,
	"dur":      dur,
	"pct":      func(f float64) string { return fmt.Sprintf("%.1f%%", f*100) },
	"num":      func(f float64) string { return fmt.Sprintf("%.0f", f) },
	"pretty":   pretty,
	"chart":    chart,
	"price":    func(p domain.Price) string { return p.String() },
	"deref":    func(s *string) string { return derefString(s) },
	"tptr":     func(t *time.Time) string { return stampPtr(t) },
	"totals":   totals,
	"sub":      func(a, b int) int { return a - b },
	"secs":     func(ms int64) int64 { return ms / 1000 },
	"subf":     func(a, b float64) float64 { return a - b },
	"add":      func(a, b int) int { return a + b },
	"bulkable": func(s application.JobState) bool { return s == application.JobRetry || s == application.JobArchived },
}

func derefString(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

func stampPtr(t *time.Time) string {
	if t == nil {
		return "—"
	}
	return stamp(*t)
}

// ago says how long ago t was, roughly.
func ago(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return dur(time.Since(t)) + " ago"
}

// until says how long until t, or that it is due.
func until(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	d := time.Until(t)
	if d <= 0 {
		return "due now"
	}
	return "in " + dur(d)
}

func dur(d time.Duration) string {
	switch {
	case d < time.Second:
		return fmt.Sprintf("%d ms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%.1f s", d.Seconds())
	case d < time.Hour:
		return fmt.Sprintf("%d min %d s", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%d h %d min", int(d.Hours()), int(d.Minutes())%60)
}

// pretty indents a JSON payload; anything else is shown as it is.
func pretty(b []byte) string {
	var out bytes.Buffer
	if json.Indent(&out, b, "", "  ") != nil {
		return string(b)
	}
	return out.String()
}

// totals sums the processed and failed counts of a window.
func totals(per []application.MinuteCount) [2]int {
	var t [2]int
	for _, m := range per {
		t[0] += m.Processed
		t[1] += m.Failed
	}
	return t
}

// chart draws processed and failed jobs per minute as an inline SVG bar
// chart. Only numbers it computed go into the markup.
func chart(per []application.MinuteCount) template.HTML {
	const w, h, pad = 600.0, 120.0, 4.0
	top := 1
	for _, m := range per {
		top = max(top, m.Processed)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %.0f %.0f" role="img" aria-labelledby="chart-title" preserveAspectRatio="none">`, w, h+pad)
	b.WriteString(`<title id="chart-title">Jobs processed (grey) and failed (red) per minute over the last hour</title>`)
	if n := len(per); n > 0 {
		bw := w / float64(n)
		for i, m := range per {
			x := float64(i) * bw
			ph := math.Round(float64(m.Processed)/float64(top)*h*10) / 10
			fh := math.Round(float64(m.Failed)/float64(top)*h*10) / 10
			label := fmt.Sprintf("%s: %d processed, %d failed", m.Minute.UTC().Format("15:04"), m.Processed, m.Failed)
			fmt.Fprintf(&b, `<g><title>%s</title><rect class="ok" x="%.1f" y="%.1f" width="%.1f" height="%.1f"/>`,
				template.HTMLEscapeString(label), x, h-ph, math.Max(bw-1, 1), ph)
			fmt.Fprintf(&b, `<rect class="bad" x="%.1f" y="%.1f" width="%.1f" height="%.1f"/></g>`, x, h-fh, math.Max(bw-1, 1), fh)
		}
	}
	fmt.Fprintf(&b, `<line class="axis" x1="0" y1="%.0f" x2="%.0f" y2="%.0f"/></svg>`, h, w, h)
	return template.HTML(b.String())
}
