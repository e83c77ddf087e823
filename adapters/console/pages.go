package console

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"go.uber.org/zap"

	"github.com/etalase/etalase/application"
	"github.com/etalase/etalase/domain"
)

func (c *Console) signInPage(ctx *fiber.Ctx) error {
	if _, ok := c.keys.verify(ctx.Cookies(cookieName), c.now()); ok {
		return ctx.Redirect("/admin/", fiber.StatusSeeOther)
	}
	return c.render(ctx, "signin", page{Title: "Sign in", Data: safeNext(ctx.Query("next"))})
}

// signIn checks the key posted in the form body. The key is never echoed,
// logged or put in a URL; a failure is a 401 (a writer key's a 403), which
// the rate limiter counts.
func (c *Console) signIn(ctx *fiber.Ctx) error {
	next := safeNext(ctx.FormValue("next"))
	key, ok := c.keys.lookup(strings.TrimSpace(ctx.FormValue("key")))
	switch {
	case !ok:
		c.log.Info("console sign-in refused", zap.String("reason", "unknown key"), zap.String("ip", ctx.IP()))
		return c.render(ctx.Status(fiber.StatusUnauthorized), "signin",
			page{Title: "Sign in", Error: "That key is not valid.", Data: next})
	case !key.admin:
		c.log.Info("console sign-in refused", zap.String("reason", "not an admin key"), zap.String("key", key.name), zap.String("ip", ctx.IP()))
		return c.render(ctx.Status(fiber.StatusForbidden), "signin",
			page{Title: "Sign in", Error: "That key may write through the API but cannot use the console: sign in with an admin key.", Data: next})
	}
	s := newSession(key, c.now(), c.cfg.SessionTTL)
	setSessionCookie(ctx, s)
	c.log.Info("console sign-in", zap.String("key", key.name), zap.String("ip", ctx.IP()))
	return ctx.Redirect(next, fiber.StatusSeeOther)
}

// safeNext keeps a redirect target inside the console.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/admin") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return "/admin/"
	}
	return next
}

func (c *Console) signOut(ctx *fiber.Ctx) error {
	clearSessionCookie(ctx)
	return ctx.Redirect("/admin/signin", fiber.StatusSeeOther)
}

func (c *Console) overview(ctx *fiber.Ctx) error {
	o := c.app.Overview(ctx.UserContext())
	return c.render(ctx, "overview", c.page(ctx, "Overview", "overview", o))
}

// jobsView is the data of the jobs page.
type jobsView struct {
	Queue     string
	State     application.JobState
	States    []application.JobState
	Page      int
	Jobs      []application.JobInfo
	More      bool
	Searching bool
	ReportID  string
	ProductID string
	Paused    bool
}

func (c *Console) jobs(ctx *fiber.Ctx) error {
	v := jobsView{Queue: queueParam(ctx.Query("queue")), States: application.JobStates, Page: 1}
	st, ok := application.ParseJobState(ctx.Query("state", string(application.JobPending)))
	if !ok {
		return c.fail(ctx, fiber.StatusBadRequest, "Unknown job state.")
	}
	v.State = st
	if p, err := strconv.Atoi(ctx.Query("page", "1")); err == nil && p > 0 && p < 1_000_000 {
		v.Page = p
	}
	v.ReportID, v.ProductID = strings.TrimSpace(ctx.Query("report")), strings.TrimSpace(ctx.Query("product"))
	var err error
	if v.ReportID != "" || v.ProductID != "" {
		rid, rok := optionalID(v.ReportID)
		pid, pok := optionalID(v.ProductID)
		if !rok || !pok {
			return c.fail(ctx, fiber.StatusBadRequest, "A report or product id is a positive whole number.")
		}
		v.Searching = true
		v.Jobs, err = c.app.SearchJobs(ctx.UserContext(), application.JobSearch{Queue: v.Queue, ReportID: rid, ProductID: pid})
	} else {
		v.Jobs, err = c.app.Jobs(ctx.UserContext(), v.Queue, v.State, v.Page)
		v.More = len(v.Jobs) == application.ConsolePageSize
	}
	if err != nil {
		return c.failWith(ctx, err)
	}
	v.Paused = c.app.Paused(ctx.UserContext(), v.Queue)
	return c.render(ctx, "jobs", c.page(ctx, "Jobs", "jobs", v))
}

