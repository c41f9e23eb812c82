-- 005_ozon.sql — state of the Ozon gateway (actors/ozon/ozon_gateway.c).
--
-- ozon_import_state: one row (id = 1) describing the periodic import of
--   /v4/posting/fbs/list. last_success_at is the end of the window of the
--   last run that paged through to the end; the next run asks only for
--   postings whose status changed since then (minus a small overlap), so a
--   restart does not import everything again. last_run_at / last_result /
--   last_postings describe the latest run, successful or not ('ok' or the
--   failure class, e.g. 'auth', 'server'), for operators.
-- Each migration runs in one transaction: no BEGIN/COMMIT here.

CREATE TABLE ozon_import_state (
    id              smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    last_success_at timestamptz,
    last_run_at     timestamptz NOT NULL DEFAULT now(),
    last_result     text NOT NULL DEFAULT '',
    last_postings   integer NOT NULL DEFAULT 0,
    updated_at      timestamptz NOT NULL DEFAULT now()
);
