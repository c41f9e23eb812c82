/* web_dash_analytics.c — module 8: the summary, the series and courier load.
 *
 * Purpose: manager and admin routes reading ONLY the rollups of
 * sql/021_dash_rollups.sql, never the raw orders (the one exception is the
 * live "waiting at pickup points" figure, read from the orders_status index
 * over the facts of the parcels that are at a pickup point now):
 *   GET /api/analytics/summary   ?from&to&zone   the KPIs and the per-zone table
 *   GET /api/analytics/series    ?from&to&zone&group   points per day or hour
 *   GET /api/analytics/couriers  ?from&to&zone   courier load from deliveries and shifts
 * p50 and p90 come from the 5 % histogram buckets (within 2.5 %, nearest
 * rank: the smallest duration with at least ⌈q·n⌉ durations at or below it,
 * reported as the geometric middle of its bucket); averages are exact.
 * Mass messages are not per zone: they count for every zone.
 *
 * Exports: web_dash_analytics_register, web_dash_summary.
 * Threads: civetweb worker threads.
 */
#include "web_dash.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rt.h"
#include "rt_log.h"
#include "texts.h"
#include "web_dash_params.h"

#define AN_METRICS 3           /* 1 delivery, 2 pickup, 3 processing */

typedef struct an_hist {
    double n, sum;
    int nb;
    short bucket[4096];
    double count[4096];
} an_hist_t;


static double an_num(PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? 0 : strtod(PQgetvalue(r, row, col), NULL);
}

/* Nearest-rank quantile q of a histogram (buckets ascending). */
static double an_quantile(const an_hist_t *h, double q)
{
    if (h->n <= 0) return 0;
    double rank = ceil(q * h->n), cum = 0;
    if (rank < 1) rank = 1;
    for (int i = 0; i < h->nb; i++) {
        cum += h->count[i];
        if (cum >= rank) return h->bucket[i] == 0 ? 0 : pow(1.05, h->bucket[i] - 0.5);
    }
    return h->nb ? pow(1.05, h->bucket[h->nb - 1] - 0.5) : 0;
}

static cJSON *an_durations(const an_hist_t *h)
{
    cJSON *o = cJSON_CreateObject();
    if (h->n > 0) {
        cJSON_AddNumberToObject(o, "avg_s", round(h->sum / h->n));
        cJSON_AddNumberToObject(o, "p50_s", round(an_quantile(h, 0.5)));
        cJSON_AddNumberToObject(o, "p90_s", round(an_quantile(h, 0.9)));
    } else {
        cJSON_AddNullToObject(o, "avg_s");
        cJSON_AddNullToObject(o, "p50_s");
        cJSON_AddNullToObject(o, "p90_s");
    }
    cJSON_AddNumberToObject(o, "count", h->n);
    return o;
}

static void an_rate(cJSON *o, const char *name, double ok, double n)
{
    if (n > 0) cJSON_AddNumberToObject(o, name, ok / n);
    else cJSON_AddNullToObject(o, name);
}

/* Fill hists[metric-1] from rows (metric, bucket, n, sum) of one zone (or all). */
static void an_hist_fill(PGresult *r, int zone_col, int64_t zone, an_hist_t *hists)
{
    for (int i = 0; i < PQntuples(r); i++) {
        if (zone_col >= 0 && strtoll(PQgetvalue(r, i, zone_col), NULL, 10) != zone) continue;
        int m = atoi(PQgetvalue(r, i, 0));
        if (m < 1 || m > AN_METRICS) continue;
        an_hist_t *h = &hists[m - 1];
        if (h->nb >= (int)(sizeof h->bucket / sizeof h->bucket[0])) continue;
        h->bucket[h->nb] = (short)atoi(PQgetvalue(r, i, 1));
        h->count[h->nb++] = an_num(r, i, 2);
        h->n += an_num(r, i, 2);
        h->sum += an_num(r, i, 3);
    }
}

