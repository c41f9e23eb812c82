-- 021_dash_rollups.sql — incremental rollups behind the dashboard's
-- analytics (web/web_dash_analytics.c; design: docs/dashboard.md).
--
-- The summary of a month over a million orders must answer in ≤ 200 ms, so
-- nothing scans orders at read time. Every transaction that changes an
-- order (or its delivery, or a notification) updates small counters in the
-- same transaction, through triggers:
--
-- dash_order_facts: what the analytics know about one order — its zone,
--   creation time, current status, the time of its final status
--   (delivered / cancelled / returned), when it was accepted (the first
--   status at or after 'accepted'), when it reached the pickup point,
--   on_time (delivered inside the booked slot; NULL without a slot) and
--   first_attempt (delivered on the first trip out; NULL when it never went
--   out for delivery).
-- dash_hourly: per (hour, zone, shard) counters — created, delivered,
--   cancelled, returned, on-time and first-attempt numerators and
--   denominators, notifications sent by Telegram / SMS and failed, paid
--   kopecks (filled by payments later). hour = date_trunc('hour') of the
--   event (Moscow has a whole-hour offset, so UTC hours are Moscow hours).
-- dash_hist: per (Moscow day, zone, metric, bucket, shard) duration
--   histograms: metric 1 created → delivered, 2 at pickup point →
--   delivered, 3 created → accepted. Buckets grow by 5 % (bucket b ≥ 1
--   holds [1.05^(b-1), 1.05^b) seconds, bucket 0 under a second), so p50
--   and p90 read from the histogram are within 2.5 % of the exact value;
--   sum_s keeps the exact average.
-- shard = pg_backend_pid() % 16: concurrent order transactions on
--   different connections update different rows, so they neither wait for
--   each other nor deadlock; readers sum the shards.
--
-- A contribution is a function of the facts row: a change subtracts the
-- old row's contribution and adds the new one's (dash_facts_apply), so
-- counters stay exact however an order moves. dash_rebuild() recomputes
-- everything set-based (used here for existing rows, by the benchmark after
-- a bulk load, and by the tests to cross-check the triggers).
-- Each migration runs in one transaction: no BEGIN/COMMIT here.

CREATE TABLE dash_order_facts (
    posting_number text PRIMARY KEY,
    zone_id        integer NOT NULL DEFAULT 0,      -- 0 = no zone known
    created_at     timestamptz NOT NULL,
    status         text NOT NULL,
    final_at       timestamptz,
    accepted_at    timestamptz,
    pickup_at      timestamptz,
    on_time        boolean,
    first_attempt  boolean
);

CREATE TABLE dash_hourly (
    hour        timestamptz NOT NULL,
    zone_id     integer NOT NULL,
    shard       smallint NOT NULL,
    created     integer NOT NULL DEFAULT 0,
    delivered   integer NOT NULL DEFAULT 0,
    cancelled   integer NOT NULL DEFAULT 0,
    returned    integer NOT NULL DEFAULT 0,
    on_time_n   integer NOT NULL DEFAULT 0,
    on_time_ok  integer NOT NULL DEFAULT 0,
    first_n     integer NOT NULL DEFAULT 0,
    first_ok    integer NOT NULL DEFAULT 0,
    telegram    integer NOT NULL DEFAULT 0,
    sms         integer NOT NULL DEFAULT 0,
    failed      integer NOT NULL DEFAULT 0,
    paid_count  integer NOT NULL DEFAULT 0,
    paid_kop    bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (hour, zone_id, shard)
);

CREATE TABLE dash_hist (
    day      date NOT NULL,
    zone_id  integer NOT NULL,
    metric   smallint NOT NULL CHECK (metric BETWEEN 1 AND 3),
    bucket   smallint NOT NULL,
    shard    smallint NOT NULL,
    n        integer NOT NULL DEFAULT 0,
    sum_s    double precision NOT NULL DEFAULT 0,
    PRIMARY KEY (day, zone_id, metric, bucket, shard)
);

-- The zone of an order: its booked courier delivery's zone, else the zone
-- whose city its Ozon address names (case- and ё/е-insensitive), else the
-- zone of its pickup point (by name), else 0.
CREATE FUNCTION dash_order_zone(p_posting text, p_address text, p_pickup text)
RETURNS integer LANGUAGE sql STABLE AS $$
    SELECT coalesce(
        (SELECT d.zone_id FROM deliveries d WHERE d.posting_number = p_posting AND d.status = 'ordered' LIMIT 1),
        (SELECT z.id FROM delivery_zones z
          WHERE p_address IS NOT NULL AND z.city <> ''
            AND translate(lower(p_address), 'ё', 'е') LIKE '%' || translate(lower(z.city), 'ё', 'е') || '%'
          ORDER BY z.id LIMIT 1),
        (SELECT pp.zone_id FROM pickup_points pp
          WHERE p_pickup IS NOT NULL AND pp.zone_id IS NOT NULL AND p_pickup = pp.name ORDER BY pp.id LIMIT 1),
        0)
