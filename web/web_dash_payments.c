/* web_dash_payments.c — «Оплаты» in the dashboard: attempts and payments,
 * daily totals, an operator's bank-QR confirmation and refunds.
 *
 * Purpose: the API behind web/static/pages/payments.js:
 *   GET  /api/payments?from&to&zone   the period's attempts (newest first, at most
 *                                     500) and the paid totals per Moscow day
 *   POST /api/payments/confirm        {"posting"}: the order's open bank-QR attempt
 *                                     is confirmed received (PAY_SQL_PAID_BANK)
 *   POST /api/payments/refund         {"posting","amount_kop"?}: a full or partial
 *                                     refund (PAY_SQL_REFUND: never more than is
 *                                     left, refunds still open counted)
 * The payments module's sweeper picks both up within its period and the
 * payment actor settles them (docs/payments.md): the page only records the
 * operator's decision, audited, in one statement. Reading: every staff role;
 * confirming and refunding: operators and admins (CSRF-checked).
 *
 * Exports: web_dash_payments_register.
 * Threads: registration on the main thread; handlers on civetweb threads.
 */
#include "web_dash.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <civetweb.h>

#include "pay.h"
#include "posting.h"
#include "rt.h"
#include "rt_log.h"
#include "texts.h"
#include "web_dash_params.h"

static int pd_list(web_req_t *req)
{
    web_dash_query_t q;
    const char *field = NULL;
    text_id_t err;
    if (web_dash_query_parse(req->query, time(NULL), &q, &field, &err) != RT_OK)
        return web_dash_error(req, 400, text_get(err), field);
    web_dash_ctx_t c;
    if (web_dash_begin(req, WEB_DASH_ANY, &c) != RT_OK) return RT_OK;
    char zone[24];
    snprintf(zone, sizeof zone, "%lld", (long long)q.zone);
    const char *p[] = {q.from, q.to_next, zone};
    PGresult *list = web_dash_exec(&c,
        "SELECT json_build_object('id', a.id, 'posting', a.posting_number, 'method', a.method,"
        "         'amount_kop', a.amount_kop, 'refunded_kop', a.refunded_kop, 'status', a.status,"
        "         'paid', o.paid_attempt = a.id, 'confirmed_by', a.confirmed_by,"
        "         'created_at', msk_rfc3339(a.created_at), 'paid_at', msk_rfc3339(a.paid_at))::text"
        "  FROM pay_attempts a JOIN orders o ON o.posting_number = a.posting_number"
        " WHERE a.created_at >= ($1::date::timestamp AT TIME ZONE 'Europe/Moscow')"
        "   AND a.created_at < ($2::date::timestamp AT TIME ZONE 'Europe/Moscow')"
        "   AND ($3::int = 0 OR EXISTS (SELECT 1 FROM deliveries d WHERE d.posting_number = a.posting_number"
        "                                 AND d.zone_id = $3::int))"
        " ORDER BY a.created_at DESC, a.id LIMIT 500", 3, p);
    PGresult *days = list ? web_dash_exec(&c,
        "SELECT json_build_object('day', d, 'count', count(*), 'amount_kop', sum(amount_kop))::text"
        "  FROM (SELECT (a.paid_at AT TIME ZONE 'Europe/Moscow')::date AS d, a.amount_kop FROM pay_attempts a"
        "         WHERE a.status IN ('succeeded', 'refunded')"
        "           AND a.paid_at >= ($1::date::timestamp AT TIME ZONE 'Europe/Moscow')"
        "           AND a.paid_at < ($2::date::timestamp AT TIME ZONE 'Europe/Moscow')"
        "           AND ($3::int = 0 OR EXISTS (SELECT 1 FROM deliveries d WHERE d.posting_number = a.posting_number"
        "                                         AND d.zone_id = $3::int))) x"
        " GROUP BY d ORDER BY d", 3, p) : NULL;
    if (!list || !days) {
        PQclear(list);
        web_dash_end(&c);
        return web_dash_error(req, 503, text_get(T_DASH_E_DB), NULL);
    }
    web_dash_end(&c);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "payments", web_dash_json_rows(list));
    cJSON_AddItemToObject(o, "days", web_dash_json_rows(days));
    PQclear(list);
    PQclear(days);
    return web_dash_cjson(req, 200, o);
}

