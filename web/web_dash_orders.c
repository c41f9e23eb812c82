/* web_dash_orders.c — zones, the orders list and an order's timeline.
 *
 * Purpose: read-only order views for every staff role:
 *   GET /api/zones              {"zones":[{"id","name"}]}
 *   GET /api/orders             ?q&status&zone&from&to&after&limit ->
 *                               {"orders":[...],"next":cursor|null}
 *   GET /api/orders/{posting}   {"order":{...},"timeline":[...]} | 404
 * The list pages by keyset on (created_at desc, posting_number) over the
 * orders_created_keyset index; `next` is the last row's cursor when the
 * page is full. q matches a posting prefix, a phone (its digits, any
 * form: 8 949…, +7 (949)…) or a name (case-insensitive substring). Dates
 * filter the list only when given (a search by number must find an old
 * parcel). The timeline merges, oldest first: statuses (with their
 * source), notifications (channel, outcome), pickup reminders still due,
 * the delivery form's booking (and its cancellation) and the mass messages
 * that reached the order. Every string is JSON-escaped by cJSON; the page
 * puts them into the DOM as text.
 *
 * Exports: web_dash_orders_register.
 * Threads: civetweb worker threads.
 */
#include "web_dash.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "order_status.h"
#include "posting.h"
#include "rt.h"
#include "rt_log.h"
#include "texts.h"
#include "web_dash_params.h"

static const char *ord_status_text(const char *code)
{
    order_status_t st = ORDER_NONE;
    order_status_parse(code, &st);
    return order_status_name_ru(st);
}


static int ord_fail(web_req_t *req, web_dash_ctx_t *c)
{
    web_dash_end(c);
    return web_dash_error(req, 503, text_get(T_DASH_E_DB), NULL);
}

/* A value or JSON null. */
static void ord_add_str(cJSON *o, const char *name, PGresult *r, int row, int col)
{
    if (PQgetisnull(r, row, col)) cJSON_AddNullToObject(o, name);
    else cJSON_AddStringToObject(o, name, PQgetvalue(r, row, col));
}

static void ord_add_int(cJSON *o, const char *name, PGresult *r, int row, int col)
{
    if (PQgetisnull(r, row, col)) cJSON_AddNullToObject(o, name);
    else cJSON_AddNumberToObject(o, name, strtod(PQgetvalue(r, row, col), NULL));
}

static int zones_get(web_req_t *req)
{
    web_dash_ctx_t c;
    if (web_dash_begin(req, WEB_DASH_ANY, &c) != RT_OK) return RT_OK;
    PGresult *r = web_dash_exec(&c, "SELECT id, name FROM delivery_zones ORDER BY name, id", 0, NULL);
    if (!r) return ord_fail(req, &c);
    web_dash_end(&c);
    cJSON *o = cJSON_CreateObject(), *a = cJSON_AddArrayToObject(o, "zones");
    for (int i = 0; i < PQntuples(r); i++) {
        cJSON *z = cJSON_CreateObject();
        ord_add_int(z, "id", r, i, 0);
        ord_add_str(z, "name", r, i, 1);
        cJSON_AddItemToArray(a, z);
    }
    PQclear(r);
    return web_dash_cjson(req, 200, o);
}

/* The digits of q when it looks like a phone (digits, spaces, + - ( ) and
 * at least 4 digits); a leading 8 of an 11-digit number becomes 7. */
static void ord_phone_digits(const char *q, char *out, size_t cap)
{
    size_t n = 0;
    out[0] = '\0';
    for (const char *p = q; *p; p++) {
        if (*p >= '0' && *p <= '9') {
            if (n + 1 < cap) out[n++] = *p;
        } else if (!strchr(" +-()", *p)) {
            n = 0;
            break;
        }
    }
    out[n] = '\0';
    if (n < 4) out[0] = '\0';
    else if (n == 11 && out[0] == '8') out[0] = '7';
}

/* LIKE pattern text with %, _ and \ escaped. */
static void ord_like_escape(const char *s, char *out, size_t cap)
{
    size_t j = 0;
    for (; *s && j + 2 < cap; s++) {
        if (*s == '%' || *s == '_' || *s == '\\') out[j++] = '\\';
        out[j++] = *s;
    }
    out[j] = '\0';
}

