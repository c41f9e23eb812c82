/* oe_util.h — helpers shared by the orders end-to-end tests.
 *
 * Purpose: the orders/tracking/logistics tests drive the real plus7d
 * through tests/e2e/e2e_harness (fresh database, tgsim, plus7d child). On
 * top of it this file offers: starting plus7d with the logistics webhook on
 * (PLUS7_LOGISTICS_SECRET = OE_SECRET), signing a body exactly as the
 * company's logistics system must (X-Plus7-Signature: sha256=<hex
 * HMAC-SHA256 of the raw body>), POSTing to /api/logistics/events over
 * real HTTP, building event batches, RFC 3339 times, and a few SQL waits.
 *
 * Exports: OE_SECRET, OE_WAIT_S, oe_resp_t, oe_init, oe_sign, oe_post,
 * oe_post_signed, oe_resp_free, oe_rfc3339, oe_batch_t, oe_batch_init,
 * oe_batch_add, oe_batch_finish, oe_batch_free, oe_processed_until,
 * oe_fmt1.
 * Threads: the test's main thread; oe_post/oe_post_signed/oe_sign may also
 * be called from helper threads the case joins (each call uses its own
 * curl handle).
 */
#ifndef PLUS7_OE_UTIL_H
#define PLUS7_OE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "texts.h"

#define OE_SECRET "oe-logistics-Secret_17-0123456789abcdef"
#define OE_WAIT_S 60.0        /* an asynchronous effect, generous for ASan on 2 cores */
#define OE_REPLY_S 30.0       /* one bot reply */

typedef struct oe_resp {
    long status;              /* HTTP status; 0 when no answer came */
    char *body;               /* NUL-terminated (may be empty), caller frees via oe_resp_free */
    cJSON *json;              /* parsed body or NULL */
} oe_resp_t;

/* e2e_init(name, polling) and the logistics secret in plus7d's
 * environment; plus7d itself is started by the first e2e_p7_ensure.
 * Returns 0 or -1 (reason printed). */
int oe_init(const char *name);

/* "sha256=<64 hex>" of body under key (out must hold 72 bytes). */
void oe_sign(const char *key, const char *body, size_t len, char *out);

/* POST body to plus7d's /api/logistics/events with the given
 * X-Plus7-Signature header value (NULL: no header). */
oe_resp_t oe_post(const char *signature, const char *body);
/* The same, signed with OE_SECRET. */
oe_resp_t oe_post_signed(const char *body);
void oe_resp_free(oe_resp_t *r);

/* RFC 3339 UTC ("2026-05-01T10:00:00Z") of Unix seconds t, in one of 16
 * rotating static buffers. */
const char *oe_rfc3339(int64_t t);

/* A growing {"events":[...]} body. */
typedef struct oe_batch {
    char *buf;
    size_t len, cap;
    int n;
} oe_batch_t;

void oe_batch_init(oe_batch_t *b);
/* Append one event; pickup and comment may be NULL (left out). */
void oe_batch_add(oe_batch_t *b, const char *id, const char *posting, const char *status, int64_t at_s,
                  const char *pickup, const char *comment);
/* Close the JSON; the body is b->buf. */
const char *oe_batch_finish(oe_batch_t *b);
void oe_batch_free(oe_batch_t *b);

/* Wait (up to timeout_s) until every logistics_inbox row whose event_id
 * starts with prefix is processed; true when so. */
bool oe_processed_until(double timeout_s, const char *prefix);

/* The catalogue text with one %s filled in (one of 4 rotating buffers). */
const char *oe_fmt1(text_id_t id, const char *arg);

#endif
