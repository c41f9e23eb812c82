-- 001_core.sql — base schema shared by every module.
--
-- audit_log: the administration trail (module 10): who did what to which
--   object; written by the service, shown in the dashboard's logs page.
-- app_settings: small runtime-editable settings (JSON values) that the
--   dashboard may change without a restart.
--
-- schema_migrations itself is created by `plus7d migrate` (app/migrate.c).
-- Each migration runs in one transaction: no BEGIN/COMMIT here.

CREATE TABLE audit_log (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    actor       text NOT NULL,            -- 'system', 'tg:<user id>', 'web:<login>'
    action      text NOT NULL,            -- snake_case, e.g. 'role_set', 'tariff_changed'
    object_type text,                     -- 'order', 'user', 'tariff', ...
    object_id   text,
    details     jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX audit_log_at_idx ON audit_log (at DESC);
CREATE INDEX audit_log_object_idx ON audit_log (object_type, object_id, at DESC);

CREATE TABLE app_settings (
    key        text PRIMARY KEY,
    value      jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    updated_by text
);
