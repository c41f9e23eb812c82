/* es_control.c — the control API's shared routes and helpers.
 *
 * Routes:
 *   GET    /control/health            {"ok":true}
 *   GET    /control/state             settings and counts of every service
 *   POST   /control/reset             back to the start-up state
 *                                     (body {"seed_demo": bool} optional)
 *   GET    /control/requests          journal; ?path=&prefix=&service=
 *                                     &method=&since=&limit=
 *   DELETE /control/requests          clear the journal
 *   GET    /control/faults            fault/latency rules
 *   POST   /control/faults            add a rule (es_fault.h), or
 *                                     {"faults":[…]} to add several
 *   DELETE /control/faults            remove every rule
 *   /control/ozon/…  /control/sms/…  /control/bitrix/…   per service
 *
 * Exports: see es_control.h. Threads: civetweb workers.
 */
#include "es_control.h"

#include "bitrix24.h"
#include "es_fault.h"
#include "es_journal.h"
#include "es_json.h"
#include "es_state.h"
#include "ozon.h"
#include "ozon_store.h"
#include "smsru.h"
#include "yookassa.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

cJSON *es_control_body(es_req_t *req)
{
    if (req->body_len == 0) return cJSON_CreateObject();
    const char *end = NULL;
    cJSON *b = cJSON_ParseWithLengthOpts(req->body, req->body_len, &end, 0);
    if (!b) {
        es_control_error(req, 400, "body: invalid JSON near byte %ld",
                         end ? (long)(end - req->body) : 0L);
        return NULL;
    }
    return b;
}

void es_control_error(es_req_t *req, int status, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "error", msg);
    es_reply_json(req, status, o);
}

void es_control_ok(es_req_t *req, cJSON *obj)
{
    es_reply_json(req, 200, obj);
}

const char *es_control_query_str(const es_req_t *req, const char *name, char *out, size_t outlen)
{
    return es_query_get(req->query, name, out, outlen) >= 0 ? out : NULL;
}

long long es_control_query_int(const es_req_t *req, const char *name, long long dflt)
{
    char buf[32], *end;
    if (!es_control_query_str(req, name, buf, sizeof buf) || !buf[0]) return dflt;
    long long v = strtoll(buf, &end, 10);
    return *end ? dflt : v;
}

static void es_control_requests(es_req_t *req)
{
    if (!strcmp(req->method, "DELETE")) {
        es_lock();
        es_journal_clear();
        es_unlock();
        es_control_ok(req, cJSON_CreateObject());
        return;
    }
    char path[512], prefix[512], service[32], method[16];
    const char *p = es_control_query_str(req, "path", path, sizeof path);
    const char *pre = es_control_query_str(req, "prefix", prefix, sizeof prefix);
    const char *svc = es_control_query_str(req, "service", service, sizeof service);
    const char *m = es_control_query_str(req, "method", method, sizeof method);
    long long since = es_control_query_int(req, "since", 0);
    long long limit = es_control_query_int(req, "limit", 0);
    es_lock();
    cJSON *o = es_journal_query(p, pre, svc, m, since, (int)(limit > 0 ? limit : 0));
    es_unlock();
    es_control_ok(req, o);
}

static void es_control_faults(es_req_t *req)
{
    if (!strcmp(req->method, "GET")) {
        es_lock();
        cJSON *o = es_fault_list();
        es_unlock();
        es_control_ok(req, o);
        return;
    }
    if (!strcmp(req->method, "DELETE")) {
        es_lock();
        es_fault_clear();
        es_unlock();
        es_control_ok(req, cJSON_CreateObject());
        return;
    }
    cJSON *b = es_control_body(req);
    if (!b) return;
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(b, "faults");
    cJSON *ids = cJSON_CreateArray();
    char err[256] = "";
    int bad = 0;
    es_lock();
    const cJSON *single = cJSON_IsArray(list) ? NULL : b;
    for (const cJSON *f = single ? single : list->child; f; f = single ? NULL : f->next) {
        int id = es_fault_add(f, err, sizeof err);
        if (id < 0) { bad = 1; break; }
        cJSON_AddItemToArray(ids, cJSON_CreateNumber(id));
    }
    es_unlock();
    cJSON_Delete(b);
    if (bad) {
        cJSON_Delete(ids);
        es_control_error(req, 400, "%s", err);
        return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "ids", ids);
    es_control_ok(req, o);
}

