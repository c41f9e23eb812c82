-- 023_dash_reports.sql — the daily XLSX report to admins in Telegram
-- (web/web_dash_report.c).
--
-- dash_reports: one row per Moscow day whose report was queued (file_id: its
--   workbook), inserted in the same transaction as the report's tg_files row
--   and its tg_outbox rows
--   (sendDocument, dedupe key 'dash_report:<day>:<chat>'), so a report is
--   queued exactly once per day however often the service restarts and
--   however many instances run; a crash before the commit leaves nothing
--   and the next check queues it again. day = the day the report is sent;
--   it covers the day before.
-- Each migration runs in one transaction: no BEGIN/COMMIT here.

CREATE TABLE dash_reports (
    day         date PRIMARY KEY,
    file_id     bigint REFERENCES tg_files,
    recipients  integer NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL DEFAULT now()
);
