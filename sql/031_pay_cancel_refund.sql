-- 031_pay_cancel_refund.sql — a paid delivery that will not happen is
-- refunded: when an order becomes 'cancelled' (an operator, Ozon or the
-- logistics system) or its ordered delivery is cancelled, what is left of
-- its payment gets a pay_refunds row in the same transaction; the payment
-- actor sends POST /refunds and the client reads «Возврат оплаты оформлен».
-- Refunds still open count as refunded, so nothing is returned twice.

CREATE FUNCTION pay_refund_rest(p_posting text, p_reason text) RETURNS void
LANGUAGE sql VOLATILE AS $$
    INSERT INTO pay_refunds (attempt_id, amount_kop, reason, requested_by)
    SELECT a.id, a.amount_kop - a.refunded_kop
                 - coalesce((SELECT sum(f.amount_kop) FROM pay_refunds f
                              WHERE f.attempt_id = a.id AND f.status = 'created'), 0),
           p_reason, 'auto'
      FROM orders o JOIN pay_attempts a ON a.id = o.paid_attempt
     WHERE o.posting_number = p_posting
       AND a.amount_kop - a.refunded_kop
           - coalesce((SELECT sum(f.amount_kop) FROM pay_refunds f
                        WHERE f.attempt_id = a.id AND f.status = 'created'), 0) > 0
$$;

-- Trigger function of both triggers: TG_ARGV[0] is the reason.
CREATE FUNCTION pay_on_cancelled() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pay_refund_rest(NEW.posting_number, TG_ARGV[0]);
    RETURN NULL;
END
$$;

CREATE TRIGGER orders_cancelled_refund
    AFTER UPDATE OF status ON orders
    FOR EACH ROW WHEN (NEW.status = 'cancelled' AND OLD.status IS DISTINCT FROM 'cancelled'
                       AND NEW.paid_attempt IS NOT NULL)
    EXECUTE FUNCTION pay_on_cancelled('order cancelled');

CREATE TRIGGER deliveries_cancelled_refund
    AFTER UPDATE OF status ON deliveries
    FOR EACH ROW WHEN (NEW.status = 'cancelled' AND OLD.status = 'ordered')
    EXECUTE FUNCTION pay_on_cancelled('delivery cancelled');
