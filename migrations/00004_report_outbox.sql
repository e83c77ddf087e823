-- A report is its own outbox row, and it remembers the request that asked
-- for it.
--
-- Until now creating a product wrote three rows (the product, its queued
-- report and an outbox row naming the report's job) and the relay updated
-- the outbox row once the job was in the queue. The report row already
-- names its job (report-<id>, with the product and the requester), so it
-- carries the relay's mark itself: relayed_at is NULL until a relay has
-- handed the job to the queue, and a relay claims unrelayed reports exactly
-- as it claims unsent outbox rows. The outbox table stays for other jobs.
--
-- request_id is the X-Request-ID of the request that created the product
-- or asked for the report; the job carries it into the worker's log lines.

-- +goose Up

ALTER TABLE reports
    ADD COLUMN request_id text,
    ADD COLUMN relayed_at timestamptz;

-- Every existing report's job was relayed, except those whose outbox row is
-- still unsent: those move to the report itself.
UPDATE reports r SET relayed_at = coalesce(r.updated_at, now())
WHERE NOT EXISTS (
    SELECT 1 FROM outbox o
    WHERE o.sent_at IS NULL AND o.job_type = 'generate-report' AND o.job_id = 'report-' || r.id::text);

DELETE FROM outbox
WHERE sent_at IS NULL AND job_type = 'generate-report' AND job_id ~ '^report-[0-9]+$';

ALTER TABLE reports
    ADD CONSTRAINT reports_request_id_length CHECK (char_length(request_id) <= 128);

-- Relays claim unrelayed reports in id order.
CREATE INDEX reports_unrelayed_idx ON reports (id) WHERE relayed_at IS NULL;

-- A new report wakes the relays as an outbox insert does.
CREATE TRIGGER reports_outbox_notify AFTER INSERT ON reports
    FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();

-- +goose Down

DROP TRIGGER reports_outbox_notify ON reports;
DROP INDEX reports_unrelayed_idx;

-- Reports not yet relayed go back to the outbox, with the job the relay
-- would have sent.
INSERT INTO outbox (job_id, job_type, queue, payload, created_at)
SELECT 'report-' || id::text, 'generate-report', 'report',
    convert_to(json_build_object('productId', product_id, 'reportId', id, 'requestedBy', requested_by)::text, 'UTF8'),
    created_at
FROM reports WHERE relayed_at IS NULL ORDER BY id;

ALTER TABLE reports
    DROP CONSTRAINT reports_request_id_length,
    DROP COLUMN relayed_at,
    DROP COLUMN request_id;
