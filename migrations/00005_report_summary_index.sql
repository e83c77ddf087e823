-- A report summarizes its product within its category: the category's size
-- and stock value, and the product's price rank (1 + how many products of
-- the category cost more). Those need only category_id, price_cents and
-- stock of each product in the category, and until now the summary read
-- them from the table, one heap page per product of the category (products
-- of a category are inserted among everyone else's). With stock included
-- in an index that orders a category's products by price, the summary is
-- an index-only scan of the category: with 385 products in the category,
-- 332 heap pages and 2.7 ms became 6 index pages and 0.24 ms. (It reads the
-- table only for pages changed since the last vacuum, which autovacuum
-- keeps few.)
--
-- The price: an update that changes only a product's stock can no longer
-- be a HOT update (stock is in an index now), so it writes an entry in
-- every index of products, as a price change always did.
--
-- The index is built CONCURRENTLY so a large catalog keeps taking writes
-- while it builds; migrations of one database wait for each other on a
-- session lock, not a transaction, so this file runs outside one, with one
-- statement (00006 drops the index this one replaces). If the build fails
-- it leaves an invalid index behind: drop products_category_price_stock_idx
-- and migrate again.

-- +goose NO TRANSACTION
-- +goose Up

CREATE INDEX CONCURRENTLY products_category_price_stock_idx
    ON products (category_id, price_cents, id) INCLUDE (stock);

-- +goose Down

DROP INDEX CONCURRENTLY IF EXISTS products_category_price_stock_idx;
