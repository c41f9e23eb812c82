-- 012_conversation.sql — no chat goes silent; numbers as people type them.
--
-- tg_inbox: an update the conversation could not commit after a bounded
--   number of attempts (conv_actor.c) is set aside: processed_at is set so
--   the chat moves on, set_aside_at and error say why, and the row is kept
--   for an operator to look at (never replayed by itself).
-- orders: an Ozon order number (12345678-0001) lists its postings
--   (12345678-0001-1, -2, ...); the expression index serves that lookup
--   (conv_lookups.c, CONV_NEED_ORDER_POSTINGS).
ALTER TABLE tg_inbox ADD COLUMN set_aside_at timestamptz,
                     ADD COLUMN error text;
CREATE INDEX tg_inbox_set_aside ON tg_inbox (set_aside_at) WHERE set_aside_at IS NOT NULL;

CREATE INDEX orders_ozon_order ON orders
    ((split_part(posting_number, '-', 1) || '-' || split_part(posting_number, '-', 2)));
