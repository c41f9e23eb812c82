/* web_logistics.c — the company's logistics system reports status
 * events here.
 *
 * Purpose: POST /api/logistics/events with header
 *   X-Plus7-Signature: sha256=<hex HMAC-SHA256 of the raw body>
 * 401 on a missing or malformed signature header BEFORE the body is read
 * (the connection is closed, the body never drained), and on a wrong
 * signature (checked in constant time over the body); nothing changes.
 * 400 naming the field on bad input (the whole batch is validated first,
 * nothing changes); otherwise the batch is stored in logistics_inbox in
 * ONE statement (web_db_rows: unnest of arrays; events idempotent by id)
 * before the 200, which lists per event "accepted" or "duplicate". The
 * order actors are then poked (rt_send_key_bounded: a full mailbox answers
 * 503, and the sender's retry is a duplicate that pokes again), apply the
 * events (an unknown posting is created from its event) and notify; a
 * crash after the 200 replays from the inbox.
 *
 * Exports: web_logistics_register.
 * Threads: civetweb worker threads.
 */
#include "web_logistics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <libpq-fe.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>

#include "logistics_event.h"
#include "msg_types.h"
#include "plus7_actors.h"
#include "web_db_rows.h"
#include "web_server.h"

/* LOGI_MAX_EVENTS events of at most ~1.3 KiB of fields each (comment 1000
 * characters, pickup point 200, id, posting, status, time), JSON included. */
#define LOGI_MAX_BODY (2u << 20)
#define LOGI_SIG_PREFIX "sha256="
#define LOGI_SIG_HEX (2 * crypto_auth_hmacsha256_BYTES)

static rt_runtime_t *logi_rt;
static unsigned char *logi_key;
static size_t logi_key_len;

/* The header's digest: "sha256=<64 hex>" -> got. false when missing or
 * malformed (decided before the body is read). */
static bool logi_signature_parse(const char *hdr, unsigned char got[crypto_auth_hmacsha256_BYTES])
{
    size_t bin_len = 0;
    return hdr && strncmp(hdr, LOGI_SIG_PREFIX, strlen(LOGI_SIG_PREFIX)) == 0 &&
           strlen(hdr + strlen(LOGI_SIG_PREFIX)) == LOGI_SIG_HEX &&
           sodium_hex2bin(got, crypto_auth_hmacsha256_BYTES, hdr + strlen(LOGI_SIG_PREFIX),
                          LOGI_SIG_HEX, NULL, &bin_len, NULL) == 0 &&
           bin_len == crypto_auth_hmacsha256_BYTES;
}

/* HMAC-SHA256(body) against the parsed digest, in constant time. */
static bool logi_signature_ok(const unsigned char got[crypto_auth_hmacsha256_BYTES],
                              const char *body, size_t len)
{
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, logi_key, logi_key_len);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, len);
    crypto_auth_hmacsha256_final(&st, mac);
    return sodium_memcmp(mac, got, sizeof mac) == 0;
}

/* Store the batch by `deadline`; fill `inserted` (event ids newly stored). */
static int logi_store(const logi_batch_t *b, uint64_t deadline, cJSON *inserted)
{
    web_db_rows_t rows;
    web_db_rows_init(&rows, 8);
    for (int i = 0; i < b->n; i++) {
        const logi_event_t *e = &b->events[i];
        char at[24];
        snprintf(at, sizeof at, "%lld", (long long)e->at_ms);
        web_db_rows_add(&rows, (const char *[]){e->id, e->posting, order_status_code(e->status), at,
                                                e->pickup_point, e->comment,
                                                e->recipient_phone[0] ? e->recipient_phone : NULL,
                                                e->recipient_name});
    }
    PGresult *r = NULL;
    int rc = web_db_rows_exec(&rows,
        "INSERT INTO logistics_inbox (event_id, posting_number, status, at, pickup_point, comment,"
        "                             recipient_phone, recipient_name)"
        " SELECT e.id, e.posting, e.status, to_timestamp(e.at::bigint / 1000.0), e.pickup, e.comment,"
        "        e.rphone, e.rname"
        "   FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],"
        "               $7::text[], $8::text[]) AS e(id, posting, status, at, pickup, comment, rphone, rname)"
        " ON CONFLICT (event_id) DO NOTHING RETURNING event_id",
        deadline, "logistics_store_failed", &r);
    for (int i = 0; rc == RT_OK && i < PQntuples(r); i++)
        cJSON_AddItemToArray(inserted, cJSON_CreateString(PQgetvalue(r, i, 0)));
    PQclear(r);
    return rc;
}

