package cache

import (
	"encoding/json"
	"errors"
	"time"

	"github.com/etalase/etalase/domain"
)

// The JSON forms of cached entities. The cache owns them, so the domain
// stays free of tags and operators can read entries with redis-cli.

type productJSON struct {
	ID              int64     `json:"id"`
	SKU             *string   `json:"sku"`
	Name            string    `json:"name"`
	Description     *string   `json:"description"`
	PriceCents      int64     `json:"priceCents"`
	Stock           int64     `json:"stock"`
	CategoryID      int64     `json:"categoryId"`
	CategoryName    string    `json:"categoryName"`
	CategoryVersion int64     `json:"categoryVersion"`
	Version         int64     `json:"version"`
	CreatedAt       time.Time `json:"createdAt"`
	UpdatedAt       time.Time `json:"updatedAt"`
}

type categoryJSON struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	Version   int64     `json:"version"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

type cursorJSON struct {
	Sort string `json:"sort"`
	Key  string `json:"key"`
	ID   int64  `json:"id"`
}

type productPageJSON struct {
	Items []productJSON `json:"items"`
	Next  *cursorJSON   `json:"next"`
}

type categoryPageJSON struct {
	Items []categoryJSON `json:"items"`
	Next  *cursorJSON    `json:"next"`
}

func toProductJSON(p domain.Product) productJSON {
	return productJSON{ID: p.ID, SKU: p.SKU, Name: p.Name, Description: p.Description,
		PriceCents: int64(p.Price), Stock: p.Stock, CategoryID: p.CategoryID, CategoryName: p.CategoryName,
		CategoryVersion: p.CategoryVersion, Version: p.Version, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt}
}

func (j productJSON) domain() domain.Product {
	return domain.Product{ID: j.ID, SKU: j.SKU, Name: j.Name, Description: j.Description,
		Price: domain.Price(j.PriceCents), Stock: j.Stock, CategoryID: j.CategoryID, CategoryName: j.CategoryName,
		CategoryVersion: j.CategoryVersion, Version: j.Version, CreatedAt: j.CreatedAt, UpdatedAt: j.UpdatedAt}
}

func toCategoryJSON(c domain.Category) categoryJSON {
	return categoryJSON{ID: c.ID, Name: c.Name, Version: c.Version, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
}

func (j categoryJSON) domain() domain.Category {
	return domain.Category{ID: j.ID, Name: j.Name, Version: j.Version, CreatedAt: j.CreatedAt, UpdatedAt: j.UpdatedAt}
}

func toCursorJSON(c *domain.Cursor) *cursorJSON {
	if c == nil {
		return nil
	}
	return &cursorJSON{Sort: c.Sort, Key: c.Key, ID: c.ID}
}

func (j *cursorJSON) domain() *domain.Cursor {
	if j == nil {
		return nil
	}
	return &domain.Cursor{Sort: j.Sort, Key: j.Key, ID: j.ID}
}

func encodeProduct(p domain.Product) ([]byte, error) { return json.Marshal(toProductJSON(p)) }

func decodeProduct(b []byte) (domain.Product, error) {
	var j productJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return domain.Product{}, err
	}
	if err := j.check(); err != nil {
		return domain.Product{}, err
	}
	return j.domain(), nil
}

// errNoCategoryVersion rejects a product entry written before products
// carried their category's version: read as 0 it would build an ETag that
// never matches, so the entry is replaced like a missing one instead.
var errNoCategoryVersion = errors.New("cache: product entry without its category's version")

func (j productJSON) check() error {
	if j.CategoryVersion <= 0 {
		return errNoCategoryVersion
	}
	return nil
}

func encodeCategory(c domain.Category) ([]byte, error) { return json.Marshal(toCategoryJSON(c)) }

func decodeCategory(b []byte) (domain.Category, error) {
	var j categoryJSON
	err := json.Unmarshal(b, &j)
	return j.domain(), err
}

func encodeProductPage(p domain.ProductPage) ([]byte, error) {
	j := productPageJSON{Items: make([]productJSON, len(p.Items)), Next: toCursorJSON(p.Next)}
	for i, it := range p.Items {
		j.Items[i] = toProductJSON(it)
	}
	return json.Marshal(j)
}

func decodeProductPage(b []byte) (domain.ProductPage, error) {
	var j productPageJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return domain.ProductPage{}, err
	}
	p := domain.ProductPage{Items: make([]domain.Product, len(j.Items)), Next: j.Next.domain()}
	for i, it := range j.Items {
		if err := it.check(); err != nil {
			return domain.ProductPage{}, err
		}
		p.Items[i] = it.domain()
	}
	return p, nil
}

func encodeCategoryPage(p domain.CategoryPage) ([]byte, error) {
	j := categoryPageJSON{Items: make([]categoryJSON, len(p.Items)), Next: toCursorJSON(p.Next)}
	for i, it := range p.Items {
		j.Items[i] = toCategoryJSON(it)
	}
	return json.Marshal(j)
}

func decodeCategoryPage(b []byte) (domain.CategoryPage, error) {
	var j categoryPageJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return domain.CategoryPage{}, err
	}
	p := domain.CategoryPage{Items: make([]domain.Category, len(j.Items)), Next: j.Next.domain()}
	for i, it := range j.Items {
		p.Items[i] = it.domain()
	}
	return p, nil
}
