-- products_category_price_stock_idx (00005) orders a category's products by
-- price as this index did, and holds their stock too: this one only costs
-- every write. Dropped concurrently, so outside a transaction; IF EXISTS
-- lets a run that was cut short run again.

-- +goose NO TRANSACTION
-- +goose Up

DROP INDEX CONCURRENTLY IF EXISTS products_category_price_id_idx;

-- +goose Down

CREATE INDEX CONCURRENTLY IF NOT EXISTS products_category_price_id_idx ON products (category_id, price_cents, id);
