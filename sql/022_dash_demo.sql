-- 022_dash_demo.sql — the dashboard's list indexes and the demo order
-- generator.
--
-- orders_created_keyset: the orders list pages by (created_at desc,
--   posting_number) — keyset paging reads one index range per page.
-- dash_ts(t): RFC 3339 with the Moscow offset, for every time in the API.
-- dash_demo_orders(n, prefix): n demo orders over the last 30 days with
--   realistic lives (created → accepted → in transit → pickup point or
--   courier → delivered / cancelled / returned), their status history,
--   courier deliveries in booked slots (most on time), a few second
--   delivery attempts, notifications (Telegram, some SMS, some failed) and
--   three finished mass messages; every chart of the dashboard has data.
--   Postings are <prefix><6 digits>-0001-1; an order that exists already is
--   left alone, so running it twice adds nothing. Deterministic
--   (setseed). Used by `plus7d seed --demo-orders` (./dev up) and the
--   dashboard benchmark. One order's addressee is named
--   <img src=x onerror=alert(1)>: the dashboard must show it as text.
-- Each migration runs in one transaction: no BEGIN/COMMIT here.

CREATE INDEX orders_created_keyset ON orders (created_at DESC, posting_number);

-- RFC 3339 in Moscow time, the dashboard's one time format
-- ("2026-12-01T14:05:00+03:00"; Moscow keeps UTC+3 all year).
CREATE FUNCTION dash_ts(p timestamptz) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT to_char(p AT TIME ZONE 'Europe/Moscow', 'YYYY-MM-DD"T"HH24:MI:SS"+03:00"')
$$;

CREATE FUNCTION dash_demo_orders(p_n integer, p_prefix text DEFAULT '7000')
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    added integer;
    names text[] := ARRAY['Анна Коваленко', 'Игорь Шевченко', 'Мария Бондаренко', 'Олег Ткаченко',
                          'Светлана Кравченко', 'Дмитрий Олейник', 'Екатерина Мельник', 'Сергей Лысенко',
                          'Наталья Руденко', 'Алексей Марченко', 'Ольга Савченко', 'Юрий Павленко'];
    streets text[] := ARRAY['ул. Артёма', 'пр. Мира', 'ул. Университетская', 'б-р Пушкина', 'ул. Ленина'];