$$;

CREATE FUNCTION dash_bucket(p_seconds double precision) RETURNS smallint
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN p_seconds < 1 THEN 0
                ELSE least(floor(ln(p_seconds) / ln(1.05))::int + 1, 32000) END::smallint
$$;

CREATE FUNCTION dash_hourly_add(p_at timestamptz, p_zone integer, p_col text, p_delta integer)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF p_at IS NULL OR p_delta = 0 THEN RETURN; END IF;
    EXECUTE format('INSERT INTO dash_hourly AS t (hour, zone_id, shard, %1$I) VALUES ($1, $2, $3, $4)'
                   ' ON CONFLICT (hour, zone_id, shard) DO UPDATE SET %1$I = t.%1$I + EXCLUDED.%1$I', p_col)
        USING date_trunc('hour', p_at), p_zone, (pg_backend_pid() % 16)::smallint, p_delta;
END
$$;

CREATE FUNCTION dash_hist_add(p_at timestamptz, p_zone integer, p_metric integer, p_seconds double precision,
                              p_delta integer)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF p_at IS NULL OR p_seconds IS NULL OR p_seconds < 0 OR p_delta = 0 THEN RETURN; END IF;
    INSERT INTO dash_hist AS t (day, zone_id, metric, bucket, shard, n, sum_s)
    VALUES ((p_at AT TIME ZONE 'Europe/Moscow')::date, p_zone, p_metric, dash_bucket(p_seconds),
            (pg_backend_pid() % 16)::smallint, p_delta, p_delta * p_seconds)
    ON CONFLICT (day, zone_id, metric, bucket, shard)
    DO UPDATE SET n = t.n + EXCLUDED.n, sum_s = t.sum_s + EXCLUDED.sum_s;
END
$$;

-- Add (p_sign = 1) or remove (-1) the contribution of one facts row.
CREATE FUNCTION dash_facts_apply(f dash_order_facts, p_sign integer)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM dash_hourly_add(f.created_at, f.zone_id, 'created', p_sign);
    IF f.status = 'delivered' THEN
        PERFORM dash_hourly_add(f.final_at, f.zone_id, 'delivered', p_sign);
        IF f.on_time IS NOT NULL THEN
            PERFORM dash_hourly_add(f.final_at, f.zone_id, 'on_time_n', p_sign);
            IF f.on_time THEN PERFORM dash_hourly_add(f.final_at, f.zone_id, 'on_time_ok', p_sign); END IF;
        END IF;
        IF f.first_attempt IS NOT NULL THEN
            PERFORM dash_hourly_add(f.final_at, f.zone_id, 'first_n', p_sign);
            IF f.first_attempt THEN PERFORM dash_hourly_add(f.final_at, f.zone_id, 'first_ok', p_sign); END IF;
        END IF;
        PERFORM dash_hist_add(f.final_at, f.zone_id, 1, extract(epoch FROM f.final_at - f.created_at), p_sign);
        PERFORM dash_hist_add(f.final_at, f.zone_id, 2, extract(epoch FROM f.final_at - f.pickup_at), p_sign);
    ELSIF f.status IN ('cancelled', 'returned') THEN
        PERFORM dash_hourly_add(f.final_at, f.zone_id, f.status, p_sign);
    END IF;
    PERFORM dash_hist_add(f.accepted_at, f.zone_id, 3, extract(epoch FROM f.accepted_at - f.created_at), p_sign);
END
$$;

