/* web_tg_webhook.c — POST /telegram/webhook: store, then acknowledge.
 *
 * Purpose: Telegram delivers updates here in webhook mode. The secret
 * header is checked in constant time (403, nothing stored, otherwise — the
 * contract in docs/operations.md); the body must be an Update (400 naming "body"
 * otherwise, so a broken sender sees why); the update is INSERTed into
 * tg_inbox (ON CONFLICT DO NOTHING: Telegram's re-deliveries are ignored)
 * BEFORE the 200 — concurrent requests share one statement and one commit
 * (web_tg_intake_batch.c) — and the chat's conversation actor is poked
 * with rt_send_key_bounded. If the database is down or slower than the
 * request's deadline the answer is 503 and Telegram retries later: nothing
 * is acknowledged that is not stored. A poke refused because the chat's
 * mailbox is over its high-water mark is answered 503 too (the update is
 * stored; Telegram's retry is a duplicate that pokes again); a poke that
 * cannot be delivered because the runtime is stopping is harmless: the
 * update is replayed at the next start.
 *
 * Exports: web_tg_webhook_register.
 * Threads: civetweb worker threads (blocking on the pool is allowed there).
 */
#include "web_tg_webhook.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "msg_types.h"
#include "plus7_actors.h"
#include "web_tg_intake_batch.h"
#include "tg_update.h"
#include "web_server.h"

/* An Update is a few KiB (a 4096-character message with its entities, a
 * reply and a quote stays under 64 KiB); 256 KiB leaves room to spare. */
#define TG_WEBHOOK_MAX_BODY (256u << 10)

static rt_runtime_t *tg_webhook_rt;
static unsigned char tg_webhook_secret_hash[crypto_hash_sha256_BYTES];

/* Constant-time check: compare SHA-256 digests, so neither the content nor
 * the length of the expected secret leaks through timing. */
static bool tg_webhook_secret_ok(const char *got)
{
    unsigned char h[crypto_hash_sha256_BYTES];
    if (!got) return false;
    crypto_hash_sha256(h, (const unsigned char *)got, strlen(got));
    return sodium_memcmp(h, tg_webhook_secret_hash, sizeof h) == 0;
}

/* Hand the stored update to its chat's conversation. RT_EFULL when the
 * chat's mailbox is over the high-water mark; any other refusal (the
 * runtime is stopping) is RT_OK: the update is replayed at the next start. */
static int tg_webhook_poke(int64_t chat_id, int64_t update_id)
{
    char key[24];
    snprintf(key, sizeof key, "%lld", (long long)chat_id);
    msg_conv_poke_t p = {.update_id = update_id};
    int rc = rt_send_key_bounded(tg_webhook_rt, &conv_kind, key, msg_conv_poke_new(&p));
    return rc == RT_EFULL ? RT_EFULL : RT_OK;
}

static int tg_webhook_handle(web_req_t *req)
{
    if (!tg_webhook_secret_ok(web_req_header(req, "X-Telegram-Bot-Api-Secret-Token")))
        return web_reply_error(req, 403, "wrong secret token", "X-Telegram-Bot-Api-Secret-Token");
    char *body = NULL;
    size_t len = 0;
    if (!web_read_body_or_reply(req, TG_WEBHOOK_MAX_BODY, &body, &len)) return RT_OK;
    tg_update_t u;
    if (tg_update_parse(body, len, &u) != RT_OK) {
        free(body);
        return web_reply_error(req, 400, "not a Telegram Update (JSON object with integer update_id)", "body");
    }
    int rc = web_tg_intake_batch_store(u.update_id, u.chat_id, body, req->deadline_ms);
    free(body);
    if (rc == RT_OK && u.chat_id) rc = tg_webhook_poke(u.chat_id, u.update_id);
    tg_update_free(&u);
    if (rc == RT_EFULL) return web_reply_error(req, 503, "busy, try again later", NULL);
    if (rc != RT_OK) return web_reply_error(req, 503, "database unavailable", NULL);
    return web_reply_json(req, 200, "{\"ok\":true}");
}

int web_tg_webhook_register(rt_runtime_t *rt, const char *secret)
{
    if (!secret || !*secret) return RT_EINVAL;
    if (sodium_init() < 0) return RT_EIO;
    tg_webhook_rt = rt;
    crypto_hash_sha256(tg_webhook_secret_hash, (const unsigned char *)secret, strlen(secret));
    return web_route_add("POST", "/telegram/webhook", tg_webhook_handle);
}
