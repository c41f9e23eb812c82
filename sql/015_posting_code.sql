-- 015_posting_code.sql — one format for a posting number everywhere: the
-- notification templates show it as tap-to-copy <code> like the rest of the
-- bot (issue 7, item 9). Templates an operator has changed keep their words:
-- only the seeded <b>{posting}</b> markup is replaced.
-- Each migration runs in one transaction: no BEGIN/COMMIT here.

UPDATE notify_templates SET body = replace(body, '<b>{posting}</b>', '<code>{posting}</code>')
 WHERE channel = 'telegram' AND body LIKE '%<b>{posting}</b>%';
