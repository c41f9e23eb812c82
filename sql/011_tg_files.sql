-- 011_tg_files.sql — files the bot uploads (sendPhoto, sendDocument):
-- a tg_outbox row names its file and the form field it goes in; the gateway
-- reads the bytes just before the multipart upload.
CREATE TABLE tg_files (
    id           bigserial PRIMARY KEY,
    filename     text NOT NULL CHECK (length(filename) BETWEEN 1 AND 200),
    content_type text NOT NULL,
    data         bytea NOT NULL CHECK (length(data) <= 50 * 1024 * 1024),
    created_at   timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE tg_outbox ADD COLUMN file_id bigint REFERENCES tg_files,
                      ADD COLUMN file_field text CHECK (file_field IN ('photo', 'document'));
