-- 032_pay_dash.sql — payments in the dashboard's rollups (sql/021):
-- dash_hourly.paid_count / paid_kop follow orders.paid_* in the paying
-- (or refunding) transaction: a change subtracts the old contribution and
-- adds the new one, at the hour of paid_at, in the order's zone. Amounts
-- are kopecks; dash_hourly_add takes an integer delta (up to 21 million
-- rubles per order, far beyond a delivery price).

CREATE FUNCTION pay_dash_trg() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    z integer;
BEGIN
    SELECT f.zone_id INTO z FROM dash_order_facts f WHERE f.posting_number = NEW.posting_number;
    z := coalesce(z, 0);
    IF OLD.paid_attempt IS NOT NULL THEN
        PERFORM dash_hourly_add(OLD.paid_at, z, 'paid_count', -1);
        PERFORM dash_hourly_add(OLD.paid_at, z, 'paid_kop', -OLD.paid_kop::integer);
    END IF;
    IF NEW.paid_attempt IS NOT NULL THEN
        PERFORM dash_hourly_add(NEW.paid_at, z, 'paid_count', 1);
        PERFORM dash_hourly_add(NEW.paid_at, z, 'paid_kop', NEW.paid_kop::integer);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER pay_dash_paid
    AFTER UPDATE OF paid_kop, paid_attempt, paid_at ON orders
    FOR EACH ROW WHEN (OLD.paid_kop IS DISTINCT FROM NEW.paid_kop OR OLD.paid_attempt IS DISTINCT FROM NEW.paid_attempt
                       OR OLD.paid_at IS DISTINCT FROM NEW.paid_at)
    EXECUTE FUNCTION pay_dash_trg();

-- pay_dash_rebuild: the paid counters set-based, for after dash_rebuild()
-- (which truncates dash_hourly and knows nothing of payments).
CREATE FUNCTION pay_dash_rebuild() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    UPDATE dash_hourly SET paid_count = 0, paid_kop = 0 WHERE paid_count <> 0 OR paid_kop <> 0;
    INSERT INTO dash_hourly AS t (hour, zone_id, shard, paid_count, paid_kop)
    SELECT date_trunc('hour', o.paid_at), coalesce(f.zone_id, 0), 0, count(*), sum(o.paid_kop)
      FROM orders o LEFT JOIN dash_order_facts f ON f.posting_number = o.posting_number
     WHERE o.paid_attempt IS NOT NULL
     GROUP BY 1, 2
    ON CONFLICT (hour, zone_id, shard) DO UPDATE SET paid_count = t.paid_count + EXCLUDED.paid_count,
                                                    paid_kop = t.paid_kop + EXCLUDED.paid_kop;
END
$$;
SELECT pay_dash_rebuild();