static const char an_totals_sql[] =
    "SELECT coalesce(sum(created), 0), coalesce(sum(delivered), 0), coalesce(sum(cancelled), 0),"
    "       coalesce(sum(returned), 0), coalesce(sum(on_time_n), 0), coalesce(sum(on_time_ok), 0),"
    "       coalesce(sum(first_n), 0), coalesce(sum(first_ok), 0), coalesce(sum(telegram), 0),"
    "       coalesce(sum(sms), 0), coalesce(sum(failed), 0), coalesce(sum(paid_count), 0), coalesce(sum(paid_kop), 0)"
    "  FROM dash_hourly"
    " WHERE hour >= ($1::date::timestamp AT TIME ZONE 'Europe/Moscow')"
    "   AND hour < ($2::date::timestamp AT TIME ZONE 'Europe/Moscow')"
    "   AND ($3::int IS NULL OR zone_id = $3)";

static const char an_hist_sql[] =
    "SELECT metric, bucket, sum(n), sum(sum_s) FROM dash_hist"
    " WHERE day >= $1::date AND day < $2::date AND ($3::int IS NULL OR zone_id = $3)"
    " GROUP BY metric, bucket HAVING sum(n) <> 0 ORDER BY metric, bucket";

/* The parcels at pickup points now, from their facts (partial index
 * dash_order_facts_waiting, sql/024_dash_waiting.sql). */
static const char an_waiting_sql[] =
    "SELECT count(*), coalesce(avg(extract(epoch FROM now() - pickup_at)), 0),"
    "       count(*) FILTER (WHERE pickup_at > now() - interval '3 days'),"
    "       count(*) FILTER (WHERE pickup_at <= now() - interval '3 days' AND pickup_at > now() - interval '6 days'),"
    "       count(*) FILTER (WHERE pickup_at <= now() - interval '6 days' AND pickup_at > now() - interval '8 days'),"
    "       count(*) FILTER (WHERE pickup_at <= now() - interval '8 days')"
    "  FROM dash_order_facts"
    " WHERE status = 'at_pickup_point' AND pickup_at IS NOT NULL AND ($1::int IS NULL OR zone_id = $1)";

static const char an_broadcast_sql[] =
    "SELECT count(*), coalesce(sum(sent), 0) FROM broadcasts"
    " WHERE status <> 'draft' AND started_at >= ($1::date::timestamp AT TIME ZONE 'Europe/Moscow')"
    "   AND started_at < ($2::date::timestamp AT TIME ZONE 'Europe/Moscow')";

static const char an_zones_sql[] =
    "SELECT z.id, z.name, coalesce(h.created, 0), coalesce(h.delivered, 0), coalesce(h.cancelled, 0),"
    "       coalesce(h.returned, 0), coalesce(h.on_time_n, 0), coalesce(h.on_time_ok, 0)"
    "  FROM delivery_zones z LEFT JOIN ("
    "    SELECT zone_id, sum(created) AS created, sum(delivered) AS delivered, sum(cancelled) AS cancelled,"
    "           sum(returned) AS returned, sum(on_time_n) AS on_time_n, sum(on_time_ok) AS on_time_ok"
    "      FROM dash_hourly"
    "     WHERE hour >= ($1::date::timestamp AT TIME ZONE 'Europe/Moscow')"
    "       AND hour < ($2::date::timestamp AT TIME ZONE 'Europe/Moscow')"
    "     GROUP BY zone_id) h ON h.zone_id = z.id"
    " WHERE $3::int IS NULL OR z.id = $3"
    " ORDER BY z.name, z.id";

static const char an_zone_hist_sql[] =
    "SELECT metric, bucket, sum(n), sum(sum_s), zone_id FROM dash_hist"
    " WHERE metric = 1 AND day >= $1::date AND day < $2::date AND ($3::int IS NULL OR zone_id = $3)"
    " GROUP BY zone_id, metric, bucket HAVING sum(n) <> 0 ORDER BY zone_id, metric, bucket";

