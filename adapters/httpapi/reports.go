package httpapi

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/etalase/etalase/application"
	"github.com/etalase/etalase/domain"
)

// reportJSON is a report on the wire.
type reportJSON struct {
	ID          int64             `json:"id"`
	ProductID   int64             `json:"productId"`
	Status      string            `json:"status"`
	RequestedBy string            `json:"requestedBy"`
	RequestID   *string           `json:"requestId"`
	Attempts    int               `json:"attempts"`
	Error       *string           `json:"error"`
	CreatedAt   string            `json:"createdAt"`
	StartedAt   *string           `json:"startedAt"`
	FinishedAt  *string           `json:"finishedAt"`
	Result      *reportResultJSON `json:"result"`
}

// reportResultJSON is the summary of a product a report job computed.
type reportResultJSON struct {
	ProductID     int64   `json:"productId"`
	SKU           *string `json:"sku"`
	Name          string  `json:"name"`
	CategoryID    int64   `json:"categoryId"`
	CategoryName  string  `json:"categoryName"`
	Price         string  `json:"price"`
	Stock         int64   `json:"stock"`
	StockValue    string  `json:"stockValue"`
	PriceRank     int     `json:"priceRank"`
	CategorySize  int     `json:"categorySize"`
	CategoryValue string  `json:"categoryValue"`
	ComputedAt    string  `json:"computedAt"`
}

// reportListJSON is a product's reports, newest first.
type reportListJSON struct {
	Data []reportJSON `json:"data"`
}

func toReportJSON(r domain.Report) reportJSON {
	out := reportJSON{
		ID:          r.ID,
		ProductID:   r.ProductID,
		Status:      string(r.Status),
		RequestedBy: r.RequestedBy,
		Attempts:    r.Attempts,
		Error:       r.Error,
		CreatedAt:   timestamp(r.CreatedAt),
		StartedAt:   optionalTimestamp(r.StartedAt),
		FinishedAt:  optionalTimestamp(r.FinishedAt),
	}
	if r.RequestID != "" {
		id := r.RequestID
		out.RequestID = &id
	}
	if res := r.Result; res != nil {
		out.Result = &reportResultJSON{
			ProductID:     res.ProductID,
			SKU:           res.SKU,
			Name:          res.Name,
			CategoryID:    res.CategoryID,
			CategoryName:  res.CategoryName,
			Price:         res.Price.String(),
			Stock:         res.Stock,
			StockValue:    res.StockValue.String(),
			PriceRank:     res.PriceRank,
			CategorySize:  res.CategorySize,
			CategoryValue: res.CategoryValue.String(),
			ComputedAt:    timestamp(res.ComputedAt),
		}
	}
	return out
}

func optionalTimestamp(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := timestamp(*t)
	return &s
}

func (s *Server) requestReport(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	r, err := s.svc.Reports.RequestReport(c.UserContext(), application.RequestReport{ProductID: id, RequestedBy: KeyName(c),
		RequestID: RequestID(c)})
	if err != nil {
		return err
	}
	c.Location("/reports/" + strconv.FormatInt(r.ID, 10))
	return sendJSON(c, fiber.StatusAccepted, toReportJSON(r))
}

func (s *Server) listReports(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	reports, err := s.svc.Reports.ListReports(c.UserContext(), id)
	if err != nil {
		return err
	}
	out := reportListJSON{Data: make([]reportJSON, 0, len(reports))}
	for _, r := range reports {
		out.Data = append(out.Data, toReportJSON(r))
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return sendJSON(c, fiber.StatusOK, out)
}

func (s *Server) getReport(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	r, err := s.svc.Reports.GetReport(c.UserContext(), id)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return sendJSON(c, fiber.StatusOK, toReportJSON(r))
}

// rawJSON keeps a job payload as the JSON it is, or as a string if it is not.
func rawJSON(b []byte) json.RawMessage {
	if json.Valid(b) {
		return b
	}
	s, _ := json.Marshal(string(b))
	return s
}
