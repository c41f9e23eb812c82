-- 003_telegram.sql — Telegram intake, conversations, people and roles, outbox.
--
-- tg_inbox: every update stored once (update_id unique) before it is
--   acknowledged; processed_at is set in the same transaction that applies
--   its effects, so a crash replays exactly the unprocessed ones.
-- tg_outbox: every Bot API call the service makes is a row first; the
--   gateway sends it once and records the outcome (dedupe_key prevents a
--   notification from being queued twice).

CREATE TABLE tg_inbox (
    update_id    bigint PRIMARY KEY,
    chat_id      bigint NOT NULL,
    body         text NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now(),
    processed_at timestamptz
);
CREATE INDEX tg_inbox_unprocessed ON tg_inbox (chat_id, update_id) WHERE processed_at IS NULL;

CREATE TABLE tg_state (
    name  text PRIMARY KEY,
    value bigint NOT NULL
);

CREATE TABLE users (
    tg_user_id     bigint PRIMARY KEY,
    chat_id        bigint NOT NULL,
    phone          text UNIQUE CHECK (phone ~ '^\+[1-9][0-9]{7,14}$'),
    first_name     text NOT NULL DEFAULT '',
    crm_contact_id text,
    crm_attempts   integer NOT NULL DEFAULT 0,
    tg_unreachable boolean NOT NULL DEFAULT false,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX users_crm_pending ON users (tg_user_id) WHERE crm_contact_id IS NULL AND phone IS NOT NULL;

-- Roles are granted to phone numbers, so `plus7d role PHONE ROLE` works
-- before or after that person registers. No row means "client".
CREATE TABLE role_grants (
    phone      text PRIMARY KEY CHECK (phone ~ '^\+[1-9][0-9]{7,14}$'),
    role       text NOT NULL CHECK (role IN ('client', 'courier', 'operator', 'admin')),
    granted_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE conversations (
    chat_id    bigint PRIMARY KEY,
    step       text NOT NULL DEFAULT '',
    data       text NOT NULL DEFAULT '',
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE tg_outbox (
    id            bigserial PRIMARY KEY,
    chat_id       bigint NOT NULL,
    method        text NOT NULL,
    params        text NOT NULL,
    prio          smallint NOT NULL DEFAULT 0,
    dedupe_key    text UNIQUE,
    status        text NOT NULL DEFAULT 'pending'
                  CHECK (status IN ('pending', 'sent', 'failed', 'blocked')),
    attempts      integer NOT NULL DEFAULT 0,
    last_error    text,
    tg_message_id bigint,
    created_at    timestamptz NOT NULL DEFAULT now(),
    sent_at       timestamptz
);
CREATE INDEX tg_outbox_pending ON tg_outbox (id) WHERE status = 'pending';

-- The built-in CRM: the company's own customer register.
CREATE TABLE crm_customers (
    id         bigserial PRIMARY KEY,
    phone      text NOT NULL UNIQUE,
    name       text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now()
);