func (c *Console) job(ctx *fiber.Ctx) error {
	d, err := c.app.Job(ctx.UserContext(), queueParam(ctx.Query("queue")), ctx.Query("id"))
	if err != nil {
		return c.failWith(ctx, err)
	}
	return c.render(ctx, "job", c.page(ctx, "Job "+d.Job.ID, "jobs", d))
}

func (c *Console) jobAction(ctx *fiber.Ctx) error {
	queue, id := queueParam(ctx.FormValue("queue")), ctx.FormValue("id")
	action := application.JobAction(ctx.FormValue("action"))
	if err := c.app.ActOnJob(ctx.UserContext(), queue, id, action); err != nil {
		return c.failWith(ctx, err)
	}
	s, _ := ctx.Locals(localSession).(session)
	c.log.Info("console job action", zap.String("user", s.name), zap.String("action", string(action)),
		zap.String("queue", queue), zap.String("job_id", id))
	target := "/admin/job?queue=" + url.QueryEscape(queue) + "&id=" + url.QueryEscape(id) + "&done=" + string(action)
	if action == application.ActionDelete {
		target = "/admin/jobs?queue=" + url.QueryEscape(queue) + "&done=delete"
	}
	return ctx.Redirect(target, fiber.StatusSeeOther)
}

func (c *Console) bulkAction(ctx *fiber.Ctx) error {
	queue := queueParam(ctx.FormValue("queue"))
	st, _ := application.ParseJobState(ctx.FormValue("state"))
	action := application.JobAction(ctx.FormValue("action"))
	n, err := c.app.ActOnAll(ctx.UserContext(), queue, st, action)
	if err != nil {
		return c.failWith(ctx, err)
	}
	s, _ := ctx.Locals(localSession).(session)
	c.log.Info("console bulk action", zap.String("user", s.name), zap.String("action", string(action)),
		zap.String("queue", queue), zap.String("state", string(st)), zap.Int("jobs", n))
	return ctx.Redirect("/admin/jobs?queue="+url.QueryEscape(queue)+"&state="+string(st)+"&done=bulk-"+string(action)+
		"&n="+strconv.Itoa(n), fiber.StatusSeeOther)
}

func (c *Console) queueAction(ctx *fiber.Ctx) error {
	queue, action := queueParam(ctx.FormValue("queue")), ctx.FormValue("action")
	if action != "pause" && action != "resume" {
		return c.fail(ctx, fiber.StatusBadRequest, "Unknown queue action.")
	}
	if err := c.app.SetPaused(ctx.UserContext(), queue, action == "pause"); err != nil {
		return c.failWith(ctx, err)
	}
	s, _ := ctx.Locals(localSession).(session)
	c.log.Info("console queue action", zap.String("user", s.name), zap.String("action", action), zap.String("queue", queue))
	return ctx.Redirect(safeNext(ctx.FormValue("next"))+"", fiber.StatusSeeOther)
}

// reportsView is the data of the reports page.
type reportsView struct {
	Status   string
	Statuses []domain.ReportStatus
	Reports  []domain.Report
	Next     int64 // the before id of the next page, 0 when none
}

