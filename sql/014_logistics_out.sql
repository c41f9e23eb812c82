-- 014_logistics_out.sql — what the company's logistics system must learn
-- from the bot (DESIGN.md "Outbound logistics events"), bookings that can be
-- cancelled and moved, and Ozon pushes that survive a restart.
--
-- logistics_outbox: one row per outbound event, written in the same
--   transaction as the change it reports (a booking, a cancellation, a
--   move, a storage extension, a return request). event_id is the "id" the
--   receiver de-duplicates on: derived from the change itself
--   ('delivery.booked:<delivery id>', 'delivery.moved:<delivery id>:<n>',
--   'storage.extended:<posting>', …), so a replayed transaction cannot make
--   a second one (ON CONFLICT DO NOTHING). payload is the event object
--   exactly as sent: {"id","type","posting_number","at",…}. The sender
--   (actors/logistics_out) claims the oldest unsent row of each posting
--   (in order per posting), leases it through next_at, POSTs a batch and
--   marks the rows sent on a 2xx; otherwise attempts counts up and next_at
--   backs off (1 s doubling, at most 5 minutes). While
--   PLUS7_LOGISTICS_OUT_URL is unset nothing is claimed: rows wait.
-- lo_event(): the payload of an event (the common fields + `fields`).
-- lo_delivery_fields(): a delivery's fields (address, coordinates, slot,
--   price, phone, name) for delivery.* events.
-- delivery_tariff_price(): the tariff's price of a posting's weight in a
--   zone, as the form computes it (actors/conversation/conv_form.c,
--   conv_form_band): unknown weight or at most the lowest band's lower
--   bound pays the lowest band; otherwise the band with
--   weight_from_g < weight <= weight_to_g; NULL when no band fits.
-- delivery_book() (wraps 007's, renamed delivery_book_slot): also refuses a
--   price that is not the tariff's any more (SQLSTATE P7F04) and queues
--   delivery.booked.
-- delivery_cancel() / delivery_move(): the client's changes until the
--   cut-off (minutes before the window starts, Moscow time); a delivery
--   that is not 'ordered' any more or is past the cut-off fails with
--   P7F05, a full window with P7F01. Each queues its event. deliveries.moves
--   counts moves (it names the moved events).
-- ozon_push_outbox: pushes of our transitions of self-delivered postings
--   back to Ozon (actors/ozon): written by the order actor in the
--   transaction of the status change, claimed and sent by the Ozon gateway,
--   marked done with its outcome; a restart loses none (claims are released
--   when the gateway starts). One row per (posting, action).
--
-- Each migration runs in one transaction: no BEGIN/COMMIT here.

CREATE TABLE logistics_outbox (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id       text NOT NULL UNIQUE CHECK (length(event_id) BETWEEN 1 AND 200),
    posting_number text NOT NULL,
    type           text NOT NULL CHECK (type IN ('delivery.booked', 'delivery.moved', 'delivery.cancelled',
                                                 'storage.extended', 'return.requested', 'courier.assigned')),
    payload        jsonb NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    next_at        timestamptz NOT NULL DEFAULT now(),
    attempts       integer NOT NULL DEFAULT 0,
    sent_at        timestamptz,
    last_error     text
);
CREATE INDEX logistics_outbox_unsent ON logistics_outbox (posting_number, id) WHERE sent_at IS NULL;

ALTER TABLE deliveries ADD COLUMN moves integer NOT NULL DEFAULT 0;

CREATE FUNCTION lo_event(p_event_id text, p_type text, p_posting text, p_fields jsonb)
RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT coalesce(p_fields, '{}'::jsonb)
           || jsonb_build_object('id', p_event_id, 'type', p_type, 'posting_number', p_posting,
                                 'at', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))
$$;

CREATE FUNCTION lo_enqueue(p_event_id text, p_type text, p_posting text, p_fields jsonb)
RETURNS void LANGUAGE sql VOLATILE AS $$
    INSERT INTO logistics_outbox (event_id, posting_number, type, payload)
    VALUES (p_event_id, p_posting, p_type, lo_event(p_event_id, p_type, p_posting, p_fields))
    ON CONFLICT (event_id) DO NOTHING
$$;

CREATE FUNCTION lo_delivery_fields(p_delivery bigint)
RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
               'delivery_id', d.id,
               'address', d.address,
               'lat', d.lat, 'lon', d.lon,
               'zone_id', d.zone_id,
               'slot', jsonb_build_object('date', to_char(d.slot_date, 'YYYY-MM-DD'),
                                          'from', to_char(d.slot_start, 'HH24:MI'),
                                          'to', to_char(d.slot_end, 'HH24:MI'),
                                          'timezone', 'Europe/Moscow'),
               'price_kopecks', d.price_kopecks,
               'phone', u.phone,
               'name', u.first_name)
      FROM deliveries d LEFT JOIN users u ON u.tg_user_id = d.tg_user_id
     WHERE d.id = p_delivery
$$;

CREATE FUNCTION delivery_tariff_price(p_zone integer, p_weight integer)
RETURNS bigint LANGUAGE sql STABLE AS $$
    SELECT CASE
        WHEN coalesce(p_weight, 0) <= (SELECT min(weight_from_g) FROM tariffs WHERE zone_id = p_zone)
        THEN (SELECT price_kopecks FROM tariffs WHERE zone_id = p_zone ORDER BY weight_from_g LIMIT 1)
        ELSE (SELECT price_kopecks FROM tariffs
               WHERE zone_id = p_zone AND weight_from_g < p_weight AND p_weight <= weight_to_g
               ORDER BY weight_from_g LIMIT 1)
    END
