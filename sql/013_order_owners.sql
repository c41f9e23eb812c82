-- 013_order_owners.sql — who owns a parcel, who only watches it, and the
-- forward-only status rule in SQL (issue 7, items 3, 4 and 5).
--
-- orders.recipient_phone / recipient_name: the recipient the company's
--   logistics system named in an event (optional recipient_phone,
--   recipient_name of the webhook contract), the phone in E.164. Together
--   with Ozon's customer_phone / addressee_phone and ordered_by it decides
--   who owns the parcel; owners are matched by phone at every use, so a
--   person who registers later is an owner from then on.
-- logistics_inbox gains the same two fields, stored before the webhook
--   answers and applied by the order actor with the event.
-- order_subscribers.muted: the person pressed «🔕 Не следить»: nothing more
--   about that parcel reaches that chat (owners included) until they track
--   it again.
-- notify_outbox.audience: 'owner' rows use the event's template with the
--   pickup point and deadline; 'watcher' rows (people who only track the
--   number) get a status-only text, never a reminder, never an SMS.
-- order_owner_requests: «🙋 Спросить оператора» when no recipient phone is
--   known anywhere: one open request per (posting, person) for an operator.
-- order_status_rank / order_status_advances: the SQL twin of
--   actors/orders/order_status.c; the order actor's upsert only moves a
--   status forward, whatever the actor believed.

ALTER TABLE orders ADD COLUMN recipient_phone text,
                   ADD COLUMN recipient_name text;
CREATE INDEX orders_recipient_phone ON orders (recipient_phone);

ALTER TABLE logistics_inbox ADD COLUMN recipient_phone text, ADD COLUMN recipient_name text;

ALTER TABLE order_subscribers ADD COLUMN muted boolean NOT NULL DEFAULT false;

ALTER TABLE notify_outbox ADD COLUMN audience text NOT NULL DEFAULT 'owner'
    CHECK (audience IN ('owner', 'watcher'));

CREATE TABLE order_owner_requests (
    id             bigserial PRIMARY KEY,
    posting_number text NOT NULL,
    tg_user_id     bigint NOT NULL,
    chat_id        bigint NOT NULL,
    status         text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done')),
    created_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (posting_number, tg_user_id)
);

CREATE FUNCTION order_status_rank(s text) RETURNS integer LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE s WHEN 'created' THEN 1 WHEN 'accepted' THEN 2 WHEN 'in_transit' THEN 3
                  WHEN 'at_pickup_point' THEN 4 WHEN 'out_for_delivery' THEN 5 WHEN 'delivered' THEN 6
                  WHEN 'returned' THEN 7 WHEN 'cancelled' THEN 8 ELSE 0 END
$$;

-- Mirrors order_status_advances(): never to the same status, nothing after
-- returned or cancelled, cancelled only before delivered, otherwise up.
CREATE FUNCTION order_status_advances(old_s text, new_s text) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN order_status_rank(new_s) = 0 OR old_s = new_s THEN false
        WHEN old_s IN ('returned', 'cancelled') THEN false
        WHEN new_s = 'cancelled' THEN order_status_rank(old_s) < order_status_rank('delivered')
        ELSE order_status_rank(new_s) > order_status_rank(old_s) END
$$;
