// Package console drives the operator console at /admin in a real headless
// Chromium against the real etalase binary, a fresh PostgreSQL database and
// a private Redis: sign-in, the overview's figures, a report that fails
// into the retry and archived sets, its retry from its page, and the
// console's refusals (no session, no CSRF token, a writer key, too many
// wrong keys). It saves a screenshot of each page.
package console

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/etalase/etalase/test/pgtest"
	"github.com/etalase/etalase/test/redisproc"
	"github.com/etalase/etalase/test/testproc"
)

const (
	adminSecret  = "console-admin-secret-0123456789"
	writerSecret = "console-writer-secret-0123456789"
)

// browserPath finds Chromium. In CI (CI=true) a missing browser fails the
// test: .ci/run installs it; locally the test skips, saying why.
func browserPath(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no Chromium found: .ci/run installs Debian's chromium package; the console test cannot run without it")
	}
	t.Skip("no Chromium on PATH: install Debian's chromium package to run the console browser test")
	return ""
}

// deployment is the etalase process under test and its backends.
type deployment struct {
	base string
	db   *pgxpool.Pool
	proc *testproc.Proc
	http *http.Client
}

func start(t *testing.T) *deployment {
	t.Helper()
	dsn := pgtest.NewDatabase(t)
	rs := redisproc.Start(t)
	pool, err := pgxpool.New(context.Background(), dsn)
	if err != nil {
		t.Fatalf("connect to the test database: %v", err)
	}
	t.Cleanup(pool.Close)
	addr := fmt.Sprintf("127.0.0.1:%d", testproc.FreePort(t))
	proc := testproc.Start(t, map[string]string{
		"HTTP_ADDR":    addr,
		"OPS_ADDR":     fmt.Sprintf("127.0.0.1:%d", testproc.FreePort(t)),
		"DATABASE_URL": dsn,
		"REDIS_URL":    rs.URL(),
		"API_KEYS":     "writer:" + writerSecret,
		"ADMIN_KEYS":   "ops:" + adminSecret,
		"REPORT_DELAY": "0s",
		// Five attempts 1+2+4+8 s apart: long enough to see the job in the
		// retry set, short enough to see it archived within the test.
		"JOB_RETRY_BASE":   "1s",
		"LOG_LEVEL":        "info",
		"SHUTDOWN_TIMEOUT": "5s",
	}, "all")
	d := &deployment{base: "http://" + addr, db: pool, proc: proc,
		http: &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	proc.WaitHTTP(t, d.base+"/readyz", 30*time.Second)
	return d
}

// create posts body with the writer key, and the X-Request-ID requestID
// when it is not "", and returns the new resource's id.
func (d *deployment) create(t *testing.T, path string, body any, requestID string) int64 {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, d.base+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if requestID != "" {
		req.Header.Set("X-Request-ID", requestID)
	}
	req.Header.Set("Authorization", "Bearer "+writerSecret)
	resp, err := d.http.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	var out struct {
		ID int64 `json:"id"`
	}
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated || json.Unmarshal(raw, &out) != nil {
		t.Fatalf("POST %s: %d %s", path, resp.StatusCode, raw)
	}
	return out.ID
}

// get reads path and fails the test unless it answers 200.
func (d *deployment) get(t *testing.T, path string) {
	t.Helper()
	resp, err := d.http.Get(d.base + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d", path, resp.StatusCode)
	}
}

// reportOf returns the id and status of a product's newest report.
func (d *deployment) reportOf(t *testing.T, productID int64) (int64, string) {
	t.Helper()
	var id int64
	var status string
	err := d.db.QueryRow(context.Background(),
		`SELECT id, status FROM reports WHERE product_id = $1 ORDER BY id DESC LIMIT 1`, productID).Scan(&id, &status)
	if err != nil {
		t.Fatalf("report of product %d: %v", productID, err)
	}
	return id, status
}

// The real failure the test makes: PostgreSQL refuses to store the result
// of a report of a product named "Doomed ...", the way a constraint or a
// full disk would. It lives only in the test's own database.
const (
	refuseSQL = `
CREATE FUNCTION console_test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF EXISTS (SELECT 1 FROM products WHERE id = NEW.product_id AND name LIKE 'Doomed%') THEN
		RAISE EXCEPTION 'the result of report % was refused by the console test', NEW.id;
	END IF;
	RETURN NEW;
END $$;
CREATE TRIGGER console_test_refuse BEFORE UPDATE ON reports
	FOR EACH ROW WHEN (NEW.status = 'completed') EXECUTE FUNCTION console_test_refuse();`
	allowSQL = `DROP TRIGGER console_test_refuse ON reports`
)

func screenshotDir(t *testing.T) string {
	root, err := testproc.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "test", "console", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestConsoleInBrowser(t *testing.T) {
	chrome := browserPath(t)
	d := start(t)
	shots := screenshotDir(t)
	t.Logf("screenshots go to %s", shots)

	// A product whose report completes, so the figures start above zero.
	cat := d.create(t, "/categories", map[string]any{"name": "Books"}, "")
	good := d.create(t, "/products", map[string]any{"name": "Go in Action", "price": "19.99", "stock": 7, "categoryId": cat}, "")
	waitFor(t, "the first report to complete", 30*time.Second, func() bool {
		_, st := d.reportOf(t, good)
		return st == "completed"
	})

	// Two reads: a miss that fills the cache, then a hit.
	for range 2 {
		d.get(t, fmt.Sprintf("/products/%d", good))
	}

	opts := append([]chromedp.ExecAllocatorOption{}, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.ExecPath(chrome), chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", true), chromedp.Flag("no-sandbox", true), chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.Flag("hide-scrollbars", true), chromedp.WindowSize(1100, 900))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancelCtx := chromedp.NewContext(actx)
	defer cancelCtx()
	ctx, cancelTimeout := context.WithTimeout(ctx, 4*time.Minute)
	defer cancelTimeout()
	b := &browser{t: t, ctx: ctx, base: d.base, shots: shots}

	// Without a session every page sends the browser to sign in.
	b.run(chromedp.Navigate(d.base + "/admin/jobs?state=retry"))
	if u := b.location(); !strings.Contains(u, "/admin/signin") {
		t.Fatalf("a page without the session cookie went to %s, not the sign-in page", u)
	}
	b.shot("signin")

	// A writer key is refused.
	b.signIn(writerSecret)
	b.waitText("main", "cannot use the console")
	if u := b.location(); !strings.Contains(u, "/admin/signin") {
		t.Fatalf("a writer key signed in: at %s", u)
	}
	b.shot("signin-writer-refused")

	// The admin key signs in and lands where it was going.
	b.signIn(adminSecret)
	b.waitVisible(`table#jobs`)
	b.run(chromedp.Navigate(d.base + "/admin/"))
	b.waitVisible(`#queues tr[data-queue="report"]`)
	// The cache figures appear with the first heartbeat.
	b.waitReload("cache figures", `#cache tr[data-layer]`)
	processedBefore := b.figure(`[data-figure="processed"]`)
	if processedBefore < 1 {
		t.Fatalf("the overview shows %d jobs processed, want the first report's", processedBefore)
	}
	b.shot("overview")

	// A report that fails: retry, then archived.
	if _, err := d.db.Exec(context.Background(), refuseSQL); err != nil {
		t.Fatalf("install the refusal: %v", err)
	}
	doomed := d.create(t, "/products", map[string]any{"name": "Doomed Atlas", "price": "5.00", "stock": 1, "categoryId": cat}, "doomed-request-1")
	b.run(chromedp.Navigate(d.base + "/admin/jobs?queue=report&state=retry"))
	b.waitReload("the failing job in the retry set", `#jobs tr[data-job]`)
	b.shot("jobs-retry")
	b.run(chromedp.Navigate(d.base + "/admin/jobs?queue=report&state=archived"))
	b.waitReload("the failing job in the archived set", `#jobs tr[data-job]`)
	b.shot("jobs-archived")

	// Its page: the attempts, each with its error.
	b.run(chromedp.Click(chromedp.CSS(`#jobs tr[data-job] th a`)))
	b.waitVisible(`#attempts`)
	b.waitText("#attempts", "refused by the console test")
	attempts := b.eval(`String(document.querySelectorAll("#attempts tbody tr").length)`)
	if attempts != "5" {
		t.Errorf("the job's page lists %s attempts, want 5", attempts)
	}
	b.shot("job-archived")

	// Without a CSRF token the same action is refused.
	cookie := b.sessionCookie()
	jobURL := b.location()
	q, _ := url.ParseQuery(strings.SplitN(jobURL, "?", 2)[1])
	form := url.Values{"queue": {q.Get("queue")}, "id": {q.Get("id")}, "action": {"run"}}
	if st := d.postForm(t, "/admin/job", form, cookie); st != http.StatusForbidden {
		t.Errorf("a POST without the CSRF token answered %d, want 403", st)
	}
	form.Set("csrf", "forged")
	if st := d.postForm(t, "/admin/job", form, cookie); st != http.StatusForbidden {
		t.Errorf("a POST with a forged CSRF token answered %d, want 403", st)
	}

	// Retry it from its page once PostgreSQL takes results again.
	if _, err := d.db.Exec(context.Background(), allowSQL); err != nil {
		t.Fatalf("remove the refusal: %v", err)
	}
	b.run(chromedp.Click(chromedp.CSS(`button[name="action"][value="run"]`)))
	b.waitText("main", "moved to pending")
	reportID, _ := d.reportOf(t, doomed)
	b.run(chromedp.Navigate(fmt.Sprintf("%s/admin/reports/%d", d.base, reportID)))
	b.waitReload("the retried report to complete", `#report [data-figure="status"]`, "completed")
	// The request that created the product names its report.
	b.waitText(`#report [data-figure="requestid"]`, "doomed-request-1")
	b.shot("report")

	b.run(chromedp.Navigate(d.base + "/admin/reports"))
	b.waitVisible(`#reports tr[data-report]`)
	b.shot("reports")

	// The product lookup: read the product through the API so the cache
	// holds it, then look at what each layer holds. A GET stores the
	// response only (the repository entry is skipped under a response being
	// computed), so it is the response layer that must say current.
	d.get(t, fmt.Sprintf("/products/%d", doomed))
	b.run(chromedp.Navigate(fmt.Sprintf("%s/admin/product?id=%d", d.base, doomed)))
	b.waitText(`#entries tr[data-layer="response"]`, "yes, current")
	b.shot("product")

	// The overview's counters moved.
	b.run(chromedp.Navigate(d.base + "/admin/"))
	b.waitVisible(`#queues`)
	if after := b.figure(`[data-figure="processed"]`); after < processedBefore+6 {
		t.Errorf("processed moved from %d to %d, want at least 5 failed and 1 retried attempt more", processedBefore, after)
	}
	if failed := b.figure(`[data-figure="failed"]`); failed < 5 {
		t.Errorf("the overview shows %d failed attempts, want 5", failed)
	}
	b.waitText(`[data-figure="relaylag"]`, "sent)")
	b.shot("overview-after")
	b.run(chromedp.EmulateViewport(390, 844))
	b.run(chromedp.Reload())
	b.waitVisible(`#queues`)
	b.shot("overview-phone")

	// Wrong keys are rate limited per client.
	statuses := []int{}
	for range 6 {
		statuses = append(statuses, d.postForm(t, "/admin/signin", url.Values{"key": {"wrong-key"}}, ""))
	}
	if statuses[len(statuses)-1] != http.StatusTooManyRequests {
		t.Errorf("six wrong keys in a row answered %v, want the last 429", statuses)
	}
	for _, secret := range []string{adminSecret, writerSecret} {
		if strings.Contains(d.proc.Output(), secret) {
			t.Errorf("a key's secret appears in the process's log")
		}
	}
	t.Logf("screenshots: %s", strings.Join(b.saved, ", "))
}

// postForm posts a form with the session cookie (if any) and returns the
// status.
func (d *deployment) postForm(t *testing.T, path string, form url.Values, cookie string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, d.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	resp, err := d.http.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if bytes.Contains(body, []byte(adminSecret)) || bytes.Contains(body, []byte(writerSecret)) {
		t.Errorf("POST %s: a key's secret appears in the page", path)
	}
	return resp.StatusCode
}

func waitFor(t *testing.T, what string, timeout time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// browser is the headless Chromium with helpers that fail the test.
type browser struct {
	t     *testing.T
	ctx   context.Context
	base  string
	shots string
	saved []string
}

func (b *browser) run(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.t.Fatalf("browser: %v", err)
	}
}

// eval returns the value of a JavaScript expression; "" when it fails.
func (b *browser) eval(expr string) string {
	v, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](expr))
	return v
}

func (b *browser) location() string {
	b.t.Helper()
	u, err := chromedp.Run(b.ctx, chromedp.Location())
	if err != nil {
		b.t.Fatalf("browser: %v", err)
	}
	return u
}

func (b *browser) signIn(secret string) {
	b.t.Helper()
	b.run(chromedp.WaitVisible(chromedp.CSS(`#key`)),
		chromedp.SetValue(chromedp.CSS(`#key`), secret),
		chromedp.Submit(chromedp.CSS(`#key`)))
	b.waitVisible(`main h1`)
}

func (b *browser) waitVisible(sel string) {
	b.t.Helper()
	b.run(chromedp.WaitVisible(chromedp.CSS(sel)))
}

// waitText waits until the element's text contains want.
func (b *browser) waitText(sel, want string) {
	b.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		text := b.eval(fmt.Sprintf(`(function(){var e=document.querySelector(%q);return e?e.innerText:""})()`, sel))
		if strings.Contains(text, want) {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("%s never said %q; it says %q", sel, want, text)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// waitReload reloads the page until sel exists (and, if given, its text
// contains want[0]).
func (b *browser) waitReload(what, sel string, want ...string) {
	b.t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		text := b.eval(fmt.Sprintf(`(function(){var e=document.querySelector(%q);return e?"found:"+e.innerText:""})()`, sel))
		if strings.HasPrefix(text, "found:") && (len(want) == 0 || strings.Contains(text, want[0])) {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("timed out waiting for %s (%s)", what, sel)
		}
		time.Sleep(time.Second)
		b.run(chromedp.Reload())
	}
}

func (b *browser) figure(sel string) int {
	b.t.Helper()
	text, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("browser: %v", err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(text))
	if err != nil {
		b.t.Fatalf("%s is %q, not a number", sel, text)
	}
	return n
}

// sessionCookie returns the session cookie as a Cookie header value.
func (b *browser) sessionCookie() string {
	b.t.Helper()
	res, err := chromedp.Run(b.ctx, func(ctx context.Context, t *chromedp.Target) (network.GetCookiesResult, error) {
		return cdp.Call(ctx, t, network.GetCookies, network.GetCookiesParams{URLs: []string{b.base + "/admin/"}})
	})
	if err != nil {
		b.t.Fatalf("browser: %v", err)
	}
	for _, c := range res.Cookies {
		if c.Name == "etalase_console" {
			if !c.HTTPOnly || c.SameSite != network.CookieSameSiteStrict || c.Expires <= 0 {
				b.t.Errorf("the session cookie is HttpOnly=%v SameSite=%v expires=%v; want HttpOnly, Strict and an expiry",
					c.HTTPOnly, c.SameSite, c.Expires)
			}
			if strings.Contains(c.Value, adminSecret) {
				b.t.Error("the session cookie carries the admin key")
			}
			return c.Name + "=" + c.Value
		}
	}
	b.t.Fatal("no session cookie after signing in")
	return ""
}

func (b *browser) shot(name string) {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("browser: %v", err)
	}
	path := filepath.Join(b.shots, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatalf("save screenshot: %v", err)
	}
	b.saved = append(b.saved, name+".png")
}
