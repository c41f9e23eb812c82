-- load.sql — bench/dashboard.sh's data set: :n orders over the last 365
-- days (psql -v n=1000000), loaded set-based with the dashboard's triggers
-- off, then dash_rebuild() builds the rollups once (what the triggers
-- would have built one order at a time). Per order: status history
-- (created, accepted, final), a Telegram notification, and for 40 % of
-- the delivered ones a courier delivery in a booked slot. Needs the seeded
-- zones and slots (plus7d seed).
\set ON_ERROR_STOP on
SELECT setseed(0.2026);
ALTER TABLE orders DISABLE TRIGGER dash_orders_facts;
ALTER TABLE deliveries DISABLE TRIGGER dash_deliveries_facts;
ALTER TABLE notify_outbox DISABLE TRIGGER dash_notify_counts;

CREATE TEMP TABLE plan AS
SELECT i, lpad(i::text, 9, '0') || '-0001-1' AS posting,
       1 + i % 5 AS zone_id,
       now() - make_interval(secs => 365 * 86400 * random()) AS created_at,
       random() AS r, random() AS r1, random() AS r2
  FROM generate_series(1, :n) i;
ALTER TABLE plan ADD COLUMN final text, ADD COLUMN acc timestamptz, ADD COLUMN final_at timestamptz,
                 ADD COLUMN pickup_at timestamptz, ADD COLUMN courier boolean;
UPDATE plan SET final = CASE WHEN r < 0.70 THEN 'delivered' WHEN r < 0.78 THEN 'cancelled' WHEN r < 0.81 THEN 'returned'
                             WHEN r < 0.86 THEN 'at_pickup_point' WHEN r < 0.93 THEN 'in_transit' ELSE 'accepted' END,
                courier = r1 < 0.4;
UPDATE plan SET acc = created_at + make_interval(secs => 1800 + 60000 * r2) WHERE final <> 'cancelled';
UPDATE plan SET pickup_at = acc + make_interval(secs => 20000 + 150000 * r1)
 WHERE final IN ('at_pickup_point', 'returned') OR (final = 'delivered' AND NOT courier);
UPDATE plan SET final_at = CASE final WHEN 'delivered' THEN coalesce(pickup_at, acc) + make_interval(secs => 3600 + 300000 * r2)
                                      WHEN 'returned' THEN pickup_at + interval '8 days'
                                      WHEN 'cancelled' THEN created_at + make_interval(secs => 3600 + 90000 * r1) END;
UPDATE plan SET final_at = NULL, final = 'in_transit', pickup_at = NULL WHERE final_at > now();
UPDATE plan SET pickup_at = NULL, final = 'in_transit' WHERE pickup_at > now();

INSERT INTO orders (posting_number, status, status_at, status_source, addressee_name, addressee_phone, ozon_address,
                    pickup_point, pickup_arrived_at, created_at, updated_at)
SELECT p.posting, p.final, coalesce(p.final_at, p.pickup_at, p.acc, p.created_at), 'logistics',
       'Получатель ' || p.i, '+7949' || lpad((p.i % 10000000)::text, 7, '0'),
       'г. ' || z.city || ', ул. Бенчмарковая, ' || (p.i % 200), NULL, p.pickup_at, p.created_at,
       coalesce(p.final_at, p.pickup_at, p.acc, p.created_at)
  FROM plan p JOIN delivery_zones z ON z.id = p.zone_id;

INSERT INTO order_history (posting_number, status, source, at, applied)
SELECT posting, s, 'logistics', at, true
  FROM plan, LATERAL (VALUES ('created', created_at), ('accepted', acc), ('at_pickup_point', pickup_at),
                             (final, final_at)) v(s, at)
 WHERE at IS NOT NULL;

INSERT INTO deliveries (posting_number, tg_user_id, address, zone_id, slot_id, slot_date, slot_start, slot_end,
                        price_kopecks, created_at)
SELECT p.posting, 1, 'ул. Бенчмарковая, ' || (p.i % 200), p.zone_id, s.id,
       (p.final_at AT TIME ZONE 'Europe/Moscow')::date, s.start_time, s.end_time, 25000 + 100 * (p.i % 50), p.acc
  FROM plan p JOIN delivery_slots s ON s.zone_id = p.zone_id AND s.start_time = time '14:00'
 WHERE p.final = 'delivered' AND p.courier;

INSERT INTO notify_outbox (dedupe_key, posting_number, event, chat_id, channel, status, created_at, sent_at)
SELECT 'bench:' || posting, posting, 'created', 1, CASE WHEN r2 < 0.05 THEN 'sms' ELSE 'telegram' END,
       CASE WHEN r1 < 0.03 THEN 'failed' ELSE 'sent' END, created_at + interval '5 seconds',
       CASE WHEN r1 < 0.03 THEN NULL ELSE created_at + interval '5 seconds' END
  FROM plan;

ALTER TABLE orders ENABLE TRIGGER dash_orders_facts;
ALTER TABLE deliveries ENABLE TRIGGER dash_deliveries_facts;
ALTER TABLE notify_outbox ENABLE TRIGGER dash_notify_counts;
SELECT dash_rebuild();
ANALYZE;