static const char ord_list_sql[] =
    "SELECT o.posting_number, o.status, f.zone_id, z.name,"
    "       coalesce(o.recipient_name, o.addressee_name, o.customer_name), coalesce(o.recipient_phone, o.addressee_phone, o.customer_phone),"
    "       dash_ts(o.created_at), dash_ts(o.updated_at),"
    "       (extract(epoch FROM o.created_at) * 1000000)::bigint, o.paid_attempt IS NOT NULL"
    "  FROM orders o"
    "  LEFT JOIN dash_order_facts f ON f.posting_number = o.posting_number"
    "  LEFT JOIN delivery_zones z ON z.id = f.zone_id"
    " WHERE ($1::text IS NULL OR o.status = $1)"
    "   AND ($2::int IS NULL OR f.zone_id = $2)"
    "   AND ($3::date IS NULL OR o.created_at >= ($3::date::timestamp AT TIME ZONE 'Europe/Moscow'))"
    "   AND ($4::date IS NULL OR o.created_at < ($4::date::timestamp AT TIME ZONE 'Europe/Moscow'))"
    "   AND ($5::text IS NULL OR o.posting_number LIKE $5 || '%'"
    "        OR lower(o.addressee_name) LIKE '%' || lower($5) || '%'"
    "        OR lower(o.customer_name) LIKE '%' || lower($5) || '%'"
    "        OR lower(o.recipient_name) LIKE '%' || lower($5) || '%'"
    "        OR ($6::text IS NOT NULL AND (regexp_replace(coalesce(o.addressee_phone, ''), '\\D', '', 'g') LIKE '%' || $6 || '%'"
    "            OR regexp_replace(coalesce(o.customer_phone, ''), '\\D', '', 'g') LIKE '%' || $6 || '%'"
    "            OR regexp_replace(coalesce(o.recipient_phone, ''), '\\D', '', 'g') LIKE '%' || $6 || '%')))"
    "   AND ($7::bigint IS NULL OR o.created_at < to_timestamp($7::bigint / 1000000.0)"
    "        OR (o.created_at = to_timestamp($7::bigint / 1000000.0) AND o.posting_number > $8))"
    " ORDER BY o.created_at DESC, o.posting_number"
    " LIMIT $9::int";

static int orders_list(web_req_t *req, web_dash_ctx_t *c)
{
    web_dash_query_t q;
    const char *field;
    text_id_t err;
    if (web_dash_query_parse(req->query, time(NULL), &q, &field, &err) != RT_OK) {
        web_dash_end(c);
        return web_dash_error(req, 400, text_get(err), field);
    }
    char zone[24], after[24], limit[16], like[420], digits[64];
    snprintf(zone, sizeof zone, "%lld", (long long)q.zone);
    snprintf(after, sizeof after, "%lld", (long long)q.after_us);
    snprintf(limit, sizeof limit, "%d", q.limit);
    ord_like_escape(q.q, like, sizeof like);
    ord_phone_digits(q.q, digits, sizeof digits);
    const char *p[] = {q.status[0] ? q.status : NULL, q.zone ? zone : NULL, q.dates_given ? q.from : NULL,
                       q.dates_given ? q.to_next : NULL, q.q[0] ? like : NULL, digits[0] ? digits : NULL,
                       q.has_after ? after : NULL, q.has_after ? q.after_posting : NULL, limit};
    PGresult *r = web_dash_exec(c, ord_list_sql, 9, p);
    if (!r) return ord_fail(req, c);
    web_dash_end(c);
    cJSON *o = cJSON_CreateObject(), *a = cJSON_AddArrayToObject(o, "orders");
    int n = PQntuples(r);
    for (int i = 0; i < n; i++) {
        cJSON *x = cJSON_CreateObject();
        ord_add_str(x, "posting", r, i, 0);
        ord_add_str(x, "status", r, i, 1);
        cJSON_AddStringToObject(x, "status_text", ord_status_text(PQgetvalue(r, i, 1)));
        ord_add_int(x, "zone", r, i, 2);
        ord_add_str(x, "zone_name", r, i, 3);
        ord_add_str(x, "client_name", r, i, 4);
        ord_add_str(x, "phone", r, i, 5);
        ord_add_str(x, "created_at", r, i, 6);
        ord_add_str(x, "updated_at", r, i, 7);
        cJSON_AddBoolToObject(x, "paid", PQgetvalue(r, i, 9)[0] == 't');   /* orders.paid_attempt (payments) */
        cJSON_AddItemToArray(a, x);
    }
    if (n == q.limit && n > 0) {
        char cur[64];
        web_dash_cursor_format(strtoll(PQgetvalue(r, n - 1, 8), NULL, 10), PQgetvalue(r, n - 1, 0), cur, sizeof cur);
        cJSON_AddStringToObject(o, "next", cur);
    } else {
        cJSON_AddNullToObject(o, "next");
    }
    PQclear(r);
    return web_dash_cjson(req, 200, o);
}