static cJSON *es_control_state(void)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "listen", es_cfg.listen);
    cJSON_AddBoolToObject(o, "seed_demo", es_cfg.seed_demo);
    cJSON *oz = cJSON_CreateObject();
    cJSON_AddStringToObject(oz, "client_id", es_cfg.ozon_client_id);
    cJSON_AddNumberToObject(oz, "rps", es_cfg.ozon_rps);
    cJSON_AddBoolToObject(oz, "legacy_errors", ozon_opts.legacy_errors);
    cJSON_AddNumberToObject(oz, "postings", ozon_store_count());
    cJSON_AddItemToObject(o, "ozon", oz);
    cJSON *sm = cJSON_CreateObject();
    cJSON_AddStringToObject(sm, "api_id", es_cfg.sms_api_id);
    cJSON_AddItemToObject(o, "sms", sm);
    cJSON *bx = cJSON_CreateObject();
    char path[256];
    snprintf(path, sizeof path, "/rest/%s/%s/", es_cfg.bitrix_user_id, es_cfg.bitrix_code);
    cJSON_AddStringToObject(bx, "webhook_path", path);
    cJSON_AddNumberToObject(bx, "rate", es_cfg.bitrix_rate);
    cJSON_AddNumberToObject(bx, "burst", es_cfg.bitrix_burst);
    cJSON_AddItemToObject(o, "bitrix", bx);
    cJSON *fl = es_fault_list();
    cJSON_AddItemToObject(o, "faults", cJSON_DetachItemFromObject(fl, "faults"));
    cJSON_Delete(fl);
    return o;
}

/* Back to the start-up state; `seed_demo` -1 keeps the start-up choice. */
static void es_control_reset(int seed_demo)
{
    char listen[sizeof es_cfg.listen];
    snprintf(listen, sizeof listen, "%s", es_cfg.listen); /* keep the bound address */
    es_cfg = es_cfg_startup;
    snprintf(es_cfg.listen, sizeof es_cfg.listen, "%s", listen);
    if (seed_demo >= 0) es_cfg.seed_demo = seed_demo;
    es_journal_clear();
    es_fault_clear();
    smsru_reset();
    bitrix24_reset();
    yookassa_reset();
    ozon_reset();
    es_cfg.seed_demo = es_cfg_startup.seed_demo;
}

void es_control_handle(es_req_t *req)
{
    const char *sub = req->path + (strncmp(req->path, "/control/", 9) == 0 ? 9 : 8);
    int get = !strcmp(req->method, "GET"), post = !strcmp(req->method, "POST");
    if (!strncmp(sub, "ozon/", 5)) { ozon_control(req, sub + 5); return; }
    if (!strncmp(sub, "sms/", 4)) { smsru_control(req, sub + 4); return; }
    if (!strncmp(sub, "bitrix/", 7)) { bitrix24_control(req, sub + 7); return; }
    if (!strncmp(sub, "yookassa/", 9)) { yookassa_control(req, sub + 9); return; }
    if (!strcmp(sub, "health") && get) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddTrueToObject(o, "ok");
        cJSON_AddStringToObject(o, "service", "extsim");
        es_control_ok(req, o);
    } else if (!strcmp(sub, "state") && get) {
        es_lock();
        cJSON *o = es_control_state();
        es_unlock();
        es_control_ok(req, o);
    } else if (!strcmp(sub, "reset") && post) {
        cJSON *b = es_control_body(req);
        if (!b) return;
        const cJSON *sd = cJSON_GetObjectItemCaseSensitive(b, "seed_demo");
        int seed = sd ? es_json_bool(b, "seed_demo", 0) : -1;
        cJSON_Delete(b);
        es_lock();
        es_control_reset(seed);
        int n = ozon_store_count();
        es_unlock();
        ES_LOG_INFO("reset", "postings=%d", n);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddTrueToObject(o, "ok");
        cJSON_AddNumberToObject(o, "postings", n);
        es_control_ok(req, o);
    } else if (!strcmp(sub, "requests") && (get || !strcmp(req->method, "DELETE"))) {
        es_control_requests(req);
    } else if (!strcmp(sub, "faults")) {
        es_control_faults(req);
    } else {
        es_control_error(req, 404, "unknown control route %s %s", req->method, req->path);
    }
}
