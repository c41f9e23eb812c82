/* ozon_control.c — /control/ozon/…: seed and inspect postings and returns,
 * move a posting's status as Ozon would, flip the Ozon switches.
 *
 * Routes (sub = the path after /control/ozon/):
 *   POST   postings             seed one posting, an array, or {"postings":[…]}
 *   GET    postings[?status=]   every posting with extsim's internal fields
 *   GET    postings/<n>         one posting
 *   DELETE postings/<n>         forget one posting
 *   POST   postings/<n>/status  {"status", "substatus"?, "at"?}
 *   GET|POST config             {"client_id","api_key","rps","legacy_errors",
 *                                "error_form","delivered_mode"}
 *   GET|POST returns            list / seed returns
 *   POST   demo                 seed the demo data
 *
 * Exports: ozon_control (ozon.h). Threads: civetweb workers.
 */
#include "es_control.h"
#include "es_json.h"
#include "es_state.h"
#include "ozon.h"
#include "ozon_api.h"
#include "ozon_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void ozon_control_seed(es_req_t *req)
{
    cJSON *body = es_control_body(req);
    if (!body) return;
    const cJSON *list = body;
    if (cJSON_IsObject(body) && cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(body, "postings")))
        list = cJSON_GetObjectItemCaseSensitive(body, "postings");
    cJSON *numbers = cJSON_CreateArray();
    char err[256] = "";
    int idx = 0, bad = -1;
    es_lock();
    if (cJSON_IsArray(list)) {
        const cJSON *it;
        cJSON_ArrayForEach(it, list) {
            ozon_posting_t *p;
            if (ozon_store_upsert(it, err, sizeof err, &p)) { bad = idx; break; }
            cJSON_AddItemToArray(numbers, cJSON_CreateString(p->number));
            idx++;
        }
    } else {
        ozon_posting_t *p;
        if (ozon_store_upsert(list, err, sizeof err, &p)) bad = 0;
        else cJSON_AddItemToArray(numbers, cJSON_CreateString(p->number));
    }
    es_unlock();
    cJSON_Delete(body);
    if (bad >= 0) {
        cJSON_Delete(numbers);
        es_control_error(req, 400, "postings[%d].%s", bad, err);
        return;
    }
    cJSON *out = cJSON_CreateObject();
    cJSON_AddNumberToObject(out, "seeded", cJSON_GetArraySize(numbers));
    cJSON_AddItemToObject(out, "posting_numbers", numbers);
    es_control_ok(req, out);
}

static void ozon_control_list(es_req_t *req)
{
    char status[64];
    const char *want = es_control_query_str(req, "status", status, sizeof status);
    cJSON *arr = cJSON_CreateArray();
    es_lock();
    for (int i = 0; i < ozon_store_count(); i++) {
        ozon_posting_t *p = ozon_store_at(i);
        const char *s = es_json_str(p->doc, "status");
        if (want && (!s || strcmp(s, want) != 0)) continue;
        cJSON_AddItemToArray(arr, ozon_render_control(p));
    }
    es_unlock();
    cJSON *out = cJSON_CreateObject();
    cJSON_AddNumberToObject(out, "count", cJSON_GetArraySize(arr));
    cJSON_AddItemToObject(out, "postings", arr);
    es_control_ok(req, out);
}

static void ozon_control_status(es_req_t *req, const char *number)
{
    cJSON *body = es_control_body(req);
    if (!body) return;
    const char *status = es_json_str(body, "status");
    const char *sub = es_json_str(body, "substatus");
    const char *at = es_json_str(body, "at");
    int64_t at_ms = es_now_ms();
    if (at && es_parse_iso(at, &at_ms)) {
        cJSON_Delete(body);
        es_control_error(req, 400, "at: an RFC 3339 date is required");
        return;
    }
    char err[256];
    cJSON *out = NULL;
    int code = 0;
    es_lock();
    ozon_posting_t *p = ozon_store_find(number);
    if (!p) code = 404, snprintf(err, sizeof err, "posting %s: not found", number);
    else if (!status) code = 400, snprintf(err, sizeof err, "status: required");
    else if (ozon_store_set_status(p, status, sub, at_ms, err, sizeof err)) code = 400;
    else out = ozon_render_control(p);
    es_unlock();
    if (!code) ES_LOG_INFO("ozon_status_moved", "posting=%s status=%s by=control", number, status);
    cJSON_Delete(body);
    if (code) es_control_error(req, code, "%s", err);
    else es_control_ok(req, out);
}

static cJSON *ozon_config_json(void)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "client_id", es_cfg.ozon_client_id);
    cJSON_AddStringToObject(o, "api_key", es_cfg.ozon_api_key);
    cJSON_AddNumberToObject(o, "rps", es_cfg.ozon_rps);
    cJSON_AddBoolToObject(o, "legacy_errors", ozon_opts.legacy_errors);
    cJSON_AddStringToObject(o, "error_form", ozon_opts.error_as_array ? "array" : "string");
    cJSON_AddStringToObject(o, "delivered_mode",
                            ozon_opts.delivered_conditionally ? "conditionally_delivered" : "delivered");
    return o;
}