static const char ord_one_sql[] =
    "SELECT o.posting_number, o.status, f.zone_id, z.name,"
    "       coalesce(o.recipient_name, o.addressee_name, o.customer_name), coalesce(o.recipient_phone, o.addressee_phone, o.customer_phone),"
    "       coalesce(d.address, o.ozon_address),"
    "       CASE WHEN d.id IS NOT NULL THEN to_char(d.slot_date, 'YYYY-MM-DD') || ' ' ||"
    "            to_char(d.slot_start, 'HH24:MI') || '–' || to_char(d.slot_end, 'HH24:MI') END,"
    "       d.price_kopecks, dash_ts(o.created_at), o.pickup_point, o.paid_attempt IS NOT NULL"
    "  FROM orders o"
    "  LEFT JOIN dash_order_facts f ON f.posting_number = o.posting_number"
    "  LEFT JOIN delivery_zones z ON z.id = f.zone_id"
    "  LEFT JOIN deliveries d ON d.posting_number = o.posting_number AND d.status = 'ordered'"
    " WHERE o.posting_number = $1";

/* kind, at (sort key), dash_ts(at), a, b, c, d, source, channel, outcome:
 * a..d are the pieces the text is made of, per kind. */
static const char ord_timeline_sql[] =
    "SELECT * FROM ("
    " SELECT 'status' AS kind, h.at, dash_ts(h.at), h.status, h.comment, CASE WHEN h.applied THEN '' ELSE 'x' END,"
    "        NULL::text, h.source, NULL::text, CASE WHEN h.applied THEN 'applied' ELSE 'ignored' END, h.id"
    "   FROM order_history h WHERE h.posting_number = $1"
    " UNION ALL"
    " SELECT 'notification', coalesce(n.sent_at, n.created_at), dash_ts(coalesce(n.sent_at, n.created_at)),"
    "        n.event, n.last_error, NULL, NULL, 'notifier', n.channel, n.status, n.id"
    "   FROM notify_outbox n WHERE n.posting_number = $1"
    " UNION ALL"
    " SELECT 'reminder', r.due_at, dash_ts(r.due_at), r.name, dash_ts(r.due_at), NULL, NULL, 'reminders', NULL,"
    "        'scheduled', r.id"
    "   FROM runtime_reminders r WHERE r.kind = 'order' AND r.key = $1"
    " UNION ALL"
    " SELECT 'form', d.created_at, dash_ts(d.created_at), d.address, to_char(d.slot_date, 'DD.MM.YYYY'),"
    "        to_char(d.slot_start, 'HH24:MI') || ';' || to_char(d.slot_end, 'HH24:MI'),"
    "        to_char(d.price_kopecks / 100.0, 'FM999999990.00'), 'bot', 'telegram', d.status, d.id"
    "   FROM deliveries d WHERE d.posting_number = $1"
    " UNION ALL"
    " SELECT 'form', d.cancelled_at, dash_ts(d.cancelled_at), NULL, NULL, 'cancelled', NULL, 'bot', 'telegram',"
    "        'cancelled', d.id"
    "   FROM deliveries d WHERE d.posting_number = $1 AND d.cancelled_at IS NOT NULL"
    " UNION ALL"
    " SELECT 'broadcast', coalesce(b.started_at, b.created_at), dash_ts(coalesce(b.started_at, b.created_at)),"
    "        b.id::text, left(b.body, 200), NULL, NULL, 'operator', 'telegram', br.state, b.id"
    "   FROM broadcast_recipients br JOIN broadcasts b ON b.id = br.broadcast_id WHERE br.posting_number = $1"
    ") t ORDER BY 2, 1, 11";

