-- 010_lookup_indexes.sql — indexes for the joins that run on every status
-- change: subscribers and owners are matched to users by chat id, and
-- unprocessed logistics events are found by posting at start.
CREATE INDEX users_chat_id ON users (chat_id);