func (c *Console) reports(ctx *fiber.Ctx) error {
	v := reportsView{Status: ctx.Query("status"),
		Statuses: []domain.ReportStatus{domain.ReportQueued, domain.ReportRunning, domain.ReportCompleted, domain.ReportFailed}}
	switch domain.ReportStatus(v.Status) {
	case "", domain.ReportQueued, domain.ReportRunning, domain.ReportCompleted, domain.ReportFailed:
	default:
		return c.fail(ctx, fiber.StatusBadRequest, "Unknown report status.")
	}
	before, ok := optionalID(ctx.Query("before"))
	if !ok {
		return c.fail(ctx, fiber.StatusBadRequest, "The page marker is not valid.")
	}
	var err error
	v.Reports, err = c.app.Reports(ctx.UserContext(), domain.ReportStatus(v.Status), before)
	if err != nil {
		return c.failWith(ctx, err)
	}
	if len(v.Reports) == application.ConsolePageSize {
		v.Next = v.Reports[len(v.Reports)-1].ID
	}
	return c.render(ctx, "reports", c.page(ctx, "Reports", "reports", v))
}

func (c *Console) report(ctx *fiber.Ctx) error {
	id, ok := optionalID(ctx.Params("id"))
	if !ok || id == 0 {
		return c.fail(ctx, fiber.StatusBadRequest, "A report id is a positive whole number.")
	}
	d, err := c.app.Report(ctx.UserContext(), id)
	if err != nil {
		return c.failWith(ctx, err)
	}
	return c.render(ctx, "report", c.page(ctx, "Report "+strconv.FormatInt(id, 10), "reports", d))
}

// productView is the data of the product lookup page.
type productView struct {
	ID     string
	Found  bool
	Detail application.ProductDetail
}

func (c *Console) product(ctx *fiber.Ctx) error {
	v := productView{ID: strings.TrimSpace(ctx.Query("id"))}
	if v.ID != "" {
		id, ok := optionalID(v.ID)
		if !ok || id == 0 {
			return c.fail(ctx, fiber.StatusBadRequest, "A product id is a positive whole number.")
		}
		d, err := c.app.Product(ctx.UserContext(), id)
		if err != nil {
			return c.failWith(ctx, err)
		}
		v.Found, v.Detail = true, d
	}
	return c.render(ctx, "product", c.page(ctx, "Product lookup", "product", v))
}

// failWith renders a use case's error with the status its kind calls for
// and its safe text only.
func (c *Console) failWith(ctx *fiber.Ctx, err error) error {
	status := fiber.StatusInternalServerError
	switch domain.KindOf(err) {
	case domain.KindInvalid:
		status = fiber.StatusBadRequest
	case domain.KindNotFound:
		status = fiber.StatusNotFound
	case domain.KindConflict, domain.KindPrecondition:
		status = fiber.StatusConflict
	case domain.KindUnavailable:
		status = fiber.StatusServiceUnavailable
	}
	if status >= 500 {
		c.log.Error("console request failed", zap.String("path", ctx.Path()), zap.Error(err))
	}
	return c.fail(ctx, status, application.ErrorText(err))
}

// optionalID reads "" as 0 and a positive int64 as itself.
func optionalID(s string) (int64, bool) {
	if s == "" {
		return 0, true
	}
	id, err := strconv.ParseInt(s, 10, 64)
	return id, err == nil && id > 0
}

// queueParam defaults the queue to the report queue and bounds its name.
func queueParam(q string) string {
	q = strings.TrimSpace(q)
	if q == "" || len(q) > 255 {
		return domain.QueueReport
	}
	return q
}

// notice is the sentence shown after an action redirected back.
func notice(done, n string) string {
	switch done {
	case "run":
		return "The job was moved to pending: a worker takes it next."
	case "delete":
		return "The job was deleted."
	case "archive":
		return "The job was archived."
	case "bulk-run":
		return "Moved " + digits(n) + " jobs to pending."
	case "bulk-delete":
		return "Deleted " + digits(n) + " jobs."
	}
	return ""
}

func digits(s string) string {
	if _, err := strconv.Atoi(s); err != nil {
		return "the"
	}
	return s
}