/* Contract: see web_dash.h. */
int web_dash_summary(web_dash_ctx_t *c, const web_dash_query_t *q, cJSON **out)
{
    char zone[24];
    snprintf(zone, sizeof zone, "%lld", (long long)q->zone);
    const char *zp = q->zone ? zone : NULL;
    const char *p3[] = {q->from, q->to_next, zp};
    PGresult *t = web_dash_exec(c, an_totals_sql, 3, p3);
    PGresult *h = t ? web_dash_exec(c, an_hist_sql, 3, p3) : NULL;
    PGresult *w = h ? web_dash_exec(c, an_waiting_sql, 1, &zp) : NULL;
    PGresult *b = w ? web_dash_exec(c, an_broadcast_sql, 2, p3) : NULL;
    PGresult *z = b ? web_dash_exec(c, an_zones_sql, 3, p3) : NULL;
    PGresult *zh = z ? web_dash_exec(c, an_zone_hist_sql, 3, p3) : NULL;
    an_hist_t *hists = zh ? calloc(AN_METRICS + 1, sizeof *hists) : NULL;
    if (!hists) {
        PQclear(t), PQclear(h), PQclear(w), PQclear(b), PQclear(z), PQclear(zh);
        return RT_EIO;
    }
    an_hist_fill(h, -1, 0, hists);

    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "from", q->from);
    cJSON_AddStringToObject(o, "to", q->to);
    if (q->zone) cJSON_AddNumberToObject(o, "zone", (double)q->zone);
    else cJSON_AddNullToObject(o, "zone");
    cJSON *k = cJSON_AddObjectToObject(o, "kpi");
    cJSON_AddNumberToObject(k, "created", an_num(t, 0, 0));
    cJSON_AddNumberToObject(k, "delivered", an_num(t, 0, 1));
    cJSON_AddNumberToObject(k, "cancelled", an_num(t, 0, 2));
    cJSON_AddNumberToObject(k, "returned", an_num(t, 0, 3));
    cJSON_AddItemToObject(k, "delivery_time", an_durations(&hists[0]));
    cJSON_AddItemToObject(k, "pickup_time", an_durations(&hists[1]));
    cJSON_AddItemToObject(k, "processing_time", an_durations(&hists[2]));
    an_rate(k, "on_time_rate", an_num(t, 0, 5), an_num(t, 0, 4));
    an_rate(k, "first_attempt_rate", an_num(t, 0, 7), an_num(t, 0, 6));
    cJSON *wt = cJSON_AddObjectToObject(k, "waiting");
    cJSON_AddNumberToObject(wt, "count", an_num(w, 0, 0));
    cJSON_AddNumberToObject(wt, "age_avg_s", round(an_num(w, 0, 1)));
    cJSON *wb = cJSON_AddArrayToObject(wt, "buckets");
    char labels[256];
    snprintf(labels, sizeof labels, "%s", text_get(T_DASH_WAIT_BUCKETS));
    char *save = NULL, *label = strtok_r(labels, ";", &save);
    for (int i = 0; i < 4 && label; i++, label = strtok_r(NULL, ";", &save)) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "label", label);
        cJSON_AddNumberToObject(e, "count", an_num(w, 0, 2 + i));
        cJSON_AddItemToArray(wb, e);
    }
    cJSON *nt = cJSON_AddObjectToObject(k, "notifications");
    cJSON_AddNumberToObject(nt, "telegram", an_num(t, 0, 8));
    cJSON_AddNumberToObject(nt, "sms", an_num(t, 0, 9));
    cJSON_AddNumberToObject(nt, "failed", an_num(t, 0, 10));
    cJSON_AddNumberToObject(k, "sms_count", an_num(t, 0, 9));
    cJSON_AddNumberToObject(k, "broadcasts", an_num(b, 0, 0));
    cJSON_AddNumberToObject(k, "broadcast_messages", an_num(b, 0, 1));
    cJSON *paid = cJSON_AddObjectToObject(k, "paid");
    cJSON_AddNumberToObject(paid, "count", an_num(t, 0, 11));
    cJSON_AddNumberToObject(paid, "amount_kop", an_num(t, 0, 12));

    cJSON *zs = cJSON_AddArrayToObject(o, "zones");
    for (int i = 0; i < PQntuples(z); i++) {
        int64_t id = strtoll(PQgetvalue(z, i, 0), NULL, 10);
        memset(&hists[AN_METRICS], 0, sizeof hists[AN_METRICS]);
        an_hist_fill(zh, 4, id, &hists[AN_METRICS]);
        cJSON *e = cJSON_CreateObject();
        cJSON_AddNumberToObject(e, "id", (double)id);
        cJSON_AddStringToObject(e, "name", PQgetvalue(z, i, 1));
        cJSON_AddNumberToObject(e, "created", an_num(z, i, 2));
        cJSON_AddNumberToObject(e, "delivered", an_num(z, i, 3));
        cJSON_AddNumberToObject(e, "cancelled", an_num(z, i, 4));
        cJSON_AddNumberToObject(e, "returned", an_num(z, i, 5));
        an_rate(e, "on_time_rate", an_num(z, i, 7), an_num(z, i, 6));
        if (hists[AN_METRICS].n > 0)
            cJSON_AddNumberToObject(e, "delivery_time_p50_s", round(an_quantile(&hists[AN_METRICS], 0.5)));
        else
            cJSON_AddNullToObject(e, "delivery_time_p50_s");
        cJSON_AddItemToArray(zs, e);
    }
    free(hists);
    PQclear(t), PQclear(h), PQclear(w), PQclear(b), PQclear(z), PQclear(zh);
    *out = o;
    return RT_OK;
}

