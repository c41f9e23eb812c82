-- load_assign.sql — state for bench "couriers" assignment (bench/couriers.sh).
-- After `plus7d seed` (5 demo zones, 3 windows each): :ndel deliveries for
-- today (msk_today()) spread evenly over the zones and their windows, at
-- random points around each zone's centre (the mean of its polygon's
-- vertices, ±0.03° lat, ±0.05° lon: a city), each with its order row; and
-- :ncour couriers on shift spread evenly over the zones, at random points
-- of their zone. Every other courier goes off shift. Deterministic (setseed).
SELECT setseed(0.42);
UPDATE couriers SET on_shift = false, shift_id = NULL;
CREATE TEMP TABLE zc AS
SELECT z.id, row_number() OVER (ORDER BY z.id) - 1 AS k,
       avg(split_part(v, ',', 1)::float8) AS lat, avg(split_part(v, ',', 2)::float8) AS lon
  FROM delivery_zones z, unnest(string_to_array(z.polygon, ';')) v
 WHERE z.active GROUP BY z.id;
CREATE TEMP TABLE sl AS
SELECT s.id, s.zone_id, s.start_time, s.end_time,
       row_number() OVER (PARTITION BY s.zone_id ORDER BY s.start_time) - 1 AS k
  FROM delivery_slots s JOIN zc ON zc.id = s.zone_id WHERE s.active;
INSERT INTO orders (posting_number, status, status_source, customer_name)
SELECT '7' || lpad(i::text, 8, '0') || '-0001-1', 'at_pickup_point', 'ozon', 'Клиент ' || i
  FROM generate_series(1, :ndel) i;
INSERT INTO deliveries (posting_number, tg_user_id, address, lat, lon, zone_id, slot_id, slot_date,
                        slot_start, slot_end, price_kopecks)
SELECT '7' || lpad(i::text, 8, '0') || '-0001-1', 500000000 + i, 'ул. Тестовая, ' || i,
       zc.lat + (random() - 0.5) * 0.06, zc.lon + (random() - 0.5) * 0.10, zc.id, sl.id, msk_today(),
       sl.start_time, sl.end_time, 30000
  FROM generate_series(1, :ndel) i
  JOIN zc ON zc.k = i % (SELECT count(*) FROM zc)
  JOIN sl ON sl.zone_id = zc.id AND sl.k = (i / (SELECT count(*) FROM zc)) % 3;
INSERT INTO couriers (id, tg_user_id, name, zone_id, on_shift, lat, lon, last_at, live_until)
SELECT 100000 + i, 600000000 + i, 'Курьер ' || i, zc.id, true,
       zc.lat + (random() - 0.5) * 0.06, zc.lon + (random() - 0.5) * 0.10, now(), now() + interval '8 hours'
  FROM generate_series(1, :ncour) i JOIN zc ON zc.k = i % (SELECT count(*) FROM zc);
ANALYZE deliveries;
ANALYZE couriers;
