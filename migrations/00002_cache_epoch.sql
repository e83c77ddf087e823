-- The cache epoch: one counter every cache entry is stamped with. A write
-- that could not invalidate the cache (Redis down or frozen) bumps it, and
-- every API process learns the new value at once through NOTIFY, so no
-- entry cached before the outage is trusted after it.

-- +goose Up

CREATE TABLE cache_epoch (
    id    smallint PRIMARY KEY DEFAULT 1,
    epoch bigint   NOT NULL DEFAULT 1,
    CONSTRAINT cache_epoch_single_row CHECK (id = 1)
);

INSERT INTO cache_epoch (id, epoch) VALUES (1, 1);

-- +goose StatementBegin
CREATE FUNCTION cache_epoch_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('etalase_cache_epoch', NEW.epoch::text);
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER cache_epoch_notify AFTER UPDATE ON cache_epoch
    FOR EACH ROW EXECUTE FUNCTION cache_epoch_notify();

-- +goose Down

DROP TRIGGER cache_epoch_notify ON cache_epoch;
DROP FUNCTION cache_epoch_notify();
DROP TABLE cache_epoch;
