-- 009_outbox_claims.sql — the Telegram gateway claims pending outbox rows
-- when it queues them in memory. Rows are inserted by many transactions
-- that commit in any order, so "load ids above the last one seen" could
-- miss a row committed late with a lower id; "load unclaimed rows" cannot.
-- At start the gateway releases every claim (nothing is in memory then).
ALTER TABLE tg_outbox ADD COLUMN claimed boolean NOT NULL DEFAULT false;
CREATE INDEX tg_outbox_unclaimed ON tg_outbox (id) WHERE status = 'pending' AND NOT claimed;
