/* ozon.c — the HTTP front of the emulated Ozon Seller API: routing, POST
 * only, Client-Id/Api-Key authentication, the per-Client-Id rate limit, the
 * error envelopes, and reset/free of the Ozon state.
 *
 * Exports: see ozon.h. Threads: civetweb workers (handlers), main (free).
 */
#include "ozon.h"

#include "es_json.h"
#include "es_limit.h"
#include "es_state.h"
#include "ozon_api.h"
#include "ozon_store.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static es_limits_t *ozon_limits;

typedef struct ozon_route {
    const char *path;
    ozon_method_fn fn;
} ozon_route_t;

static const ozon_route_t ozon_routes[] = {
    {"/v3/posting/fbs/get", ozon_m_get},
    {"/v3/posting/fbs/list", ozon_m_list_v3},
    {"/v4/posting/fbs/list", ozon_m_list_v4},
    {"/v2/fbs/posting/delivering", ozon_m_delivering},
    {"/v2/fbs/posting/last-mile", ozon_m_last_mile},
    {"/v2/fbs/posting/delivered", ozon_m_delivered},
    {"/v2/fbs/posting/tracking-number/set", ozon_m_tracking_set},
    {"/v1/returns/list", ozon_m_returns_list},
    {"/v2/returns/rfbs/list", ozon_m_rfbs_list},
    {"/v2/returns/rfbs/get", ozon_m_rfbs_get},
    {"/v1/returns/rfbs/action/set", ozon_m_rfbs_action_set},
};

static int ozon_owns(const char *path)
{
    return path[0] == '/' && path[1] == 'v' && path[2] >= '1' && path[2] <= '4' && path[3] == '/';
}

static int ozon_http_for(int code)
{
    switch (code) {
    case 3: return 400;
    case 5: return 404;
    case 7: return 403;
    case 8: return 429;
    case 12: return 405;
    case 14: return 503;
    case 16: return 401;
    default: return 500;
    }
}

int ozon_fail(ozon_err_t *e, int code, const char *fmt, ...)
{
    e->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
    return ozon_http_for(code);
}

/* The legacy envelope's code names; only NOT_FOUND_ERROR is documented. */
static const char *ozon_legacy_code(int code)
{
    switch (code) {
    case 3: return "BAD_REQUEST";
    case 5: return "NOT_FOUND_ERROR";
    case 7: return "PERMISSION_DENIED";
    case 8: return "TOO_MANY_REQUESTS";
    case 12: return "METHOD_NOT_ALLOWED";
    case 16: return "UNAUTHENTICATED";
    default: return "INTERNAL_ERROR";
    }
}

static cJSON *ozon_error_doc(int legacy, int code, const char *message)
{
    cJSON *o = cJSON_CreateObject();
    if (legacy) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "code", ozon_legacy_code(code));
        cJSON_AddStringToObject(e, "message", message);
        cJSON_AddItemToObject(e, "data", cJSON_CreateArray());
        cJSON_AddItemToObject(o, "error", e);
    } else {
        cJSON_AddNumberToObject(o, "code", code);
        cJSON_AddStringToObject(o, "message", message);
        cJSON_AddItemToObject(o, "details", cJSON_CreateArray());
    }
    return o;
}

static void ozon_error_legacy(es_req_t *req, int legacy, int http, int code, const char *message)
{
    es_reply_json(req, http, ozon_error_doc(legacy, code, message));
}

void ozon_error(es_req_t *req, int http, int code, const char *message)
{
    es_lock();
    int legacy = ozon_opts.legacy_errors;
    es_unlock();
    ozon_error_legacy(req, legacy, http, code, message);
}

static char *ozon_fault_body(int status, const char **ctype)
{
    int code;
    const char *msg;
    switch (status) {
    case 400: code = 3; msg = "Invalid request"; break;
    case 401: code = 16; msg = "Client-Id and Api-Key headers are required"; break;
    case 403: code = 7; msg = "Invalid Api-Key, please contact support"; break;
    case 404: code = 5; msg = "POSTING_NOT_FOUND"; break;
    case 429: code = 8; msg = "You have reached request rate limit per second"; break;
    case 502: case 503: case 504: code = 14; msg = "Service unavailable"; break;
    default: code = 13; msg = "Internal error"; break;
    }
    es_lock();
    int legacy = ozon_opts.legacy_errors;
    es_unlock();
    *ctype = "application/json; charset=utf-8";
    return es_json_print_owned(ozon_error_doc(legacy, code, msg));
}

static void ozon_handle(es_req_t *req)
{
    const ozon_route_t *route = NULL;
    for (size_t i = 0; i < sizeof ozon_routes / sizeof ozon_routes[0]; i++)
        if (strcmp(req->path, ozon_routes[i].path) == 0) { route = &ozon_routes[i]; break; }
    if (!route) {
        ozon_error(req, 404, 5, "Not Found");
        return;
    }
    if (strcmp(req->method, "POST") != 0) {
        ozon_error(req, 405, 12, "Method Not Allowed");
        return;
    }
    const char *client = es_header(req, "Client-Id");
    const char *key = es_header(req, "Api-Key");
    if (!client || !client[0] || !key || !key[0]) {
        ozon_error(req, 401, 16, "Client-Id and Api-Key headers are required");
        return;
    }
    cJSON *body = NULL;
    if (req->body_len > 0) {
        body = cJSON_ParseWithLength(req->body, req->body_len);
        if (!cJSON_IsObject(body)) {
            cJSON_Delete(body);
            body = NULL;
        }
    }

    cJSON *out = NULL;
    ozon_err_t err = {0, ""};
    int http;
    es_lock();
    int legacy = ozon_opts.legacy_errors;
    if (strcmp(client, es_cfg.ozon_client_id) != 0 || strcmp(key, es_cfg.ozon_api_key) != 0)
        http = ozon_fail(&err, 7, "Invalid Api-Key, please contact support");
    else if (!es_window_allow(&ozon_limits, client, es_cfg.ozon_rps, es_mono_ms()))
        http = ozon_fail(&err, 8, "You have reached request rate limit per second");
    else if (req->body_len > 0 && !body)
        http = ozon_fail(&err, 3, "Invalid request payload: the body must be a JSON object");
    else {
        cJSON *empty = body ? NULL : cJSON_CreateObject();
        http = route->fn(body ? body : empty, &out, &err);
        cJSON_Delete(empty);
    }
    es_unlock();
    cJSON_Delete(body);

    if (http == 200) es_reply_json(req, 200, out);
    else {
        cJSON_Delete(out);
        ozon_error_legacy(req, legacy, http, err.code, err.message);
    }
}

const es_service_t ozon_service = {
    .name = "ozon",
    .owns = ozon_owns,
    .handle = ozon_handle,
    .fault_body = ozon_fault_body,
};

void ozon_reset(void)
{
    ozon_store_clear();
    ozon_returns_clear();
    es_limits_free(&ozon_limits);
    ozon_opts_reset();
    if (es_cfg.seed_demo) ozon_demo_seed();
}

void ozon_free(void)
{
    ozon_store_clear();
    ozon_returns_clear();
    es_limits_free(&ozon_limits);
}
