-- 020_dash_staff.sql — dashboard staff accounts, sessions, one-time bot
-- sign-in links and the sign-in limiter (web/web_dash_*.c, app/cmd_user.c).
--
-- staff_users: people who use the dashboard. role operator | manager |
--   admin. password_hash is libsodium's crypto_pwhash_str (argon2id) text;
--   NULL for an account made by signing in from the bot (login 'tg:<id>'),
--   which can never sign in with a password. disabled_at set = no sign-in,
--   and every session of the account stops working at once.
-- staff_sessions: one row per open session. token_hash = hex SHA-256 of the
--   cookie's random token (the token itself is never stored); csrf is the
--   session's CSRF token (sent to the page, compared in constant time).
--   A session unused for the idle timeout (web_dash_auth.c) is dead; rows
--   are deleted on sign-out and swept when found dead.
-- staff_bot_tokens: «🖥 Войти в панель» links. token_hash = hex SHA-256 of
--   the 256-bit token; valid 5 minutes, once (used_at set in the statement
--   that opens the session). tg_user_id: who asked; their role is checked
--   again when the link is opened.
-- staff_signin_failures: one row per failed password sign-in (login as
--   typed, client address); 10 rows for a login or an address within
--   15 minutes make every attempt 429 until the oldest leaves the window.
-- Sign-ins and sign-outs go to audit_log (001): actor 'web:<login>',
--   actions 'sign_in', 'sign_in_failed', 'sign_out'.
-- Each migration runs in one transaction: no BEGIN/COMMIT here.

CREATE TABLE staff_users (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    login         text NOT NULL UNIQUE CHECK (login ~ '^[A-Za-z0-9_.:@-]{1,64}$'),
    role          text NOT NULL CHECK (role IN ('operator', 'manager', 'admin')),
    password_hash text,
    tg_user_id    bigint UNIQUE,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    disabled_at   timestamptz
);

CREATE TABLE staff_sessions (
    token_hash  text PRIMARY KEY,
    user_id     bigint NOT NULL REFERENCES staff_users ON DELETE CASCADE,
    csrf        text NOT NULL,
    via         text NOT NULL CHECK (via IN ('password', 'bot')),
    address     text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    last_seen   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX staff_sessions_user ON staff_sessions (user_id);

CREATE TABLE staff_bot_tokens (
    token_hash  text PRIMARY KEY,
    tg_user_id  bigint NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz
);

CREATE TABLE staff_signin_failures (
    id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    login    text NOT NULL,
    address  text NOT NULL,
    at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX staff_signin_failures_login ON staff_signin_failures (login, at);
CREATE INDEX staff_signin_failures_address ON staff_signin_failures (address, at);
