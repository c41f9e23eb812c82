-- 006_notify.sql — notification templates and the notifier's bookkeeping.
--
-- notify_templates: one editable text per (event, channel), with {name}
--   placeholders (actors/notify/template.h; checked on save by
--   `plus7d template set`). Events: the order statuses, pickup_reminder_<days>
--   for the configured reminder days, and pickup_reminder, the text of a
--   reminder day that has no template of its own. Telegram texts are HTML;
--   SMS texts are plain and at most two SMS parts with real values.
--   A missing row is not an error: the notifier uses the catalogue's generic
--   text and logs notify_template_missing.
-- notify_outbox (004) gains what the SMS connector needs: the provider's
--   message id, the provider's status code, and when to try again.
--   'skipped': a pickup reminder whose parcel left the pickup point before
--   its turn came.
-- tg_outbox_notify_outcome: when the Telegram gateway records the outcome
--   of a notification's message, the notification follows ('sent' or
--   'failed'), in the same transaction. A 403 ('blocked') is left to the
--   notifier, which falls back to SMS.

CREATE TABLE notify_templates (
    event      text NOT NULL CHECK (event ~ '^[a-z][a-z0-9_]{0,63}$'),
    channel    text NOT NULL CHECK (channel IN ('telegram', 'sms')),
    body       text NOT NULL CHECK (body <> ''),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (event, channel)
);

INSERT INTO notify_templates (event, channel, body) VALUES
    ('created', 'telegram', '📦 Заказ <b>{posting}</b> оформлен. Мы сообщим, когда он поступит на склад.'),
    ('accepted', 'telegram', '🏬 Заказ <b>{posting}</b> принят на склад +7Доставки.'),
    ('in_transit', 'telegram', '🚚 Заказ <b>{posting}</b> в пути.'),
    ('at_pickup_point', 'telegram',
     E'📍 Заказ <b>{posting}</b> прибыл в пункт выдачи {pickup_point}.\nЗаберите его до {storage_deadline}.'),
    ('out_for_delivery', 'telegram', '🛵 Заказ <b>{posting}</b> передан курьеру. Ожидайте доставку.'),
    ('delivered', 'telegram', '✅ Заказ <b>{posting}</b> выдан. Спасибо, что выбрали +7Доставку!'),
    ('returned', 'telegram', '↩️ Заказ <b>{posting}</b> возвращён отправителю.'),
    ('cancelled', 'telegram', '❌ Заказ <b>{posting}</b> отменён.'),
    ('pickup_reminder_3', 'telegram',
     E'⏰ Напоминаем: заказ <b>{posting}</b> ждёт вас в пункте выдачи {pickup_point}.\nСрок хранения — до {storage_deadline}.'),
    ('pickup_reminder_6', 'telegram',
     E'⚠️ Срок хранения заказа <b>{posting}</b> заканчивается {storage_deadline}.\nЗаберите его в пункте выдачи {pickup_point}, иначе он вернётся отправителю.'),
    ('pickup_reminder', 'telegram',
     E'⏰ Заказ <b>{posting}</b> ждёт вас в пункте выдачи {pickup_point} уже {days} дн.\nСрок хранения — до {storage_deadline}.'),
    ('created', 'sms', '+7Доставка: заказ {posting} оформлен.'),
    ('accepted', 'sms', '+7Доставка: заказ {posting} принят на склад.'),
    ('in_transit', 'sms', '+7Доставка: заказ {posting} в пути.'),
    ('at_pickup_point', 'sms', '+7Доставка: заказ {posting} в пункте выдачи {pickup_point}. Хранение до {storage_deadline}.'),
    ('out_for_delivery', 'sms', '+7Доставка: заказ {posting} передан курьеру.'),
    ('delivered', 'sms', '+7Доставка: заказ {posting} выдан. Спасибо!'),
    ('returned', 'sms', '+7Доставка: заказ {posting} возвращён отправителю.'),
    ('cancelled', 'sms', '+7Доставка: заказ {posting} отменён.'),
    ('pickup_reminder_3', 'sms', '+7Доставка: заказ {posting} ждёт вас в пункте выдачи до {storage_deadline}.'),
    ('pickup_reminder_6', 'sms', '+7Доставка: хранение заказа {posting} заканчивается {storage_deadline}. Заберите его!'),
    ('pickup_reminder', 'sms', '+7Доставка: заказ {posting} ждёт вас в пункте выдачи до {storage_deadline}.');

ALTER TABLE notify_outbox ADD COLUMN next_attempt_at timestamptz;
ALTER TABLE notify_outbox ADD COLUMN provider_id text;
ALTER TABLE notify_outbox ADD COLUMN error_code integer;
ALTER TABLE notify_outbox DROP CONSTRAINT notify_outbox_status_check;
ALTER TABLE notify_outbox ADD CONSTRAINT notify_outbox_status_check
    CHECK (status IN ('pending', 'queued', 'sent', 'failed', 'fallback', 'skipped'));
-- the Telegram window (rows handed to the gateway, not yet sent)
CREATE INDEX notify_outbox_queued ON notify_outbox (id) WHERE status = 'queued';

CREATE FUNCTION notify_tg_outcome() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status = 'sent' THEN
        UPDATE notify_outbox SET status = 'sent', sent_at = coalesce(NEW.sent_at, now())
         WHERE id = NEW.notify_id AND status = 'queued';
    ELSIF NEW.status = 'failed' THEN
        UPDATE notify_outbox SET status = 'failed', last_error = 'telegram: ' || coalesce(NEW.last_error, 'failed')
         WHERE id = NEW.notify_id AND status = 'queued';
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER tg_outbox_notify_outcome
    AFTER UPDATE OF status ON tg_outbox
    FOR EACH ROW WHEN (NEW.notify_id IS NOT NULL AND NEW.status IS DISTINCT FROM OLD.status)
    EXECUTE FUNCTION notify_tg_outcome();