/* Parse the query or answer 400; RT_OK when parsed. */
static int an_params(web_req_t *req, web_dash_ctx_t *c, web_dash_query_t *q)
{
    const char *field;
    text_id_t err;
    if (web_dash_query_parse(req->query, time(NULL), q, &field, &err) == RT_OK) return RT_OK;
    web_dash_end(c);
    web_dash_error(req, 400, text_get(err), field);
    return RT_EINVAL;
}

static int an_summary(web_req_t *req)
{
    web_dash_ctx_t c;
    web_dash_query_t q;
    if (web_dash_begin(req, WEB_DASH_ANALYST, &c) != RT_OK || an_params(req, &c, &q) != RT_OK) return RT_OK;
    cJSON *o = NULL;
    int rc = web_dash_summary(&c, &q, &o);
    web_dash_end(&c);
    if (rc != RT_OK) return web_dash_error(req, 503, text_get(T_DASH_E_DB), NULL);
    return web_dash_cjson(req, 200, o);
}

static const char an_series_sql[] =
    "WITH s AS (SELECT g AS t FROM generate_series($1::date::timestamp, $2::date::timestamp - $4::interval,"
    "                                              $4::interval) g),"
    "     h AS (SELECT date_trunc(CASE WHEN $4::interval = interval '1 hour' THEN 'hour' ELSE 'day' END,"
    "                             hour AT TIME ZONE 'Europe/Moscow') AS t,"
    "                  sum(created) AS created, sum(delivered) AS delivered, sum(cancelled) AS cancelled,"
    "                  sum(returned) AS returned, sum(telegram) AS telegram, sum(sms) AS sms,"
    "                  sum(failed) AS failed, sum(paid_kop) AS paid_kop"
    "             FROM dash_hourly"
    "            WHERE hour >= ($1::date::timestamp AT TIME ZONE 'Europe/Moscow')"
    "              AND hour < ($2::date::timestamp AT TIME ZONE 'Europe/Moscow')"
    "              AND ($3::int IS NULL OR zone_id = $3)"
    "            GROUP BY 1)"
    " SELECT CASE WHEN $4::interval = interval '1 hour' THEN to_char(s.t, 'YYYY-MM-DD\"T\"HH24:00')"
    "             ELSE to_char(s.t, 'YYYY-MM-DD') END,"
    "        coalesce(h.created, 0), coalesce(h.delivered, 0), coalesce(h.cancelled, 0), coalesce(h.returned, 0),"
    "        coalesce(h.telegram, 0), coalesce(h.sms, 0), coalesce(h.failed, 0), coalesce(h.paid_kop, 0)"
    "   FROM s LEFT JOIN h ON h.t = s.t ORDER BY s.t";

static int an_series(web_req_t *req)
{
    web_dash_ctx_t c;
    web_dash_query_t q;
    if (web_dash_begin(req, WEB_DASH_ANALYST, &c) != RT_OK || an_params(req, &c, &q) != RT_OK) return RT_OK;
    char zone[24];
    snprintf(zone, sizeof zone, "%lld", (long long)q.zone);
    const char *p[] = {q.from, q.to_next, q.zone ? zone : NULL, q.hourly ? "1 hour" : "1 day"};
    PGresult *r = web_dash_exec(&c, an_series_sql, 4, p);
    web_dash_end(&c);
    if (!r) return web_dash_error(req, 503, text_get(T_DASH_E_DB), NULL);
    static const char *const names[] = {"t", "created", "delivered", "cancelled", "returned",
                                        "telegram", "sms", "failed", "paid_kop"};
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "group", q.hourly ? "hour" : "day");
    cJSON *a = cJSON_AddArrayToObject(o, "points");
    for (int i = 0; i < PQntuples(r); i++) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, names[0], PQgetvalue(r, i, 0));
        for (int k = 1; k < 9; k++) cJSON_AddNumberToObject(e, names[k], an_num(r, i, k));
        cJSON_AddItemToArray(a, e);
    }
    PQclear(r);
    return web_dash_cjson(req, 200, o);
}

