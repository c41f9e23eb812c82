-- 024_dash_waiting.sql — the summary's "waiting at pickup points" reads the
-- facts of the parcels there now through this partial index (per zone,
-- oldest first), not orders joined to their facts.
-- Each migration runs in one transaction: no BEGIN/COMMIT here.

CREATE INDEX dash_order_facts_waiting ON dash_order_facts (zone_id, pickup_at)
    WHERE status = 'at_pickup_point';