-- Recompute the facts of one order and move the counters by the difference.
CREATE FUNCTION dash_refresh(p_posting text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    o orders%ROWTYPE;
    old dash_order_facts%ROWTYPE;
    nf dash_order_facts%ROWTYPE;
    found_old boolean;
BEGIN
    SELECT * INTO o FROM orders WHERE posting_number = p_posting;
    IF NOT FOUND THEN RETURN; END IF;
    SELECT * INTO old FROM dash_order_facts WHERE posting_number = p_posting FOR UPDATE;
    found_old := FOUND;
    nf.posting_number := p_posting;
    nf.zone_id := dash_order_zone(p_posting, o.ozon_address, o.pickup_point);
    nf.created_at := o.created_at;
    nf.status := o.status;
    nf.final_at := CASE WHEN o.status IN ('delivered', 'cancelled', 'returned') THEN o.status_at END;
    nf.accepted_at := CASE WHEN found_old AND old.accepted_at IS NOT NULL THEN old.accepted_at
                           WHEN o.status IN ('accepted', 'in_transit', 'at_pickup_point', 'out_for_delivery',
                                             'delivered', 'returned') THEN o.status_at END;
    nf.pickup_at := o.pickup_arrived_at;
    IF o.status = 'delivered' THEN
        IF found_old AND old.status = 'delivered' THEN
            nf.on_time := old.on_time;
            nf.first_attempt := old.first_attempt;
        ELSE
            SELECT o.status_at BETWEEN ((d.slot_date + d.slot_start) AT TIME ZONE 'Europe/Moscow')
                                   AND ((d.slot_date + d.slot_end) AT TIME ZONE 'Europe/Moscow')
              INTO nf.on_time
              FROM deliveries d WHERE d.posting_number = p_posting AND d.status = 'ordered' LIMIT 1;
            SELECT CASE WHEN count(*) = 0 THEN NULL ELSE count(*) <= 1 END INTO nf.first_attempt
              FROM order_history h WHERE h.posting_number = p_posting AND h.status = 'out_for_delivery';
        END IF;
    END IF;
    IF found_old AND (old.*) IS NOT DISTINCT FROM (nf.*) THEN RETURN; END IF;
    IF found_old THEN PERFORM dash_facts_apply(old, -1); END IF;
    PERFORM dash_facts_apply(nf, 1);
    INSERT INTO dash_order_facts VALUES (nf.*)
    ON CONFLICT (posting_number) DO UPDATE SET zone_id = EXCLUDED.zone_id, created_at = EXCLUDED.created_at,
        status = EXCLUDED.status, final_at = EXCLUDED.final_at, accepted_at = EXCLUDED.accepted_at,
        pickup_at = EXCLUDED.pickup_at, on_time = EXCLUDED.on_time, first_attempt = EXCLUDED.first_attempt;
END
$$;

CREATE FUNCTION dash_orders_trg() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM dash_refresh(NEW.posting_number);
    RETURN NULL;
END
$$;
CREATE TRIGGER dash_orders_facts AFTER INSERT OR UPDATE OF status, status_at, created_at, pickup_arrived_at,
                                                    ozon_address, pickup_point ON orders
    FOR EACH ROW EXECUTE FUNCTION dash_orders_trg();
CREATE TRIGGER dash_deliveries_facts AFTER INSERT OR UPDATE OF status, zone_id ON deliveries
    FOR EACH ROW EXECUTE FUNCTION dash_orders_trg();

-- Notifications: sent ones count per channel at their sending hour, failed
-- ones at their creation hour, in the zone of their order.
CREATE FUNCTION dash_notify_apply(p_posting text, p_channel text, p_status text, p_created timestamptz,
                                  p_sent timestamptz, p_sign integer)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    z integer;
BEGIN
    IF p_status NOT IN ('sent', 'failed') THEN RETURN; END IF;
    SELECT f.zone_id INTO z FROM dash_order_facts f WHERE f.posting_number = p_posting;
    IF p_status = 'sent' THEN
        PERFORM dash_hourly_add(coalesce(p_sent, p_created), coalesce(z, 0), p_channel, p_sign);
    ELSE
        PERFORM dash_hourly_add(p_created, coalesce(z, 0), 'failed', p_sign);
    END IF;
END
$$;

CREATE FUNCTION dash_notify_trg() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF OLD.status IS NOT DISTINCT FROM NEW.status AND OLD.sent_at IS NOT DISTINCT FROM NEW.sent_at THEN
            RETURN NULL;
        END IF;
        PERFORM dash_notify_apply(OLD.posting_number, OLD.channel, OLD.status, OLD.created_at, OLD.sent_at, -1);
    END IF;
    PERFORM dash_notify_apply(NEW.posting_number, NEW.channel, NEW.status, NEW.created_at, NEW.sent_at, 1);
    RETURN NULL;
END
$$;
CREATE TRIGGER dash_notify_counts AFTER INSERT OR UPDATE OF status, sent_at ON notify_outbox
    FOR EACH ROW EXECUTE FUNCTION dash_notify_trg();

-- Recompute every fact and counter from the raw tables (set-based).
CREATE FUNCTION dash_rebuild() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    LOCK TABLE dash_order_facts, dash_hourly, dash_hist IN EXCLUSIVE MODE;
    TRUNCATE dash_order_facts, dash_hourly, dash_hist;
    INSERT INTO dash_order_facts
    SELECT o.posting_number,
           coalesce(d.zone_id, az.id, pz.zone_id, 0),
           o.created_at, o.status,
           CASE WHEN o.status IN ('delivered', 'cancelled', 'returned') THEN o.status_at END,
           coalesce(acc.at, CASE WHEN o.status IN ('accepted', 'in_transit', 'at_pickup_point', 'out_for_delivery',
                                                   'delivered', 'returned') THEN o.status_at END),
           o.pickup_arrived_at,
           CASE WHEN o.status = 'delivered' AND d.zone_id IS NOT NULL THEN
                o.status_at BETWEEN ((d.slot_date + d.slot_start) AT TIME ZONE 'Europe/Moscow')
                                AND ((d.slot_date + d.slot_end) AT TIME ZONE 'Europe/Moscow') END,
           CASE WHEN o.status = 'delivered' AND ofd.n > 0 THEN ofd.n <= 1 END
      FROM orders o
      LEFT JOIN deliveries d ON d.posting_number = o.posting_number AND d.status = 'ordered'
      LEFT JOIN LATERAL (SELECT pp.zone_id FROM pickup_points pp
                          WHERE o.pickup_point IS NOT NULL AND pp.zone_id IS NOT NULL AND pp.name = o.pickup_point
                          ORDER BY pp.id LIMIT 1) pz ON true
      LEFT JOIN LATERAL (SELECT z.id FROM delivery_zones z
                          WHERE o.ozon_address IS NOT NULL AND z.city <> ''
                            AND translate(lower(o.ozon_address), 'ё', 'е')
                                LIKE '%' || translate(lower(z.city), 'ё', 'е') || '%'
                          ORDER BY z.id LIMIT 1) az ON true
      LEFT JOIN LATERAL (SELECT min(h.at) AS at FROM order_history h
                          WHERE h.posting_number = o.posting_number AND h.applied
                            AND h.status IN ('accepted', 'in_transit', 'at_pickup_point', 'out_for_delivery',
                                             'delivered', 'returned')) acc ON true
      LEFT JOIN LATERAL (SELECT count(*) AS n FROM order_history h
                          WHERE h.posting_number = o.posting_number AND h.status = 'out_for_delivery') ofd ON true;

    INSERT INTO dash_hourly (hour, zone_id, shard, created, delivered, cancelled, returned,
                             on_time_n, on_time_ok, first_n, first_ok)
    SELECT hour, zone_id, 0, sum(c), sum(dl), sum(cn), sum(rt), sum(otn), sum(oto), sum(fn), sum(fo)
      FROM (SELECT date_trunc('hour', created_at) AS hour, zone_id, 1 AS c, 0 AS dl, 0 AS cn, 0 AS rt,
                   0 AS otn, 0 AS oto, 0 AS fn, 0 AS fo FROM dash_order_facts
            UNION ALL
            SELECT date_trunc('hour', final_at), zone_id, 0, (status = 'delivered')::int,
                   (status = 'cancelled')::int, (status = 'returned')::int,
                   (status = 'delivered' AND on_time IS NOT NULL)::int, coalesce((status = 'delivered' AND on_time)::int, 0),
                   (status = 'delivered' AND first_attempt IS NOT NULL)::int,
                   coalesce((status = 'delivered' AND first_attempt)::int, 0)
              FROM dash_order_facts WHERE final_at IS NOT NULL) x
     GROUP BY hour, zone_id;

    INSERT INTO dash_hourly AS t (hour, zone_id, shard, telegram, sms, failed)
    SELECT date_trunc('hour', CASE WHEN n.status = 'sent' THEN coalesce(n.sent_at, n.created_at) ELSE n.created_at END),
           coalesce(f.zone_id, 0), 0,
           count(*) FILTER (WHERE n.status = 'sent' AND n.channel = 'telegram'),
           count(*) FILTER (WHERE n.status = 'sent' AND n.channel = 'sms'),
           count(*) FILTER (WHERE n.status = 'failed')
      FROM notify_outbox n LEFT JOIN dash_order_facts f ON f.posting_number = n.posting_number
     WHERE n.status IN ('sent', 'failed')
     GROUP BY 1, 2
    ON CONFLICT (hour, zone_id, shard) DO UPDATE
       SET telegram = t.telegram + EXCLUDED.telegram, sms = t.sms + EXCLUDED.sms, failed = t.failed + EXCLUDED.failed;

    INSERT INTO dash_hist (day, zone_id, metric, bucket, shard, n, sum_s)
    SELECT (at AT TIME ZONE 'Europe/Moscow')::date, zone_id, metric, dash_bucket(s), 0, count(*), sum(s)
      FROM (SELECT final_at AS at, zone_id, 1 AS metric, extract(epoch FROM final_at - created_at)::float8 AS s
              FROM dash_order_facts WHERE status = 'delivered'
            UNION ALL
            SELECT final_at, zone_id, 2, extract(epoch FROM final_at - pickup_at)::float8
              FROM dash_order_facts WHERE status = 'delivered' AND pickup_at IS NOT NULL
            UNION ALL
            SELECT accepted_at, zone_id, 3, extract(epoch FROM accepted_at - created_at)::float8
              FROM dash_order_facts WHERE accepted_at IS NOT NULL) x
     WHERE s >= 0
     GROUP BY 1, 2, 3, 4;
END
$$;

SELECT dash_rebuild();