static bool logi_in(const cJSON *arr, const char *id)
{
    const cJSON *v;
    cJSON_ArrayForEach(v, arr) if (strcmp(v->valuestring, id) == 0) return true;
    return false;
}

static int logi_handle(web_req_t *req)
{
    unsigned char sig[crypto_auth_hmacsha256_BYTES];
    if (!logi_signature_parse(web_req_header(req, "X-Plus7-Signature"), sig)) {
        web_req_close(req);   /* not worth reading: refuse before the body */
        return web_reply_error(req, 401, "bad or missing signature", "X-Plus7-Signature");
    }
    char *body = NULL;
    size_t len = 0;
    if (!web_read_body_or_reply(req, LOGI_MAX_BODY, &body, &len)) return RT_OK;
    if (!logi_signature_ok(sig, body, len)) {
        free(body);
        return web_reply_error(req, 401, "bad or missing signature", "X-Plus7-Signature");
    }
    logi_batch_t b;
    logi_error_t err;
    int rc = logi_parse(body, len, &b, &err);
    free(body);
    if (rc != RT_OK) return web_reply_error(req, 400, err.reason[0] ? err.reason : "invalid", err.field);

    cJSON *inserted = cJSON_CreateArray();
    rc = logi_store(&b, req->deadline_ms, inserted);
    if (rc != RT_OK) {
        cJSON_Delete(inserted);
        logi_batch_free(&b);
        return web_reply_error(req, 503, "database unavailable", NULL);
    }
    cJSON *out = cJSON_CreateObject(), *results = cJSON_AddArrayToObject(out, "results");
    int accepted = 0, full = 0;
    for (int i = 0; i < b.n; i++) {
        const logi_event_t *e = &b.events[i];
        bool fresh = logi_in(inserted, e->id);
        /* an id repeated inside one batch is stored once: later copies are duplicates */
        for (int k = 0; fresh && k < i; k++) fresh = strcmp(b.events[k].id, e->id) != 0;
        cJSON *r = cJSON_CreateObject();
        cJSON_AddStringToObject(r, "id", e->id);
        cJSON_AddStringToObject(r, "posting_number", e->posting);
        cJSON_AddStringToObject(r, "result", fresh ? "accepted" : "duplicate");
        cJSON_AddItemToArray(results, r);
        accepted += fresh;
        /* Poke for duplicates too: a sender retrying after a lost answer
         * must not leave stored events waiting. */
        bool poked = false;
        for (int k = 0; k < i && !poked; k++) poked = strcmp(b.events[k].posting, e->posting) == 0;
        if (!poked) {
            msg_order_poke_t v = {0};
            full += rt_send_key_bounded(logi_rt, &order_kind, e->posting, msg_order_poke_new(&v)) == RT_EFULL;
        }
    }
    cJSON_AddNumberToObject(out, "accepted", accepted);
    cJSON_AddNumberToObject(out, "duplicates", b.n - accepted);
    char *json = cJSON_PrintUnformatted(out);
    cJSON_Delete(out);
    cJSON_Delete(inserted);
    logi_batch_free(&b);
    if (full) {   /* stored, but an order could not take its poke: the retry pokes again */
        free(json);
        return web_reply_error(req, 503, "busy, try again later", NULL);
    }
    if (!json) return RT_ENOMEM;
    rc = web_reply_json(req, 200, json);
    free(json);
    return rc;
}

int web_logistics_register(rt_runtime_t *rt, const char *secret)
{
    if (!secret || !*secret) return RT_EINVAL;
    if (sodium_init() < 0) return RT_EIO;
    logi_rt = rt;
    logi_key_len = strlen(secret);
    logi_key = malloc(logi_key_len);
    if (!logi_key) return RT_ENOMEM;
    memcpy(logi_key, secret, logi_key_len);
    return web_route_add("POST", "/api/logistics/events", logi_handle);
}
