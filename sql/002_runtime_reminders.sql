-- 002_runtime_reminders.sql — durable reminders of the actor runtime.
--
-- runtime_reminders: one row per pending reminder of an actor (kind, key),
--   unique per name. Written by rt_reminder_set / rt_reminder_cancel /
--   rt_reminder_ack (runtime/pg/rt_reminder.c), claimed by the reminder
--   poller: due rows (due_at <= now()) that are not leased are stamped with
--   fired_at and attempts + 1 and sent to the actor; the actor's ack deletes
--   the row if gen still matches. A row whose fired_at is older than the
--   lease is due again (at-least-once delivery, see runtime/rt_reminder.h).
--   gen increases on every re-set, so an ack of an old delivery never deletes
--   a reminder that was set again meanwhile.
-- Each migration runs in one transaction: no BEGIN/COMMIT here.

CREATE TABLE runtime_reminders (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind       text NOT NULL,                 -- rt_kind_t.name of the target
    key        text NOT NULL,                 -- actor key within the kind
    name       text NOT NULL,                 -- reminder name, unique per actor
    due_at     timestamptz NOT NULL,
    data       text NOT NULL DEFAULT '',      -- opaque payload for the actor
    gen        bigint NOT NULL DEFAULT 1,     -- bumped on every re-set
    fired_at   timestamptz,                   -- last delivery (lease start), NULL if never
    attempts   integer NOT NULL DEFAULT 0,    -- deliveries since the last set
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT runtime_reminders_target_name UNIQUE (kind, key, name)
);
CREATE INDEX runtime_reminders_due_idx ON runtime_reminders (due_at);
