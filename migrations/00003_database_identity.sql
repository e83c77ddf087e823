-- The database's identity, for everything that outlives it in Redis. A
-- fresh, recreated or restored database behind a Redis that remembers
-- another must never have that other's cache entries served or its own jobs
-- swallowed by that other's task ids. The token is made once, when this
-- migration runs; the identity the processes use also folds in the
-- database's OID (see adapters/postgres/epoch.go), so a copy made with
-- CREATE DATABASE ... TEMPLATE differs too.
--
-- The epoch moves to Redis's way of seeding generations: from now on every
-- bump sets it to at least the clock in microseconds, so a database
-- restored from a backup (same token, an older epoch) never bumps back to a
-- value its original had stamped entries with.

-- +goose Up

ALTER TABLE cache_epoch
    ADD COLUMN token text NOT NULL DEFAULT substr(md5(random()::text || clock_timestamp()::text), 1, 10);

UPDATE cache_epoch
SET epoch = greatest(epoch + 1, (extract(epoch FROM clock_timestamp()) * 1000000)::bigint)
WHERE id = 1;

-- +goose Down

ALTER TABLE cache_epoch DROP COLUMN token;