/* The Russian text of a timeline row. */
static void ord_timeline_text(PGresult *r, int i, char *out, size_t cap)
{
    const char *kind = PQgetvalue(r, i, 0), *a = PQgetvalue(r, i, 3), *b = PQgetvalue(r, i, 4);
    const char *c = PQgetvalue(r, i, 5), *d = PQgetvalue(r, i, 6);
    if (strcmp(kind, "status") == 0) {
        const char *t = ord_status_text(a);
        if (!PQgetisnull(r, i, 4) && *b) snprintf(out, cap, "%s — %s", t[0] ? t : a, b);
        else snprintf(out, cap, "%s", t[0] ? t : a);
    } else if (strcmp(kind, "notification") == 0) {
        const char *t = ord_status_text(a);
        snprintf(out, cap, text_get(T_DASH_TL_NOTIFY), t[0] ? t : a);
    } else if (strcmp(kind, "reminder") == 0) {
        snprintf(out, cap, text_get(T_DASH_TL_REMINDER), a, b);
    } else if (strcmp(kind, "form") == 0) {
        if (strcmp(c, "cancelled") == 0) {
            snprintf(out, cap, "%s", text_get(T_DASH_TL_FORM_CANCELLED));
        } else {
            char from[8] = "", to[8] = "";
            sscanf(c, "%7[^;];%7s", from, to);
            snprintf(out, cap, text_get(T_DASH_TL_FORM), a, b, from, to, d);
        }
    } else {
        snprintf(out, cap, text_get(T_DASH_TL_BROADCAST), a, b);
    }
}

static int orders_one(web_req_t *req, web_dash_ctx_t *c, const char *posting)
{
    if (!posting_is_valid(posting)) {
        web_dash_end(c);
        return web_dash_error(req, 404, text_get(T_DASH_E_POSTING), "posting");
    }
    const char *p[] = {posting};
    PGresult *r = web_dash_exec(c, ord_one_sql, 1, p);
    if (!r) return ord_fail(req, c);
    if (PQntuples(r) != 1) {
        PQclear(r);
        web_dash_end(c);
        return web_dash_error(req, 404, text_get(T_DASH_E_NO_ORDER), "posting");
    }
    PGresult *t = web_dash_exec(c, ord_timeline_sql, 1, p);
    if (!t) {
        PQclear(r);
        return ord_fail(req, c);
    }
    web_dash_end(c);
    cJSON *o = cJSON_CreateObject(), *x = cJSON_AddObjectToObject(o, "order");
    ord_add_str(x, "posting", r, 0, 0);
    ord_add_str(x, "status", r, 0, 1);
    cJSON_AddStringToObject(x, "status_text", ord_status_text(PQgetvalue(r, 0, 1)));
    ord_add_int(x, "zone", r, 0, 2);
    ord_add_str(x, "zone_name", r, 0, 3);
    ord_add_str(x, "client_name", r, 0, 4);
    ord_add_str(x, "phone", r, 0, 5);
    ord_add_str(x, "address", r, 0, 6);
    ord_add_str(x, "slot", r, 0, 7);
    ord_add_int(x, "price_kop", r, 0, 8);
    cJSON_AddBoolToObject(x, "paid", PQgetvalue(r, 0, 11)[0] == 't');   /* orders.paid_attempt (payments) */
    ord_add_str(x, "created_at", r, 0, 9);
    ord_add_str(x, "pickup_point", r, 0, 10);
    PQclear(r);
    cJSON *a = cJSON_AddArrayToObject(o, "timeline");
    for (int i = 0; i < PQntuples(t); i++) {
        char text[1200];
        ord_timeline_text(t, i, text, sizeof text);
        cJSON *e = cJSON_CreateObject();
        ord_add_str(e, "at", t, i, 2);
        ord_add_str(e, "kind", t, i, 0);
        cJSON_AddStringToObject(e, "text", text);
        ord_add_str(e, "source", t, i, 7);
        ord_add_str(e, "channel", t, i, 8);
        ord_add_str(e, "outcome", t, i, 9);
        cJSON_AddItemToArray(a, e);
    }
    PQclear(t);
    return web_dash_cjson(req, 200, o);
}

static int orders_get(web_req_t *req)
{
    web_dash_ctx_t c;
    if (web_dash_begin(req, WEB_DASH_ANY, &c) != RT_OK) return RT_OK;
    const char *rest = req->path + strlen("/api/orders");
    if (*rest == '\0' || strcmp(rest, "/") == 0) return orders_list(req, &c);
    return orders_one(req, &c, rest + 1);
}

/* Contract: see web_dash.h. */
int web_dash_orders_register(void)
{
    int rc = web_route_add("GET", "/api/zones", zones_get);
    return rc == RT_OK ? web_route_add("GET", "/api/orders", orders_get) : rc;
}
