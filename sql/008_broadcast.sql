-- 008_broadcast.sql — mass messages (broadcasts) and the pickup-reminder
-- buttons' return requests.
--
-- broadcasts: one row per mass message. An operator's dialog keeps one
--   'draft' per chat (the chosen text); confirming turns it 'running' and,
--   in the same transaction, snapshots the recipients and inserts the
--   durable reminder that starts the broadcast actor (kind 'broadcast',
--   key = id). The actor sets 'done' when every recipient is final.
--   body is the message as Telegram HTML with {placeholders}
--   (actors/notify/template.h), copied from notify_templates or typed.
--   total/sent/failed mirror broadcast_recipients for the dashboard;
--   progress_message_id is the operator's progress message, progress_seq
--   the number of edits queued so far (their dedupe keys b<id>:e<n>).
-- broadcast_recipients: the snapshot of the segment, one row per person.
--   state: pending (not yet in tg_outbox) -> queued (an outbox row with
--   dedupe key 'b<broadcast id>:<tg_user_id>' exists) -> sent | failed
--   (copied from that row's final status: sent, or failed/blocked).
--   posting_number is the order that put the person into the segment
--   (fills {posting}, {status}, ... ; NULL for "all clients").
-- broadcast_clients / broadcast_audience / broadcast_segment_info /
--   broadcast_zones: the ONE definition of the segments, used both for the
--   count shown before confirming and for the snapshot (docs: actors/broadcast/DESIGN.md).
-- return_requests: «Оформить возврат» under a pickup reminder; one per
--   posting; an operator contacts the person (returns proper are a later
--   module). reason: 'not_collected' (the parcel was not collected).
--
-- Each migration runs in one transaction: no BEGIN/COMMIT here.

CREATE TABLE broadcasts (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    created_by          bigint NOT NULL,              -- tg_user_id of the operator / admin
    chat_id             bigint NOT NULL,              -- their chat: dialog and progress message
    template_event      text,                         -- notify_templates.event, NULL = typed text
    body                text NOT NULL,
    segment             text CHECK (segment IN ('all', 'status', 'zone')),
    segment_arg         text NOT NULL DEFAULT '',     -- status code or zone id
    status              text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'running', 'done')),
    total               integer NOT NULL DEFAULT 0,
    sent                integer NOT NULL DEFAULT 0,
    failed              integer NOT NULL DEFAULT 0,
    progress_message_id bigint,
    progress_seq        integer NOT NULL DEFAULT 0,
    created_at          timestamptz NOT NULL DEFAULT now(),
    started_at          timestamptz,
    finished_at         timestamptz
);
CREATE UNIQUE INDEX broadcasts_one_draft ON broadcasts (chat_id) WHERE status = 'draft';
CREATE INDEX broadcasts_running ON broadcasts (id) WHERE status = 'running';

CREATE TABLE broadcast_recipients (
    broadcast_id   bigint NOT NULL REFERENCES broadcasts ON DELETE CASCADE,
    tg_user_id     bigint NOT NULL,
    chat_id        bigint NOT NULL,
    posting_number text,
    state          text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'queued', 'sent', 'failed')),
    PRIMARY KEY (broadcast_id, tg_user_id)
);
CREATE INDEX broadcast_recipients_open ON broadcast_recipients (broadcast_id, tg_user_id)
    WHERE state IN ('pending', 'queued');

CREATE TABLE return_requests (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    posting_number text NOT NULL UNIQUE,
    tg_user_id     bigint NOT NULL,
    reason         text NOT NULL,                     -- 'not_collected'
    status         text NOT NULL DEFAULT 'new',       -- 'new' until an operator takes it
    created_at     timestamptz NOT NULL DEFAULT now()
);

-- Clients: registered people (a phone) whose role is client — no grant,
-- or a grant of 'client'.
CREATE VIEW broadcast_clients AS
    SELECT u.tg_user_id, u.chat_id, u.phone
      FROM users u
     WHERE u.phone IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM role_grants g WHERE g.phone = u.phone AND g.role <> 'client');