static void ozon_control_config(es_req_t *req)
{
    if (strcmp(req->method, "GET") == 0) {
        es_lock();
        cJSON *o = ozon_config_json();
        es_unlock();
        es_control_ok(req, o);
        return;
    }
    cJSON *b = es_control_body(req);
    if (!b) return;
    const char *cid = es_json_str(b, "client_id"), *key = es_json_str(b, "api_key");
    const char *form = es_json_str(b, "error_form"), *mode = es_json_str(b, "delivered_mode");
    long long rps = -1;
    const char *bad = NULL;
    if (cJSON_GetObjectItemCaseSensitive(b, "rps") && (es_json_int(b, "rps", &rps) || rps < 0))
        bad = "rps: a non-negative integer (0 = no limit)";
    else if (form && strcmp(form, "string") && strcmp(form, "array"))
        bad = "error_form: \"string\" or \"array\"";
    else if (mode && strcmp(mode, "delivered") && strcmp(mode, "conditionally_delivered"))
        bad = "delivered_mode: \"delivered\" or \"conditionally_delivered\"";
    else if ((cid && (!cid[0] || strlen(cid) >= sizeof es_cfg.ozon_client_id)) ||
             (key && (!key[0] || strlen(key) >= sizeof es_cfg.ozon_api_key)))
        bad = "client_id / api_key: non-empty strings";
    if (bad) {
        cJSON_Delete(b);
        es_control_error(req, 400, "%s", bad);
        return;
    }
    es_lock();
    if (cid) snprintf(es_cfg.ozon_client_id, sizeof es_cfg.ozon_client_id, "%s", cid);
    if (key) snprintf(es_cfg.ozon_api_key, sizeof es_cfg.ozon_api_key, "%s", key);
    if (rps >= 0) es_cfg.ozon_rps = (int)rps;
    if (cJSON_GetObjectItemCaseSensitive(b, "legacy_errors"))
        ozon_opts.legacy_errors = es_json_bool(b, "legacy_errors", 0);
    if (form) ozon_opts.error_as_array = !strcmp(form, "array");
    if (mode) ozon_opts.delivered_conditionally = !strcmp(mode, "conditionally_delivered");
    cJSON *o = ozon_config_json();
    es_unlock();
    cJSON_Delete(b);
    es_control_ok(req, o);
}

static void ozon_control_returns(es_req_t *req)
{
    if (strcmp(req->method, "GET") == 0) {
        es_lock();
        cJSON *o = ozon_returns_dump();
        es_unlock();
        es_control_ok(req, o);
        return;
    }
    cJSON *b = es_control_body(req);
    if (!b) return;
    const cJSON *list = cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(b, "returns"))
                            ? cJSON_GetObjectItemCaseSensitive(b, "returns") : b;
    cJSON *ids = cJSON_CreateArray();
    char err[256];
    int bad = -1, idx = 0;
    es_lock();
    if (cJSON_IsArray(list)) {
        const cJSON *it;
        cJSON_ArrayForEach(it, list) {
            long long id = ozon_returns_seed(it, err, sizeof err);
            if (id < 0) { bad = idx; break; }
            cJSON_AddItemToArray(ids, cJSON_CreateNumber((double)id));
            idx++;
        }
    } else {
        long long id = ozon_returns_seed(list, err, sizeof err);
        if (id < 0) bad = 0;
        else cJSON_AddItemToArray(ids, cJSON_CreateNumber((double)id));
    }
    es_unlock();
    cJSON_Delete(b);
    if (bad >= 0) {
        cJSON_Delete(ids);
        es_control_error(req, 400, "returns[%d].%s", bad, err);
        return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "return_ids", ids);
    es_control_ok(req, o);
}

void ozon_control(es_req_t *req, const char *sub)
{
    int get = !strcmp(req->method, "GET"), post = !strcmp(req->method, "POST");
    if (!strcmp(sub, "postings")) {
        if (post) ozon_control_seed(req);
        else if (get) ozon_control_list(req);
        else es_control_error(req, 405, "use GET or POST");
        return;
    }
    if (!strncmp(sub, "postings/", 9)) {
        char number[64];
        const char *rest = sub + 9, *slash = strchr(rest, '/');
        size_t len = slash ? (size_t)(slash - rest) : strlen(rest);
        if (len == 0 || len >= sizeof number) {
            es_control_error(req, 404, "posting number expected after /control/ozon/postings/");
            return;
        }
        memcpy(number, rest, len);
        number[len] = '\0';
        if (slash && !strcmp(slash, "/status") && post) {
            ozon_control_status(req, number);
            return;
        }
        if (slash) {
            es_control_error(req, 404, "unknown control route");
            return;
        }
        if (get) {
            es_lock();
            ozon_posting_t *p = ozon_store_find(number);
            cJSON *o = p ? ozon_render_control(p) : NULL;
            es_unlock();
            if (o) es_control_ok(req, o);
            else es_control_error(req, 404, "posting %s: not found", number);
        } else if (!strcmp(req->method, "DELETE")) {
            es_lock();
            int rc = ozon_store_remove(number);
            es_unlock();
            if (rc) es_control_error(req, 404, "posting %s: not found", number);
            else es_control_ok(req, cJSON_CreateObject());
        } else es_control_error(req, 405, "use GET or DELETE");
        return;
    }
    if (!strcmp(sub, "config") && (get || post)) { ozon_control_config(req); return; }
    if (!strcmp(sub, "returns") && (get || post)) { ozon_control_returns(req); return; }
    if (!strcmp(sub, "demo") && post) {
        es_lock();
        int n = ozon_demo_seed();
        es_unlock();
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "seeded", n);
        es_control_ok(req, o);
        return;
    }
    es_control_error(req, 404, "unknown control route /control/ozon/%s", sub);
}
