-- 030_payments.sql — payments for delivery (actors/payments/, docs/payments.md).
--
-- pay_attempts: one row per attempt to pay an order's delivery. id is
--   'a<update_id>' of the Telegram update that started it (so a replayed
--   update makes the same row), the invoice payload and the YooKassa
--   metadata. method: telegram (invoice), sbp (YooKassa QR), bank_qr (GOST
--   R 56042-2014, confirmed by an operator), cash / card (on delivery,
--   confirmed by staff). Amounts are integer kopecks. idem_key is the
--   Idempotence-Key of POST /payments, stored BEFORE the call, so a retry
--   (or a provider that created the payment and answered 500) never makes
--   a second payment. status: created -> pending -> succeeded | canceled
--   | expired; succeeded -> refunded when refunded in full.
-- orders gain paid_kop / paid_via / paid_at / paid_attempt: the order knows
--   whether it is paid, how and how much. Only pay_succeed() writes them.
-- pay_notifications: every YooKassa notification stored before the 200.
-- pay_refunds: refunds (operator, or automatic for a double payment), each
--   with its own Idempotence-Key; the payment actor sends POST /refunds.

CREATE TABLE pay_attempts (
    id                 text PRIMARY KEY CHECK (id ~ '^[a-z][A-Za-z0-9_-]{1,63}$'),
    posting_number     text NOT NULL REFERENCES orders,
    chat_id            bigint NOT NULL,
    tg_user_id         bigint NOT NULL,
    method             text NOT NULL CHECK (method IN ('telegram', 'sbp', 'bank_qr', 'cash', 'card')),
    amount_kop         bigint NOT NULL CHECK (amount_kop > 0),
    status             text NOT NULL DEFAULT 'created'
                       CHECK (status IN ('created', 'pending', 'succeeded', 'canceled', 'expired', 'refunded')),
    idem_key           uuid NOT NULL DEFAULT gen_random_uuid() UNIQUE,
    provider_id        text UNIQUE,
    confirmation_url   text,
    receipt_url        text,
    tg_charge_id       text,
    provider_charge_id text,
    confirmed_by       text,
    refunded_kop       bigint NOT NULL DEFAULT 0 CHECK (refunded_kop >= 0),
    checks             integer NOT NULL DEFAULT 0,
    next_check_at      timestamptz NOT NULL DEFAULT now(),
    expires_at         timestamptz NOT NULL DEFAULT now() + interval '1 hour',
    last_error         text,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    paid_at            timestamptz
);
CREATE INDEX pay_attempts_posting ON pay_attempts (posting_number);
CREATE INDEX pay_attempts_due ON pay_attempts (next_check_at) WHERE status IN ('created', 'pending');
CREATE UNIQUE INDEX pay_attempts_tg_charge ON pay_attempts (tg_charge_id) WHERE tg_charge_id IS NOT NULL;

ALTER TABLE orders ADD COLUMN paid_kop bigint NOT NULL DEFAULT 0,
                   ADD COLUMN paid_via text,
                   ADD COLUMN paid_at timestamptz,
                   ADD COLUMN paid_attempt text;

CREATE TABLE pay_notifications (
    id           bigserial PRIMARY KEY,
    provider_id  text NOT NULL,
    event        text NOT NULL,
    remote       text NOT NULL,
    body         text NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now(),
    processed_at timestamptz,
    result       text
);
CREATE INDEX pay_notifications_open ON pay_notifications (provider_id) WHERE processed_at IS NULL;