-- The recipients of a segment, one row per person:
--   ('all', '')          every client;
--   ('status', <code>)   clients who own an order in that status — owner as in
--                        tracking: the phone is the order's customer or
--                        addressee phone, or they ordered its delivery;
--   ('zone', <zone id>)  clients who own an order whose Ozon address names
--                        the zone's city (case- and ё/е-insensitive), or
--                        who own or ordered a posting with an ordered
--                        courier delivery into that zone (deliveries.zone_id:
--                        the delivery address lies in the zone's polygon).
-- posting_number: for status/zone, the most recently updated such order.
-- delivery_zones and deliveries come from 007_delivery.sql.
CREATE FUNCTION broadcast_audience(p_kind text, p_arg text)
RETURNS TABLE (tg_user_id bigint, chat_id bigint, posting_number text)
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
BEGIN
    IF p_kind = 'all' THEN
        RETURN QUERY SELECT c.tg_user_id, c.chat_id, NULL::text FROM broadcast_clients c;
    ELSIF p_kind = 'status' THEN
        RETURN QUERY
        SELECT DISTINCT ON (x.tg_user_id) x.tg_user_id, x.chat_id, x.posting_number
          FROM (SELECT c.tg_user_id, c.chat_id, o.posting_number, o.updated_at
                  FROM orders o JOIN broadcast_clients c ON c.phone = o.customer_phone
                 WHERE o.status = p_arg
                UNION ALL
                SELECT c.tg_user_id, c.chat_id, o.posting_number, o.updated_at
                  FROM orders o JOIN broadcast_clients c ON c.phone = o.addressee_phone
                 WHERE o.status = p_arg
                UNION ALL
                SELECT c.tg_user_id, c.chat_id, o.posting_number, o.updated_at
                  FROM orders o JOIN broadcast_clients c ON c.tg_user_id = o.ordered_by
                 WHERE o.status = p_arg) x
         ORDER BY x.tg_user_id, x.updated_at DESC, x.posting_number;
    ELSIF p_kind = 'zone' THEN
        RETURN QUERY
        WITH z AS (SELECT dz.id, translate(lower(dz.city), 'ё', 'е') AS city
                     FROM delivery_zones dz WHERE dz.id::text = p_arg),
             o AS (SELECT o.posting_number, o.updated_at, o.customer_phone, o.addressee_phone, o.ordered_by
                     FROM orders o, z
                    WHERE z.city <> ''
                      AND translate(lower(o.ozon_address), 'ё', 'е') LIKE '%' || z.city || '%'
                   UNION
                   SELECT o.posting_number, o.updated_at, o.customer_phone, o.addressee_phone, d.tg_user_id
                     FROM deliveries d JOIN z ON z.id = d.zone_id
                     JOIN orders o ON o.posting_number = d.posting_number
                    WHERE d.status = 'ordered')
        SELECT DISTINCT ON (c.tg_user_id) c.tg_user_id, c.chat_id, o.posting_number
          FROM o JOIN broadcast_clients c
            ON c.phone = o.customer_phone OR c.phone = o.addressee_phone OR c.tg_user_id = o.ordered_by
         ORDER BY c.tg_user_id, o.updated_at DESC, o.posting_number;
    END IF;
END
$$;

-- Recipients of a segment and its label (the zone's name; the status code).
CREATE FUNCTION broadcast_segment_info(p_kind text, p_arg text)
RETURNS TABLE (recipients bigint, label text)
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF p_kind = 'zone' THEN
        RETURN QUERY SELECT (SELECT count(*) FROM broadcast_audience(p_kind, p_arg)),
                            (SELECT z.name::text FROM delivery_zones z WHERE z.id::text = p_arg);
    ELSE
        RETURN QUERY SELECT (SELECT count(*) FROM broadcast_audience(p_kind, p_arg)), p_arg;
    END IF;
END
$$;

-- The active delivery zones an operator may pick (sql/007_delivery.sql).
CREATE FUNCTION broadcast_zones()
RETURNS TABLE (id text, name text)
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN QUERY SELECT z.id::text, z.name::text FROM delivery_zones z WHERE z.active ORDER BY z.name, z.id;
END
$$;
