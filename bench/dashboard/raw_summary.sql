-- raw_summary.sql — the ceiling of bench "dashboard_summary": the month
-- summary's numbers (all zones) computed by ONE query over the raw tables
-- (orders, order_history, deliveries, notify_outbox, broadcasts), as the
-- dashboard would without rollups. $1, $2: the period's bounds (timestamptz).
WITH fin AS (
    SELECT o.status, o.created_at, o.status_at, o.pickup_arrived_at,
           d.slot_date, d.slot_start, d.slot_end,
           (SELECT count(*) FROM order_history h
             WHERE h.posting_number = o.posting_number AND h.status = 'out_for_delivery') AS trips
      FROM orders o
      LEFT JOIN deliveries d ON d.posting_number = o.posting_number AND d.status = 'ordered'
     WHERE o.status IN ('delivered', 'cancelled', 'returned') AND o.status_at >= $1 AND o.status_at < $2),
acc AS (
    SELECT extract(epoch FROM min(h.at) - o.created_at) AS s
      FROM order_history h JOIN orders o ON o.posting_number = h.posting_number
     WHERE h.applied AND h.status IN ('accepted', 'in_transit', 'at_pickup_point', 'out_for_delivery', 'delivered', 'returned')
     GROUP BY o.posting_number, o.created_at
    HAVING min(h.at) >= $1 AND min(h.at) < $2)
SELECT (SELECT count(*) FROM orders WHERE created_at >= $1 AND created_at < $2) AS created,
       count(*) FILTER (WHERE status = 'delivered') AS delivered,
       count(*) FILTER (WHERE status = 'cancelled') AS cancelled,
       count(*) FILTER (WHERE status = 'returned') AS returned,
       avg(extract(epoch FROM status_at - created_at)) FILTER (WHERE status = 'delivered') AS d_avg,
       percentile_disc(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY extract(epoch FROM status_at - created_at))
           FILTER (WHERE status = 'delivered') AS d_pct,
       avg(extract(epoch FROM status_at - pickup_arrived_at)) FILTER (WHERE status = 'delivered') AS p_avg,
       percentile_disc(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY extract(epoch FROM status_at - pickup_arrived_at))
           FILTER (WHERE status = 'delivered' AND pickup_arrived_at IS NOT NULL) AS p_pct,
       (SELECT avg(s) FROM acc) AS a_avg,
       (SELECT percentile_disc(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY s) FROM acc) AS a_pct,
       avg((status_at BETWEEN ((slot_date + slot_start) AT TIME ZONE 'Europe/Moscow')
                          AND ((slot_date + slot_end) AT TIME ZONE 'Europe/Moscow'))::int)
           FILTER (WHERE status = 'delivered' AND slot_date IS NOT NULL) AS on_time,
       avg((trips <= 1)::int) FILTER (WHERE status = 'delivered' AND trips > 0) AS first_attempt,
       (SELECT count(*) FROM orders WHERE status = 'at_pickup_point') AS waiting,
       (SELECT count(*) FILTER (WHERE status = 'sent' AND channel = 'telegram') FROM notify_outbox
         WHERE coalesce(sent_at, created_at) >= $1 AND coalesce(sent_at, created_at) < $2) AS telegram,
       (SELECT count(*) FILTER (WHERE status = 'sent' AND channel = 'sms') FROM notify_outbox
         WHERE coalesce(sent_at, created_at) >= $1 AND coalesce(sent_at, created_at) < $2) AS sms,
       (SELECT count(*) FROM notify_outbox WHERE status = 'failed' AND created_at >= $1 AND created_at < $2) AS failed,
       (SELECT count(*) FROM broadcasts WHERE started_at >= $1 AND started_at < $2) AS broadcasts
  FROM fin
