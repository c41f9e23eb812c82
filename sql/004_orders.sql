-- 004_orders.sql — orders, their history and subscribers, the logistics
-- inbox, and the notification outbox.
--
-- orders: one row per Ozon posting; status moves only forward
--   (actors/orders/order_status.c); who may see details is decided from
--   customer_phone / addressee_phone / ordered_by.
-- logistics_inbox: every logistics event stored once (event_id unique)
--   before the webhook answers; processed_at is set by the order actor in
--   the transaction that applies it.
-- notify_outbox: one row per (posting, event, person, channel), sent once.

CREATE TABLE orders (
    posting_number       text PRIMARY KEY CHECK (posting_number ~ '^[0-9]{8,10}-[0-9]{4}-[0-9]{1,3}$'),
    status               text NOT NULL CHECK (status IN ('created', 'accepted', 'in_transit', 'at_pickup_point',
                                                         'out_for_delivery', 'delivered', 'returned', 'cancelled')),
    status_at            timestamptz NOT NULL DEFAULT now(),
    status_source        text NOT NULL CHECK (status_source IN ('ozon', 'logistics', 'courier', 'operator')),
    ozon_status          text,
    ozon_synced_at       timestamptz,
    tpl_integration_type text,
    available_actions    text NOT NULL DEFAULT '',
    customer_name        text,
    customer_phone       text,
    addressee_name       text,
    addressee_phone      text,
    ozon_address         text,
    items                text NOT NULL DEFAULT '[]',
    weight_g             integer,
    pickup_point         text,
    pickup_arrived_at    timestamptz,
    storage_until        timestamptz,
    storage_extended     boolean NOT NULL DEFAULT false,
    ordered_by           bigint,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_customer_phone ON orders (customer_phone);
CREATE INDEX orders_addressee_phone ON orders (addressee_phone);
CREATE INDEX orders_ordered_by ON orders (ordered_by);
CREATE INDEX orders_status ON orders (status);

CREATE TABLE order_history (
    id             bigserial PRIMARY KEY,
    posting_number text NOT NULL REFERENCES orders ON DELETE CASCADE,
    status         text NOT NULL,
    source         text NOT NULL,
    at             timestamptz NOT NULL,
    recorded_at    timestamptz NOT NULL DEFAULT now(),
    event_id       text,
    comment        text,
    applied        boolean NOT NULL
);
CREATE INDEX order_history_posting ON order_history (posting_number, at, id);

CREATE TABLE order_subscribers (
    posting_number text NOT NULL,
    chat_id        bigint NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (posting_number, chat_id)
);

CREATE TABLE logistics_inbox (
    event_id       text PRIMARY KEY,
    posting_number text NOT NULL,
    status         text NOT NULL,
    at             timestamptz NOT NULL,
    pickup_point   text,
    comment        text,
    received_at    timestamptz NOT NULL DEFAULT now(),
    processed_at   timestamptz,
    result         text
);
CREATE INDEX logistics_inbox_pending ON logistics_inbox (posting_number, at, event_id) WHERE processed_at IS NULL;

CREATE TABLE notify_outbox (
    id             bigserial PRIMARY KEY,
    dedupe_key     text NOT NULL UNIQUE,
    posting_number text,
    event          text NOT NULL,
    tg_user_id     bigint,
    chat_id        bigint,
    phone          text,
    channel        text NOT NULL CHECK (channel IN ('telegram', 'sms')),
    vars           text NOT NULL DEFAULT '{}',
    status         text NOT NULL DEFAULT 'pending'
                   CHECK (status IN ('pending', 'queued', 'sent', 'failed', 'fallback')),
    attempts       integer NOT NULL DEFAULT 0,
    last_error     text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    sent_at        timestamptz
);
CREATE INDEX notify_outbox_pending ON notify_outbox (id) WHERE status = 'pending';

-- A Telegram call made for a notification points back at it, so a 403
-- (blocked, never started) can fall back to SMS.
ALTER TABLE tg_outbox ADD COLUMN notify_id bigint;
