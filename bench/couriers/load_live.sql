-- load_live.sql — state for bench "couriers" live points (bench/couriers.sh).
-- :n couriers on shift (ids 1..:n, Telegram ids :tg0 + i - 1, phones with
-- the courier role, a running shift, live location on with message id
-- 7000 + i - 1 until 8 hours from now), and one manager whose sessions
-- the script inserts (token hashes) for the websocket clients.
INSERT INTO users (tg_user_id, chat_id, phone, first_name)
SELECT :tg0 + i - 1, :tg0 + i - 1, '+7949' || lpad(i::text, 7, '0'), 'Курьер ' || i
  FROM generate_series(1, :n) i;
INSERT INTO role_grants (phone, role)
SELECT '+7949' || lpad(i::text, 7, '0'), 'courier' FROM generate_series(1, :n) i;
INSERT INTO couriers (id, tg_user_id, name, on_shift, live_message_id, live_until, lat, lon, last_at)
SELECT i, :tg0 + i - 1, 'Курьер ' || i, true, 7000 + i - 1, now() + interval '8 hours',
       48.0 + (i % 97) * 0.001, 37.8 + (i % 89) * 0.001, now() - interval '1 minute'
  FROM generate_series(1, :n) i;
WITH s AS (INSERT INTO courier_shifts (courier_id, started_at)
           SELECT id, now() - interval '1 hour' FROM couriers RETURNING id, courier_id)
UPDATE couriers c SET shift_id = s.id FROM s WHERE s.courier_id = c.id;
INSERT INTO staff_users (login, role) VALUES ('bench-manager', 'manager');