$$;

-- 007's delivery_book keeps its checks (window offered, posting free,
-- window not full) under a new name; the new delivery_book adds the tariff
-- check and the event. Its errors keep their order: the slot checks first,
-- then the price (a refusal rolls the insert back with the transaction).
ALTER FUNCTION delivery_book(text, bigint, text, double precision, double precision, integer, date, bigint)
    RENAME TO delivery_book_slot;

CREATE FUNCTION delivery_book(p_posting text, p_user bigint, p_address text,
                              p_lat double precision, p_lon double precision,
                              p_slot integer, p_date date, p_price bigint)
RETURNS bigint LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    new_id bigint;
    tariff bigint;
BEGIN
    new_id := delivery_book_slot(p_posting, p_user, p_address, p_lat, p_lon, p_slot, p_date, p_price);
    tariff := delivery_tariff_price((SELECT zone_id FROM delivery_slots WHERE id = p_slot),
                                    (SELECT weight_g FROM orders WHERE posting_number = p_posting));
    IF tariff IS DISTINCT FROM p_price THEN
        RAISE EXCEPTION 'price % of posting % is not the tariff''s %', p_price, p_posting, tariff
            USING ERRCODE = 'P7F04';
    END IF;
    PERFORM lo_enqueue('delivery.booked:' || new_id, 'delivery.booked', p_posting, lo_delivery_fields(new_id));
    RETURN new_id;
END
$$;

-- The ordered delivery of p_posting, locked, if it may still change: its
-- window starts more than p_cutoff_min minutes from now (Moscow time).
CREATE FUNCTION delivery_changeable(p_posting text, p_cutoff_min integer)
RETURNS deliveries LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    d deliveries%ROWTYPE;
BEGIN
    SELECT * INTO d FROM deliveries WHERE posting_number = p_posting AND status = 'ordered' FOR UPDATE;
    IF NOT FOUND OR (d.slot_date + d.slot_start) AT TIME ZONE 'Europe/Moscow'
                    <= now() + make_interval(mins => p_cutoff_min) THEN
        RAISE EXCEPTION 'the delivery of % cannot change any more', p_posting USING ERRCODE = 'P7F05';
    END IF;
    RETURN d;
END
$$;

CREATE FUNCTION delivery_cancel(p_posting text, p_user bigint, p_cutoff_min integer)
RETURNS bigint LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    d deliveries%ROWTYPE;
BEGIN
    d := delivery_changeable(p_posting, p_cutoff_min);
    UPDATE deliveries SET status = 'cancelled', cancelled_at = now() WHERE id = d.id;
    INSERT INTO audit_log (actor, action, object_type, object_id, details)
    VALUES ('tg:' || p_user, 'delivery_cancelled', 'order', p_posting,
            jsonb_build_object('delivery_id', d.id, 'slot_date', d.slot_date, 'slot_id', d.slot_id));
    PERFORM lo_enqueue('delivery.cancelled:' || d.id, 'delivery.cancelled', p_posting,
                       jsonb_build_object('delivery_id', d.id));
    RETURN d.id;
END
$$;

CREATE FUNCTION delivery_move(p_posting text, p_user bigint, p_slot integer, p_date date, p_cutoff_min integer)
RETURNS bigint LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    d deliveries%ROWTYPE;
    s delivery_slots%ROWTYPE;
    taken integer;
    was jsonb;
BEGIN
    d := delivery_changeable(p_posting, p_cutoff_min);
    SELECT * INTO s FROM delivery_slots WHERE id = p_slot AND active AND zone_id = d.zone_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'delivery slot % is not offered', p_slot USING ERRCODE = 'P7F03';
    END IF;
    SELECT count(*) INTO taken FROM deliveries
     WHERE slot_id = p_slot AND slot_date = p_date AND status = 'ordered' AND id <> d.id;
    IF taken >= s.capacity THEN
        RAISE EXCEPTION 'delivery slot % on % is full', p_slot, p_date USING ERRCODE = 'P7F01';
    END IF;
    was := jsonb_build_object('date', to_char(d.slot_date, 'YYYY-MM-DD'), 'from', to_char(d.slot_start, 'HH24:MI'),
                              'to', to_char(d.slot_end, 'HH24:MI'), 'timezone', 'Europe/Moscow');
    UPDATE deliveries SET slot_id = s.id, slot_date = p_date, slot_start = s.start_time, slot_end = s.end_time,
                          moves = moves + 1
     WHERE id = d.id;
    INSERT INTO audit_log (actor, action, object_type, object_id, details)
    VALUES ('tg:' || p_user, 'delivery_moved', 'order', p_posting,
            jsonb_build_object('delivery_id', d.id, 'from', was, 'slot_date', p_date, 'slot_id', p_slot));
    PERFORM lo_enqueue('delivery.moved:' || d.id || ':' || (d.moves + 1), 'delivery.moved', p_posting,
                       lo_delivery_fields(d.id) || jsonb_build_object('previous_slot', was));
    RETURN d.id;
END
$$;

CREATE TABLE ozon_push_outbox (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    posting_number text NOT NULL,
    action         text NOT NULL CHECK (action IN ('delivering', 'last-mile', 'delivered')),
    created_at     timestamptz NOT NULL DEFAULT now(),
    claimed_at     timestamptz,           -- taken by the gateway (released at its start)
    done_at        timestamptz,
    outcome        text CHECK (outcome IN ('pushed', 'refused', 'failed')),
    UNIQUE (posting_number, action)
);
CREATE INDEX ozon_push_outbox_pending ON ozon_push_outbox (id) WHERE done_at IS NULL;
