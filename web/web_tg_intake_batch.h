/* web_tg_intake_batch.h — group commit of webhook updates into tg_inbox.
 *
 * Purpose: under load, many civetweb threads store one update each; one
 * INSERT and one commit per update would make PostgreSQL the bottleneck.
 * Callers hand their update to web_tg_intake_batch_store, which returns only
 * once the update is durably stored: concurrent callers are stored
 * together by whichever of them is the current leader, in ONE statement
 * (INSERT ... SELECT FROM unnest(arrays) ON CONFLICT DO NOTHING) and one
 * commit. A lone caller stores its own update at once, so there is no
 * added latency when idle. Every wait is bounded by the caller's deadline.
 *
 * Exports: web_tg_intake_batch_store.
 * Threads: civetweb worker threads (blocking is allowed there; never a
 * runtime worker).
 */
#ifndef PLUS7_WEB_TG_INTAKE_BATCH_H
#define PLUS7_WEB_TG_INTAKE_BATCH_H

#include <stdint.h>

/* Store one update (chat_id 0: an update without a chat, stored already
 * processed). Blocks until it is committed or `deadline_ms` (rt_now_ms()
 * time) has passed — plus, when the update is already part of a running
 * flush, that flush's own bounded time. RT_OK; RT_ETIMEDOUT or RT_EIO when
 * the database was too slow, refused or unreachable (the caller answers
 * 503 and Telegram delivers again later). `body` must stay valid until the
 * call returns. */
int web_tg_intake_batch_store(int64_t update_id, int64_t chat_id, const char *body,
                              uint64_t deadline_ms);

#endif