CREATE TABLE pay_refunds (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    attempt_id         text NOT NULL REFERENCES pay_attempts,
    amount_kop         bigint NOT NULL CHECK (amount_kop > 0),
    idem_key           uuid NOT NULL DEFAULT gen_random_uuid() UNIQUE,
    status             text NOT NULL DEFAULT 'created'
                       CHECK (status IN ('created', 'succeeded', 'canceled', 'failed')),
    provider_refund_id text,
    reason             text NOT NULL,
    requested_by       text NOT NULL,
    attempts           integer NOT NULL DEFAULT 0,
    next_try_at        timestamptz NOT NULL DEFAULT now(),
    last_error         text,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX pay_refunds_open ON pay_refunds (next_try_at) WHERE status = 'created';

-- Send a text message through the outbox once (dedupe key).
CREATE FUNCTION pay_outbox_say(p_chat bigint, p_text text, p_key text) RETURNS void
LANGUAGE sql VOLATILE AS $$
    INSERT INTO tg_outbox (chat_id, method, params, prio, dedupe_key)
    VALUES (p_chat, 'sendMessage',
            json_build_object('chat_id', p_chat, 'text', p_text, 'parse_mode', 'HTML',
                              'link_preview_options', json_build_object('is_disabled', true))::text,
            0, p_key)
    ON CONFLICT (dedupe_key) DO NOTHING
$$;

-- pay_succeed: the ONLY way an attempt becomes paid. Whatever brought the
-- news (successful_payment, a notification, reconciliation, an operator),
-- and however often: the attempt row is locked; a second call is
-- 'duplicate' and changes nothing. When the order is still unpaid it
-- becomes paid and the payer gets p_paid_text once (dedupe key
-- 'pay:paid:<attempt>'); when another attempt paid it first, the money is
-- refunded automatically (a pay_refunds row) and every operator and admin
-- gets p_double_text. A live frame goes to the dashboard in the same
-- transaction. Returns 'paid', 'double', 'duplicate', 'unknown' or
-- 'amount' (the amount differs: nothing changes).
CREATE FUNCTION pay_succeed(p_attempt text, p_amount bigint, p_provider_id text, p_receipt text,
                            p_tg_charge text, p_provider_charge text, p_paid_text text,
                            p_double_text text) RETURNS text
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    a pay_attempts%ROWTYPE;
    o orders%ROWTYPE;
BEGIN
    SELECT * INTO a FROM pay_attempts WHERE id = p_attempt FOR UPDATE;
    IF NOT FOUND THEN RETURN 'unknown'; END IF;
    IF a.status IN ('succeeded', 'refunded') THEN RETURN 'duplicate'; END IF;
    IF p_amount IS DISTINCT FROM a.amount_kop THEN
        UPDATE pay_attempts SET last_error = 'amount ' || coalesce(p_amount::text, 'NULL') || ' <> '
                                             || a.amount_kop, updated_at = now()
         WHERE id = a.id;
        RETURN 'amount';
    END IF;
    UPDATE pay_attempts
       SET status = 'succeeded', paid_at = now(), updated_at = now(),
           provider_id = coalesce(provider_id, p_provider_id), receipt_url = coalesce(p_receipt, receipt_url),
           tg_charge_id = coalesce(p_tg_charge, tg_charge_id),
           provider_charge_id = coalesce(p_provider_charge, provider_charge_id)
     WHERE id = a.id;
    SELECT * INTO o FROM orders WHERE posting_number = a.posting_number FOR UPDATE;
    IF o.paid_attempt IS NOT NULL AND o.paid_attempt <> a.id THEN
        INSERT INTO pay_refunds (attempt_id, amount_kop, reason, requested_by)
        VALUES (a.id, a.amount_kop, 'double payment (order paid by ' || o.paid_attempt || ')', 'auto');
        PERFORM pay_outbox_say(u.chat_id, p_double_text, 'pay:double:' || a.id || ':' || u.chat_id)
           FROM users u JOIN role_grants g ON g.phone = u.phone AND g.role IN ('operator', 'admin');
        INSERT INTO audit_log (actor, action, object_type, object_id, details)
        VALUES ('payments', 'payment_double', 'order', a.posting_number,
                jsonb_build_object('attempt', a.id, 'amount_kop', a.amount_kop, 'paid_attempt', o.paid_attempt));
        RETURN 'double';
    END IF;
    UPDATE orders SET paid_kop = a.amount_kop, paid_via = a.method, paid_at = now(), paid_attempt = a.id,
                      updated_at = now()
     WHERE posting_number = a.posting_number;
    PERFORM pay_outbox_say(a.chat_id, p_paid_text, 'pay:paid:' || a.id);
    INSERT INTO audit_log (actor, action, object_type, object_id, details)
    VALUES ('payments', 'payment_received', 'order', a.posting_number,
            jsonb_build_object('attempt', a.id, 'method', a.method, 'amount_kop', a.amount_kop));
    PERFORM pg_notify('plus7_live', json_build_object('type', 'payment', 'payment',
        json_build_object('id', a.id, 'posting', a.posting_number, 'method', a.method,
                          'status', 'succeeded', 'amount_kop', a.amount_kop))::text);
    RETURN 'paid';
END
$$;

-- pay_refund_done: a refund the provider accepted. The attempt counts the
-- refunded money (status 'refunded' when all of it), the order forgets
-- the payment when that attempt had paid it, and the payer reads
-- p_text once (dedupe key 'pay:refund:<id>'). Idempotent.
CREATE FUNCTION pay_refund_done(p_refund bigint, p_provider_refund text, p_text text) RETURNS text
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    r pay_refunds%ROWTYPE;
    a pay_attempts%ROWTYPE;
BEGIN
    SELECT * INTO r FROM pay_refunds WHERE id = p_refund FOR UPDATE;
    IF NOT FOUND THEN RETURN 'unknown'; END IF;
    IF r.status = 'succeeded' THEN RETURN 'duplicate'; END IF;
    UPDATE pay_refunds SET status = 'succeeded', provider_refund_id = p_provider_refund, updated_at = now()
     WHERE id = r.id;
    UPDATE pay_attempts SET refunded_kop = refunded_kop + r.amount_kop,
                            status = CASE WHEN refunded_kop + r.amount_kop >= amount_kop THEN 'refunded'
                                          ELSE status END,
                            updated_at = now()
     WHERE id = r.attempt_id RETURNING * INTO a;
    UPDATE orders SET paid_kop = greatest(paid_kop - r.amount_kop, 0),
                      paid_attempt = CASE WHEN a.status = 'refunded' THEN NULL ELSE paid_attempt END,
                      paid_via = CASE WHEN a.status = 'refunded' THEN NULL ELSE paid_via END,
                      paid_at = CASE WHEN a.status = 'refunded' THEN NULL ELSE paid_at END,
                      updated_at = now()
     WHERE posting_number = a.posting_number AND paid_attempt = a.id;
    PERFORM pay_outbox_say(a.chat_id, p_text, 'pay:refund:' || r.id);
    INSERT INTO audit_log (actor, action, object_type, object_id, details)
    VALUES ('payments', 'payment_refunded', 'order', a.posting_number,
            jsonb_build_object('attempt', a.id, 'refund', r.id, 'amount_kop', r.amount_kop,
                               'requested_by', r.requested_by));
    PERFORM pg_notify('plus7_live', json_build_object('type', 'payment', 'payment',
        json_build_object('id', a.id, 'posting', a.posting_number, 'method', a.method,
                          'status', a.status, 'amount_kop', a.amount_kop, 'refunded_kop', a.refunded_kop))::text);
    RETURN 'refunded';
END
$$;