/* Courier load over the period (and zone): deliveries done, failed
 * attempts, per day of the period, per hour on shift, shift time and km
 * (sql/040_couriers.sql). */
static const char an_couriers_sql[] =
    "WITH d AS (SELECT courier_id, count(*) FILTER (WHERE stage = 'delivered') AS done,"
    "                  sum(failed_attempts) AS failed"
    "             FROM deliveries WHERE courier_id IS NOT NULL AND status = 'ordered'"
    "              AND slot_date >= $1::date AND slot_date < $2::date AND ($3::int = 0 OR zone_id = $3::int)"
    "            GROUP BY courier_id),"
    "     s AS (SELECT courier_id, sum(extract(epoch FROM coalesce(ended_at, now()) - started_at)) AS shift_s,"
    "                  sum(km) AS km"
    "             FROM courier_shifts"
    "            WHERE started_at >= ($1::date::timestamp AT TIME ZONE 'Europe/Moscow')"
    "              AND started_at < ($2::date::timestamp AT TIME ZONE 'Europe/Moscow')"
    "            GROUP BY courier_id)"
    " SELECT c.id, c.name, coalesce(d.done, 0), coalesce(d.failed, 0),"
    "        round(coalesce(d.done, 0)::numeric / greatest($2::date - $1::date, 1), 2),"
    "        CASE WHEN coalesce(s.shift_s, 0) > 0 THEN round(coalesce(d.done, 0) / (s.shift_s / 3600.0)::numeric, 2) END,"
    "        round(coalesce(s.shift_s, 0)), round(coalesce(s.km, 0)::numeric, 1)"
    "   FROM couriers c LEFT JOIN d ON d.courier_id = c.id LEFT JOIN s ON s.courier_id = c.id"
    "  WHERE d.courier_id IS NOT NULL OR s.courier_id IS NOT NULL"
    "  ORDER BY 3 DESC, c.name, c.id";

static int an_couriers(web_req_t *req)
{
    web_dash_ctx_t c;
    web_dash_query_t q;
    if (web_dash_begin(req, WEB_DASH_ANALYST, &c) != RT_OK || an_params(req, &c, &q) != RT_OK) return RT_OK;
    char zone[24];
    snprintf(zone, sizeof zone, "%lld", (long long)q.zone);
    const char *p[] = {q.from, q.to_next, zone};
    PGresult *r = web_dash_exec(&c, an_couriers_sql, 3, p);
    if (!r) {
        web_dash_end(&c);
        return web_dash_error(req, 503, text_get(T_DASH_E_DB), NULL);
    }
    web_dash_end(&c);
    static const char *const names[] = {"id", "name", "deliveries", "failed", "per_day", "per_hour", "shift_s", "km"};
    cJSON *o = cJSON_CreateObject(), *a = cJSON_AddArrayToObject(o, "couriers");
    for (int i = 0; i < PQntuples(r); i++) {
        cJSON *e = cJSON_CreateObject();
        for (int k = 0; k < 8; k++) {
            if (k == 1) cJSON_AddStringToObject(e, names[k], PQgetvalue(r, i, k));
            else if (PQgetisnull(r, i, k)) cJSON_AddNullToObject(e, names[k]);
            else cJSON_AddNumberToObject(e, names[k], an_num(r, i, k));
        }
        cJSON_AddItemToArray(a, e);
    }
    PQclear(r);
    return web_dash_cjson(req, 200, o);
}

/* Contract: see web_dash.h. */
int web_dash_analytics_register(void)
{
    int rc;
    if ((rc = web_route_add("GET", "/api/analytics/summary", an_summary)) != RT_OK) return rc;
    if ((rc = web_route_add("GET", "/api/analytics/series", an_series)) != RT_OK) return rc;
    return web_route_add("GET", "/api/analytics/couriers", an_couriers);
}
