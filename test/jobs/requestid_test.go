package jobs

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/etalase/etalase/test/apiclient"
)

// TestRequestIDReachesTheJob follows the X-Request-ID of the POST that
// created a product, and of one that asked for another report, through the
// outbox into the job: the worker's log lines about each job carry it as
// request_id, and the report stores it and shows it as requestId.
func TestRequestIDReachesTheJob(t *testing.T) {
	t.Parallel()
	c := newCluster(t, map[string]string{"LOG_LEVEL": "info"})
	c.startAPI()
	w := c.startWorker(nil)

	productID := c.postWithRequestID(t, "/products", c.product("RID-1"), "abc", http.StatusCreated)
	reportID := c.postWithRequestID(t, fmt.Sprintf("/products/%d/reports", productID), nil, "def-2", http.StatusAccepted)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		var done int
		if err := c.db.QueryRow(context.Background(), `SELECT count(*) FROM reports WHERE product_id = $1 AND status = 'completed'`,
			productID).Scan(&done); err != nil {
			t.Fatal(err)
		}
		if done == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of the product's 2 reports completed after 30 s", done)
		}
	}

	rows, err := c.db.Query(context.Background(), `SELECT id, coalesce(request_id, '') FROM reports WHERE product_id = $1 ORDER BY id`, productID)
	if err != nil {
		t.Fatal(err)
	}
	stored := map[int64]string{}
	var first int64
	for rows.Next() {
		var id int64
		var rid string
		if err := rows.Scan(&id, &rid); err != nil {
			t.Fatal(err)
		}
		if first == 0 {
			first = id
		}
		stored[id] = rid
	}
	rows.Close()
	if stored[first] != "abc" || stored[reportID] != "def-2" {
		t.Fatalf("stored request ids %v, want report %d abc and report %d def-2", stored, first, reportID)
	}
	for id, want := range map[int64]string{first: "abc", reportID: "def-2"} {
		r, err := c.api.Do(http.MethodGet, fmt.Sprintf("/reports/%d", id), nil)
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			RequestID *string `json:"requestId"`
			Status    string  `json:"status"`
		}
		err = r.Decode(&body)
		if err != nil || body.RequestID == nil || *body.RequestID != want {
			t.Fatalf("GET /reports/%d: requestId %v (%v), want %q", id, body.RequestID, err, want)
		}
	}
	// Each job's start and finish line carry its request id.
	deadline := time.Now().Add(10 * time.Second)
	for {
		out := w.Output()
		ok := true
		for id, want := range map[int64]string{first: "abc", reportID: "def-2"} {
			for _, msg := range []string{"job started", "job finished"} {
				if !logLineWith(out, msg, fmt.Sprintf(`report-%d"`, id), `"request_id":"`+want+`"`) {
					ok = false
				}
			}
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the worker's job lines do not carry the request ids abc and def-2:\n%s", out)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// logLineWith reports whether one line of out holds every part.
func logLineWith(out string, parts ...string) bool {
	for _, line := range strings.Split(out, "\n") {
		all := true
		for _, p := range parts {
			if !strings.Contains(line, p) {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}

// postWithRequestID posts body (none when nil) with an X-Request-ID and
// returns the id of what the API made.
func (c *cluster) postWithRequestID(t *testing.T, path string, body any, requestID string, want int) int64 {
	t.Helper()
	r, err := c.api.Do(http.MethodPost, path, body, apiclient.Header{Name: "X-Request-ID", Value: requestID})
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		ID int64 `json:"id"`
	}
	if r.Status != want || r.Decode(&out) != nil || out.ID == 0 {
		t.Fatalf("POST %s = %d %s, want %d", path, r.Status, r.Body, want)
	}
	return out.ID
}
