package httpapi

import (
	"encoding/json"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/etalase/etalase/domain"
)

// queueCountsJSON is one queue's job counts by state.
type queueCountsJSON struct {
	Queue     string `json:"queue"`
	Pending   int    `json:"pending"`
	Active    int    `json:"active"`
	Scheduled int    `json:"scheduled"`
	Retry     int    `json:"retry"`
	Archived  int    `json:"archived"`
	Completed int    `json:"completed"`
}

// failedJobJSON is a job that failed for good.
type failedJobJSON struct {
	ID           string          `json:"id"`
	Type         string          `json:"type"`
	Queue        string          `json:"queue"`
	Payload      json.RawMessage `json:"payload"`
	Retried      int             `json:"retried"`
	MaxRetry     int             `json:"maxRetry"`
	LastError    string          `json:"lastError"`
	LastFailedAt *string         `json:"lastFailedAt"`
}

func (s *Server) queueCounts(c *fiber.Ctx) error {
	counts, err := s.svc.Queues.Counts(c.UserContext())
	if err != nil {
		return err
	}
	out := struct {
		Data []queueCountsJSON `json:"data"`
	}{Data: make([]queueCountsJSON, 0, len(counts))}
	for _, q := range counts {
		out.Data = append(out.Data, queueCountsJSON(q))
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return sendJSON(c, fiber.StatusOK, out)
}

func (s *Server) failedJobs(c *fiber.Ctx) error {
	queue, err := nameParam(c, "queue")
	if err != nil {
		return err
	}
	jobs, err := s.svc.Queues.Failed(c.UserContext(), queue)
	if err != nil {
		return err
	}
	out := struct {
		Data []failedJobJSON `json:"data"`
	}{Data: make([]failedJobJSON, 0, len(jobs))}
	for _, j := range jobs {
		f := failedJobJSON{ID: j.ID, Type: j.Type, Queue: j.Queue, Payload: rawJSON(j.Payload),
			Retried: j.Retried, MaxRetry: j.MaxRetry, LastError: j.LastError}
		if !j.LastFailedAt.IsZero() {
			f.LastFailedAt = optionalTimestamp(&j.LastFailedAt)
		}
		out.Data = append(out.Data, f)
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return sendJSON(c, fiber.StatusOK, out)
}

func (s *Server) retryJob(c *fiber.Ctx) error {
	queue, err := nameParam(c, "queue")
	if err != nil {
		return err
	}
	id, err := nameParam(c, "job")
	if err != nil {
		return err
	}
	if err := s.svc.Queues.Retry(c.UserContext(), queue, id); err != nil {
		return err
	}
	return sendJSON(c, fiber.StatusAccepted, struct {
		ID     string `json:"id"`
		Queue  string `json:"queue"`
		Status string `json:"status"`
	}{ID: id, Queue: queue, Status: "pending"})
}

// nameParam reads a queue or job name from the path: 1 to 255 printable
// ASCII characters, copied out of fiber's buffer.
func nameParam(c *fiber.Ctx, name string) (string, error) {
	v := strings.Clone(c.Params(name))
	ok := v != "" && len(v) <= 255
	for i := 0; ok && i < len(v); i++ {
		ok = v[i] > 0x20 && v[i] < 0x7f
	}
	if !ok {
		return "", errBadRequest("the "+name+" in the path is not valid",
			domain.FieldError{Field: name, Message: "must be 1 to 255 printable characters"})
	}
	return v, nil
}
