/* web_pay_yookassa.c — YooKassa's HTTP notifications (DESIGN.md "Payments").
 *
 * Purpose: POST /payments/yookassa. Notifications carry no signature, so:
 *   1. the peer address must be inside PLUS7_YOOKASSA_NOTIFY_FROM (YooKassa's
 *      published ranges by default), else 403 and nothing is read;
 *   2. a body that is not {"type":"notification","event":"…","object":{"id":…}}
 *      gets 400 naming the field, and nothing is stored;
 *   3. the notification is stored (pay_notifications) BEFORE the 200; its
 *      body is never trusted: the attempt's payment actor re-reads the
 *      payment with GET {api}/payments/{id} and only the fetched status and
 *      amount count. Idempotent: a repeat is stored again and leads to the
 *      same re-read, which changes nothing the second time;
 *   4. an id no attempt knows is logged and answered 200 (YooKassa would
 *      otherwise re-deliver for a day).
 * A crash after the 200 loses nothing: pay_sweeper pokes the attempts of
 * unprocessed notifications.
 *
 * Exports: web_pay_yookassa_register.
 * Threads: civetweb worker threads (the handler); register on main.
 */
#include "web_pay_yookassa.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <civetweb.h>
#include <libpq-fe.h>

#include "msg_types.h"
#include "pay.h"
#include "pay_stats.h"
#include "pay_yk.h"
#include "rt_log.h"
#include "web_cidr.h"
#include "web_db.h"
#include "web_server.h"

#define WPY_MAX_BODY (64u * 1024)

static rt_runtime_t *wpy_rt;
static web_cidr_list_t wpy_allow;

static int wpy_handle(web_req_t *req)
{
    const char *peer = req->ri->remote_addr;
    if (!web_cidr_match(&wpy_allow, peer)) {
        pay_stat_add(PAY_STAT_NOTIFY_FORBIDDEN);
        LOG_WARN("pay_notify_forbidden", "remote=%s", peer);
        web_req_close(req);   /* the body is not worth reading */
        return web_reply_error(req, 403, "address not allowed", NULL);
    }
    char *body = NULL;
    size_t len = 0;
    if (!web_read_body_or_reply(req, WPY_MAX_BODY, &body, &len)) return RT_OK;
    yk_notification_t n;
    const char *field = NULL;
    if (yk_notification_parse(body, len, &n, &field) != RT_OK) {
        free(body);
        pay_stat_add(PAY_STAT_NOTIFY_BAD);
        return web_reply_error(req, 400, "not a YooKassa notification", field);
    }
    PGconn *db = web_db_acquire(2000);
    if (!db) {
        free(body);
        return web_reply_error(req, 503, "database unavailable", NULL);
    }
    const char *params[] = {n.object_id, n.event, peer, body};
    PGresult *r = PQexecParams(db, WEB_PAY_SQL_STORE, 4, NULL, params, NULL, NULL, 0);
    bool ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
    char attempt[96] = "";
    if (ok && !PQgetisnull(r, 0, 0)) snprintf(attempt, sizeof attempt, "%s", PQgetvalue(r, 0, 0));
    if (!ok) LOG_WARN("pay_notify_store_failed", "error=\"%s\"", PQresultErrorMessage(r));
    PQclear(r);
    web_db_release(db, !ok && PQstatus(db) != CONNECTION_OK);
    free(body);
    if (!ok) return web_reply_error(req, 503, "database unavailable", NULL);
    pay_stat_add(PAY_STAT_NOTIFY_OK);
    if (!attempt[0]) pay_stat_add(PAY_STAT_NOTIFY_UNKNOWN);
    if (attempt[0]) {
        LOG_INFO("pay_notify", "event=%s payment=%s attempt=%s", n.event, n.object_id, attempt);
        pay_poke(wpy_rt, attempt);
    } else {
        LOG_WARN("pay_notify_unknown", "event=%s payment=%s", n.event, n.object_id);
    }
    return web_reply_json(req, 200, "{\"ok\":true}");
}

int web_pay_yookassa_register(rt_runtime_t *rt, const char *allow)
{
    wpy_rt = rt;
    if (web_cidr_parse(allow, &wpy_allow, NULL, 0) != RT_OK) return RT_EINVAL;
    return web_route_add("POST", "/payments/yookassa", wpy_handle);
}