/* The JSON body's posting (checked) and optional amount; answers 400 itself. */
static int pd_body(web_req_t *req, web_dash_ctx_t *c, char posting[32], long long *amount)
{
    char *body = NULL;
    size_t len = 0;
    const char *bad = NULL;
    if (web_read_body(req, 8 * 1024, &body, &len) != RT_OK) bad = "body";
    cJSON *j = bad ? NULL : cJSON_ParseWithLength(body, len);
    free(body);
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(j, "posting");
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(j, "amount_kop");
    if (!bad && !cJSON_IsObject(j)) bad = "body";
    if (!bad && (!cJSON_IsString(p) || !posting_is_valid(p->valuestring))) bad = "posting";
    if (!bad && a && !cJSON_IsNull(a) && (!cJSON_IsNumber(a) || a->valuedouble < 1 || a->valuedouble > 1e12))
        bad = "amount_kop";
    if (!bad) {
        snprintf(posting, 32, "%s", p->valuestring);
        *amount = cJSON_IsNumber(a) ? (long long)a->valuedouble : 0;
    }
    cJSON_Delete(j);
    if (!bad) return RT_OK;
    web_dash_end(c);
    web_dash_error(req, 400, text_get(T_CRD_E_FIELD), bad);
    return RT_EINVAL;
}

static int pd_post(web_req_t *req)
{
    const char *path = req->ri->local_uri;
    bool confirm = strcmp(path, "/api/payments/confirm") == 0, refund = strcmp(path, "/api/payments/refund") == 0;
    if (!confirm && !refund) return web_dash_error(req, 404, text_get(T_CRD_E_NOT_FOUND), NULL);
    web_dash_ctx_t c;
    if (web_dash_begin(req, WEB_DASH_OPERATOR | WEB_DASH_ADMIN, &c) != RT_OK) return RT_OK;
    char posting[32], who[96], kop[24];
    long long amount = 0;
    if (pd_body(req, &c, posting, &amount) != RT_OK) return RT_OK;
    snprintf(who, sizeof who, "web:%s", c.s.login);
    snprintf(kop, sizeof kop, "%lld", amount);
    const char *p[] = {posting, amount ? kop : NULL, who}, *pc[] = {posting, who};
    PGresult *r = confirm ? web_dash_exec(&c, PAY_SQL_PAID_BANK, 2, pc) : web_dash_exec(&c, PAY_SQL_REFUND, 3, p);
    if (!r) {
        web_dash_end(&c);
        return web_dash_error(req, 503, text_get(T_DASH_E_DB), NULL);
    }
    const char *res = PQntuples(r) ? PQgetvalue(r, 0, 0) : "";
    char result[96];
    snprintf(result, sizeof result, "%s", res);
    PQclear(r);
    const char *ap[] = {who, confirm ? "bank_qr_confirmed" : "refund_requested", posting, result};
    PQclear(web_dash_exec(&c, "INSERT INTO audit_log (actor, action, object_type, object_id, details)"
                              " VALUES ($1, $2, 'order', $3, jsonb_build_object('result', $4::text))", 4, ap));
    web_dash_end(&c);
    cJSON *o = cJSON_CreateObject();
    if (confirm) {
        if (!result[0]) {
            cJSON_Delete(o);
            return web_dash_error(req, 409, text_get(T_PAYD_E_NO_BANK_QR), "posting");
        }
        cJSON_AddStringToObject(o, "attempt", result);
        return web_dash_cjson(req, 200, o);
    }
    if (strcmp(result, "unpaid") == 0) {
        cJSON_Delete(o);
        return web_dash_error(req, 409, text_get(T_PAYD_E_UNPAID), "posting");
    }
    if (strncmp(result, "too_much:", 9) == 0) {
        cJSON_Delete(o);
        return web_dash_error(req, 400, text_get(T_PAYD_E_TOO_MUCH), "amount_kop");
    }
    /* "ok:<refund id>:<kopecks>" */
    const char *id = strncmp(result, "ok:", 3) == 0 ? result + 3 : result, *colon = strchr(id, ':');
    char rid[64];
    snprintf(rid, sizeof rid, "%.*s", colon ? (int)(colon - id) : (int)strlen(id), id);
    cJSON_AddStringToObject(o, "refund", rid);
    cJSON_AddNumberToObject(o, "amount_kop", colon ? atof(colon + 1) : 0);
    return web_dash_cjson(req, 200, o);
}

int web_dash_payments_register(void)
{
    int rc = web_route_add("GET", "/api/payments", pd_list);
    return rc == RT_OK ? web_route_add("POST", "/api/payments", pd_post) : rc;
}