BEGIN
    PERFORM setseed(0.4242);
    CREATE TEMP TABLE dash_demo ON COMMIT DROP AS
    SELECT i,
           p_prefix || lpad(i::text, 6, '0') || '-0001-1' AS posting,
           z.id AS zone_id, z.city,
           now() - make_interval(secs => 86400 * 30 * random()) AS created_at,
           random() AS r_status, random() AS r_way, random() AS r_late, random() AS r_second,
           random() AS r1, random() AS r2, random() AS r3, random() AS r4
      FROM generate_series(1, p_n) i
      JOIN LATERAL (SELECT dz.id, dz.city FROM delivery_zones dz ORDER BY dz.id
                     OFFSET (i % greatest((SELECT count(*) FROM delivery_zones)::int, 1)) LIMIT 1) z ON true;
    DELETE FROM dash_demo d USING orders o WHERE o.posting_number = d.posting;

    ALTER TABLE dash_demo ADD COLUMN final text, ADD COLUMN courier boolean,
        ADD COLUMN acc_at timestamptz, ADD COLUMN transit_at timestamptz, ADD COLUMN pickup_at timestamptz,
        ADD COLUMN ofd_at timestamptz, ADD COLUMN final_at timestamptz, ADD COLUMN slot_id integer,
        ADD COLUMN slot_date date, ADD COLUMN pickup_name text;
    UPDATE dash_demo SET
        final = CASE WHEN r_status < 0.55 THEN 'delivered' WHEN r_status < 0.63 THEN 'cancelled'
                     WHEN r_status < 0.67 THEN 'returned' WHEN r_status < 0.77 THEN 'at_pickup_point'
                     WHEN r_status < 0.85 THEN 'in_transit' WHEN r_status < 0.90 THEN 'out_for_delivery'
                     WHEN r_status < 0.95 THEN 'accepted' ELSE 'created' END,
        courier = r_way < 0.45;
    UPDATE dash_demo SET courier = true WHERE final = 'out_for_delivery';
    UPDATE dash_demo SET courier = false WHERE final IN ('at_pickup_point', 'returned');
    UPDATE dash_demo SET acc_at = created_at + make_interval(secs => 3600 + 70000 * r1)
     WHERE final NOT IN ('created', 'cancelled');
    UPDATE dash_demo SET transit_at = acc_at + make_interval(secs => 7200 + 80000 * r2)
     WHERE final NOT IN ('created', 'cancelled', 'accepted');
    UPDATE dash_demo SET pickup_at = transit_at + make_interval(secs => 20000 + 150000 * r3)
     WHERE NOT courier AND final IN ('at_pickup_point', 'delivered', 'returned');
    -- courier deliveries: a booked slot the day after the parcel left, delivered inside it (or late)
    UPDATE dash_demo d SET slot_date = ((d.transit_at AT TIME ZONE 'Europe/Moscow')::date + 1),
           slot_id = (SELECT ds.id FROM delivery_slots ds WHERE ds.zone_id = d.zone_id ORDER BY ds.start_time
                       OFFSET (d.i % 3) LIMIT 1)
     WHERE d.courier AND d.final IN ('out_for_delivery', 'delivered');
    UPDATE dash_demo d SET
        final_at = CASE WHEN d.r_late < 0.85
                        THEN ((d.slot_date + s.start_time) AT TIME ZONE 'Europe/Moscow')
                             + (s.end_time - s.start_time) * d.r4
                        ELSE ((d.slot_date + s.end_time) AT TIME ZONE 'Europe/Moscow')
                             + make_interval(secs => 1800 + 7200 * d.r4) END
      FROM delivery_slots s WHERE s.id = d.slot_id;
    UPDATE dash_demo SET ofd_at = final_at - make_interval(secs => 1800 + 5400 * r1) WHERE slot_id IS NOT NULL;
    UPDATE dash_demo SET ofd_at = ((slot_date + time '09:00') AT TIME ZONE 'Europe/Moscow'), final_at = NULL
     WHERE final = 'out_for_delivery';
    UPDATE dash_demo SET final_at = pickup_at + make_interval(secs => 3600 + 500000 * r4)
     WHERE final = 'delivered' AND NOT courier;
    UPDATE dash_demo SET final_at = pickup_at + interval '8 days' WHERE final = 'returned';
    UPDATE dash_demo SET final_at = created_at + make_interval(secs => 3600 + 150000 * r4) WHERE final = 'cancelled';
    -- an order whose planned life ends in the future is moved back in time as a whole
    UPDATE dash_demo SET created_at = created_at - sh, acc_at = acc_at - sh, transit_at = transit_at - sh,
                         pickup_at = pickup_at - sh, ofd_at = ofd_at - sh, final_at = final_at - sh,
                         slot_date = (slot_date - sh)::date
      FROM (SELECT i AS k, make_interval(days => ceil(extract(epoch FROM
                       coalesce(final_at, ofd_at, pickup_at, transit_at, acc_at, created_at) - now()
                       + interval '1 hour') / 86400)::int) AS sh FROM dash_demo) x
     WHERE x.k = i AND x.sh > interval '0';
    UPDATE dash_demo d SET pickup_name = (SELECT pp.name FROM pickup_points pp WHERE pp.zone_id = d.zone_id
                                           ORDER BY pp.id LIMIT 1)
     WHERE d.pickup_at IS NOT NULL;

    INSERT INTO orders (posting_number, status, status_at, status_source, customer_name, customer_phone,
                        addressee_name, addressee_phone, ozon_address, created_at, updated_at)
    SELECT posting, 'created', created_at, 'ozon', names[1 + i % 12], '+7949' || lpad((3000000 + i)::text, 7, '0'),
           CASE WHEN i = 7 THEN '<img src=x onerror=alert(1)>' ELSE names[1 + (i * 7) % 12] END,
           '+7949' || lpad((3000000 + i)::text, 7, '0'),
           'г. ' || city || ', ' || streets[1 + i % 5] || ', ' || (1 + i % 90), created_at, created_at
      FROM dash_demo;
    GET DIAGNOSTICS added = ROW_COUNT;

    INSERT INTO deliveries (posting_number, tg_user_id, address, zone_id, slot_id, slot_date, slot_start, slot_end,
                            price_kopecks, created_at)
    SELECT d.posting, 1000 + d.i, 'г. ' || d.city || ', ' || streets[1 + d.i % 5] || ', ' || (1 + d.i % 90),
           d.zone_id, s.id, d.slot_date, s.start_time, s.end_time, 25000 + 5000 * (d.i % 4), d.transit_at
      FROM dash_demo d JOIN delivery_slots s ON s.id = d.slot_id;

    INSERT INTO order_history (posting_number, status, source, at, applied)
    SELECT posting, st, 'logistics', at, true
      FROM dash_demo, LATERAL (VALUES ('created', created_at), ('accepted', acc_at), ('in_transit', transit_at),
                                      ('at_pickup_point', pickup_at), ('out_for_delivery', ofd_at),
                                      (final, final_at)) v(st, at)
     WHERE at IS NOT NULL;
    -- a second trip for some courier deliveries (not first-attempt successes)
    INSERT INTO order_history (posting_number, status, source, at, comment, applied)
    SELECT posting, 'out_for_delivery', 'courier', ofd_at + interval '1 hour', 'повторная попытка', false
      FROM dash_demo WHERE courier AND final = 'delivered' AND r_second < 0.12;

    UPDATE orders o SET status = 'accepted', status_at = d.acc_at
      FROM dash_demo d WHERE o.posting_number = d.posting AND d.acc_at IS NOT NULL;
    UPDATE orders o SET status = 'in_transit', status_at = d.transit_at
      FROM dash_demo d WHERE o.posting_number = d.posting AND d.transit_at IS NOT NULL;
    UPDATE orders o SET status = 'at_pickup_point', status_at = d.pickup_at, pickup_point = d.pickup_name,
                        pickup_arrived_at = d.pickup_at, storage_until = d.pickup_at + interval '7 days'
      FROM dash_demo d WHERE o.posting_number = d.posting AND d.pickup_at IS NOT NULL;
    UPDATE orders o SET status = 'out_for_delivery', status_at = d.ofd_at
      FROM dash_demo d WHERE o.posting_number = d.posting AND d.ofd_at IS NOT NULL;
    UPDATE orders o SET status = d.final, status_at = d.final_at, updated_at = d.final_at
      FROM dash_demo d WHERE o.posting_number = d.posting AND d.final_at IS NOT NULL;

    INSERT INTO notify_outbox (dedupe_key, posting_number, event, phone, channel, status, created_at, sent_at,
                               last_error)
    SELECT 'demo:' || posting || ':' || st, posting, st, '+7949' || lpad((3000000 + i)::text, 7, '0'),
           CASE WHEN x < 0.08 THEN 'sms' ELSE 'telegram' END,
           CASE WHEN x BETWEEN 0.08 AND 0.12 THEN 'failed' ELSE 'sent' END,
           at, CASE WHEN x BETWEEN 0.08 AND 0.12 THEN NULL ELSE at + interval '5 seconds' END,
           CASE WHEN x BETWEEN 0.08 AND 0.12 THEN 'telegram: Forbidden: bot was blocked by the user' END
      FROM dash_demo, LATERAL (VALUES ('created', created_at, r1), ('at_pickup_point', pickup_at, r2),
                                      ('out_for_delivery', ofd_at, r3), (final, final_at, r4)) v(st, at, x)
     WHERE at IS NOT NULL
    ON CONFLICT (dedupe_key) DO NOTHING;

    IF added > 0 THEN
        INSERT INTO broadcasts (created_by, chat_id, body, segment, status, total, sent, failed,
                                created_at, started_at, finished_at)
        SELECT 0, 0, b.body, 'all', 'done', b.total, b.total - b.failed, b.failed,
               now() - b.ago, now() - b.ago, now() - b.ago + interval '3 minutes'
          FROM (VALUES ('Режим работы пунктов выдачи в праздники', 180, 4, interval '20 days'),
                       ('Новые зоны курьерской доставки', 210, 6, interval '9 days'),
                       ('Напоминание: оплата при получении', 150, 2, interval '2 days')) b(body, total, failed, ago);
    END IF;
    DROP TABLE dash_demo;
    RETURN added;
END
$$;
