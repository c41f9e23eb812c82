/* logistics_webhook.c — the company's logistics system reports status
 * events here.
 *
 * Purpose: POST /api/logistics/events with header
 *   X-Plus7-Signature: sha256=<hex HMAC-SHA256 of the raw body>
 * 401 on a bad or missing signature (checked in constant time, nothing
 * changes); 400 naming the field on bad input (the whole batch is
 * validated first, nothing changes); otherwise the batch is stored in
 * logistics_inbox in ONE statement (unnest of arrays; events idempotent by
 * id) before the 200, which lists per event "accepted" or "duplicate". The
 * order actors then apply the events (an unknown posting is created from
 * its event) and notify; a crash after the 200 replays from the inbox.
 *
 * Exports: logistics_webhook_register.
 * Threads: civetweb worker threads.
 */
#include "logistics_webhook.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <libpq-fe.h>
#include <sodium.h>

#include "logistics_event.h"
#include "msg_types.h"
#include "pg_array.h"
#include "plus7_actors.h"
#include "rt_log.h"
#include "web_db.h"
#include "web_server.h"

#define LOGI_MAX_BODY (4u << 20)

static rt_runtime_t *logi_rt;
static unsigned char *logi_key;
static size_t logi_key_len;

/* "sha256=<64 hex>" against HMAC-SHA256(body): constant time in the
 * digest (sodium_memcmp); a malformed header fails before any comparison. */
static bool logi_signature_ok(const char *hdr, const char *body, size_t len)
{
    unsigned char mac[crypto_auth_hmacsha256_BYTES], got[crypto_auth_hmacsha256_BYTES];
    if (!hdr || strncmp(hdr, "sha256=", 7) != 0 || strlen(hdr + 7) != 2 * sizeof got) return false;
    size_t bin_len = 0;
    if (sodium_hex2bin(got, sizeof got, hdr + 7, 2 * sizeof got, NULL, &bin_len, NULL) != 0 || bin_len != sizeof got)
        return false;
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, logi_key, logi_key_len);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, len);
    crypto_auth_hmacsha256_final(&st, mac);
    return sodium_memcmp(mac, got, sizeof mac) == 0;
}

/* Store the batch; fill `inserted` (event ids newly stored). */
static int logi_store(const logi_batch_t *b, cJSON *inserted)
{
    pg_array_t ids, postings, statuses, ats, pickups, comments, rphones, rnames;
    pg_array_init(&rphones);
    pg_array_init(&rnames);
    pg_array_init(&ids);
    pg_array_init(&postings);
    pg_array_init(&statuses);
    pg_array_init(&ats);
    pg_array_init(&pickups);
    pg_array_init(&comments);
    for (int i = 0; i < b->n; i++) {
        const logi_event_t *e = &b->events[i];
        char at[24];
        snprintf(at, sizeof at, "%lld", (long long)e->at_ms);
        pg_array_add(&ids, e->id);
        pg_array_add(&postings, e->posting);
        pg_array_add(&statuses, order_status_code(e->status));
        pg_array_add(&ats, at);
        pg_array_add(&pickups, e->pickup_point);
        pg_array_add(&comments, e->comment);
        pg_array_add(&rphones, e->recipient_phone[0] ? e->recipient_phone : NULL);
        pg_array_add(&rnames, e->recipient_name);
    }
    char *p[8] = {pg_array_finish(&ids), pg_array_finish(&postings), pg_array_finish(&statuses),
                  pg_array_finish(&ats), pg_array_finish(&pickups), pg_array_finish(&comments),
                  pg_array_finish(&rphones), pg_array_finish(&rnames)};
    int rc = RT_ENOMEM;
    if (p[0] && p[1] && p[2] && p[3] && p[4] && p[5] && p[6] && p[7]) {
        PGconn *db = web_db_acquire(2000);
        rc = RT_EIO;
        if (db) {
            PGresult *r = PQexecParams(db,
                "INSERT INTO logistics_inbox (event_id, posting_number, status, at, pickup_point, comment,"
                "                             recipient_phone, recipient_name)"
                " SELECT e.id, e.posting, e.status, to_timestamp(e.at::bigint / 1000.0), e.pickup, e.comment,"
                "        e.rphone, e.rname"
                "   FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],"
                "               $7::text[], $8::text[]) AS e(id, posting, status, at, pickup, comment, rphone, rname)"
                " ON CONFLICT (event_id) DO NOTHING RETURNING event_id",
                8, NULL, (const char *const *)p, NULL, NULL, 0);
            if (PQresultStatus(r) == PGRES_TUPLES_OK) {
                rc = RT_OK;
                for (int i = 0; i < PQntuples(r); i++)
                    cJSON_AddItemToArray(inserted, cJSON_CreateString(PQgetvalue(r, i, 0)));
            } else {
                LOG_WARN("logistics_store_failed", "error=\"%s\"", PQresultErrorMessage(r));
            }
            PQclear(r);
            web_db_release(db, rc != RT_OK && PQstatus(db) != CONNECTION_OK);
        }
    }
    for (int i = 0; i < 8; i++) free(p[i]);
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
    char *body = NULL;
    size_t len = 0;
    int rc = web_read_body(req, LOGI_MAX_BODY, &body, &len);
    if (rc == RT_EFULL) return web_reply_error(req, 413, "body too large", "body");
    if (rc != RT_OK) return web_reply_error(req, 400, "could not read the body", "body");
    if (!logi_signature_ok(web_req_header(req, "X-Plus7-Signature"), body, len)) {
        free(body);
        return web_reply_error(req, 401, "bad or missing signature", "X-Plus7-Signature");
    }
    logi_batch_t b;
    logi_error_t err;
    rc = logi_parse(body, len, &b, &err);
    free(body);
    if (rc != RT_OK) return web_reply_error(req, 400, err.reason[0] ? err.reason : "invalid", err.field);

    cJSON *inserted = cJSON_CreateArray();
    rc = logi_store(&b, inserted);
    if (rc != RT_OK) {
        cJSON_Delete(inserted);
        logi_batch_free(&b);
        return web_reply_error(req, 503, "database unavailable", NULL);
    }
    cJSON *out = cJSON_CreateObject(), *results = cJSON_AddArrayToObject(out, "results");
    int accepted = 0;
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
            rt_send_key(logi_rt, &order_kind, e->posting, msg_order_poke_new(&v));
        }
    }
    cJSON_AddNumberToObject(out, "accepted", accepted);
    cJSON_AddNumberToObject(out, "duplicates", b.n - accepted);
    char *json = cJSON_PrintUnformatted(out);
    cJSON_Delete(out);
    cJSON_Delete(inserted);
    logi_batch_free(&b);
    if (!json) return RT_ENOMEM;
    rc = web_reply_json(req, 200, json);
    free(json);
    return rc;
}

int logistics_webhook_register(rt_runtime_t *rt, const char *secret)
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
