-- The catalog: categories, products, their reports, the transactional outbox
-- and the idempotency records of keyed creates.

-- +goose Up

-- Names sort and page in the "C" collation (code point order), whatever the
-- database's locale is, so every adapter orders names the same way; lower()
-- keeps the database's locale so case folding is not limited to ASCII.
CREATE TABLE categories (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       text        NOT NULL,
    version    bigint      NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT categories_name_length CHECK (char_length(name) BETWEEN 1 AND 100),
    CONSTRAINT categories_version_positive CHECK (version >= 1)
);

CREATE UNIQUE INDEX categories_name_key ON categories (lower(name));

CREATE TABLE products (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sku         text,
    name        text        NOT NULL,
    description text,
    price_cents bigint      NOT NULL,
    stock       bigint      NOT NULL DEFAULT 0,
    category_id bigint      NOT NULL,
    version     bigint      NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT products_category_fkey FOREIGN KEY (category_id)
        REFERENCES categories (id) ON DELETE RESTRICT,
    CONSTRAINT products_sku_length CHECK (char_length(sku) BETWEEN 1 AND 64),
    CONSTRAINT products_name_length CHECK (char_length(name) BETWEEN 1 AND 200),
    CONSTRAINT products_description_length CHECK (char_length(description) <= 2000),
    CONSTRAINT products_price_range CHECK (price_cents BETWEEN 0 AND 999999999999),
    CONSTRAINT products_stock_range CHECK (stock BETWEEN 0 AND 2147483647),
    CONSTRAINT products_version_positive CHECK (version >= 1)
);

CREATE UNIQUE INDEX products_sku_key ON products (sku) WHERE sku IS NOT NULL;

-- Keyset pagination: one index per sort, (sort value, id), and the same with
-- category_id leading for lists filtered by category. Backward scans serve
-- the descending sorts. (category_id, id) also serves the foreign key check
-- when a category is deleted.
CREATE INDEX products_category_id_idx         ON products (category_id, id);
CREATE INDEX products_name_id_idx             ON products ((name COLLATE "C"), id);
CREATE INDEX products_category_name_id_idx    ON products (category_id, (name COLLATE "C"), id);
CREATE INDEX products_price_id_idx            ON products (price_cents, id);
CREATE INDEX products_category_price_id_idx   ON products (category_id, price_cents, id);
CREATE INDEX products_created_id_idx          ON products (created_at, id);
CREATE INDEX products_category_created_id_idx ON products (category_id, created_at, id);

-- Name search (q) is a substring match on lower(name): a trigram index makes
-- it an index scan. pg_trgm ships with PostgreSQL's contrib and is a trusted
-- extension; where it is missing or may not be created, search still works,
-- only slower.
-- +goose StatementBegin
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm') THEN
        CREATE EXTENSION IF NOT EXISTS pg_trgm;
        CREATE INDEX products_name_trgm_idx ON products USING gin (lower(name) gin_trgm_ops);
    ELSE
        RAISE NOTICE 'pg_trgm is not available: name search runs without an index';
    END IF;
EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'pg_trgm may not be created here: name search runs without an index';
END
$$;
-- +goose StatementEnd

CREATE TABLE reports (
    id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    product_id   bigint      NOT NULL,
    status       text        NOT NULL DEFAULT 'queued',
    requested_by text        NOT NULL,
    attempts     integer     NOT NULL DEFAULT 0,
    error        text,
    result       jsonb,
    created_at   timestamptz NOT NULL DEFAULT now(),
    started_at   timestamptz,
    finished_at  timestamptz,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT reports_product_fkey FOREIGN KEY (product_id)
        REFERENCES products (id) ON DELETE CASCADE,
    CONSTRAINT reports_status_check CHECK (status IN ('queued', 'running', 'completed', 'failed')),
    CONSTRAINT reports_attempts_check CHECK (attempts >= 0)
);

-- A product's reports, newest first.
CREATE INDEX reports_product_id_idx ON reports (product_id, id DESC);
-- The sweeper's search for reports left queued or running.
CREATE INDEX reports_pending_idx ON reports (updated_at, id) WHERE status IN ('queued', 'running');

CREATE TABLE outbox (
    id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_id     text        NOT NULL,
    job_type   text        NOT NULL,
    queue      text        NOT NULL,
    payload    bytea       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    sent_at    timestamptz
);

-- Relays claim unsent rows in id order, and prune sent ones by age.
CREATE INDEX outbox_unsent_idx ON outbox (id) WHERE sent_at IS NULL;
CREATE INDEX outbox_sent_at_idx ON outbox (sent_at) WHERE sent_at IS NOT NULL;

-- Relays LISTEN on etalase_outbox so a committed job is relayed at once
-- rather than at the next poll. Once per statement: the payload is empty.
-- +goose StatementBegin
CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('etalase_outbox', '');
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
    FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();

CREATE TABLE idempotency_keys (
    scope       text        NOT NULL,
    key         text        NOT NULL,
    fingerprint text        NOT NULL,
    product     jsonb       NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, key)
);

-- Expired records are found by age.
CREATE INDEX idempotency_keys_created_at_idx ON idempotency_keys (created_at);

-- +goose Down

DROP TABLE idempotency_keys;
DROP TRIGGER outbox_notify ON outbox;
DROP FUNCTION outbox_notify();
DROP TABLE outbox;
DROP TABLE reports;
DROP TABLE products;
DROP TABLE categories;
-- pg_trgm stays: other schemas of the database may use it, and dropping an
-- extension needs more privilege than creating this schema does.
