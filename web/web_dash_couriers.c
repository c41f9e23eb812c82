/* web_dash_couriers.c — couriers in the dashboard: the live map's data,
 * tracks, load, today's deliveries, manual assignment and proof photos.
 *
 * Purpose: the API behind «Курьеры» (web/static/pages/couriers.js):
 *   GET  /api/couriers/live               {"couriers":[{id,name,state,lat,lon,at,left}]}
 *                                         (DESIGN.md; the same object the websocket
 *                                         /api/live sends as {"type":"courier",…})
 *   GET  /api/couriers?from=YYYY-MM-DD     the day's list with load: done, failed,
 *                                         left, km and shift time per courier
 *   GET  /api/couriers/{id}/track?from=D  the day's track [[lat,lon,"at"],…]
 *   GET  /api/couriers/deliveries?from=D  the day's deliveries with stage,
 *                                         courier and point (the map's pins and
 *                                         the assignment list)
 *   POST /api/couriers/assign             {"deliveries":[id,…],"courier":id}: one
 *                                         transaction of delivery_assign() (sql/040),
 *                                         the previous courier told, audited; the
 *                                         dispatcher is woken to send the cards
 *   GET  /api/couriers/zones              the delivery zones' polygons
 *   GET  /api/deliveries/{id}/proof       the photo proof, fetched from the Bot API
 *                                         (getFile, then the file) and passed through
 * Reads are open to every staff role; assignment to operators and admins.
 * Dates are Moscow days; `from` alone names the day (default today).
 *
 * Exports: web_dash_couriers_register.
 * Threads: registration on the main thread; handlers on civetweb threads
 * (blocking libpq and curl are fine there); the wake-up callback is called
 * from them.
 */
#include "web_dash.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <civetweb.h>
#include <curl/curl.h>

#include "rt.h"
#include "rt_log.h"
#include "texts.h"
#include "web_dash_params.h"

#define COURIERS_ASSIGN_MAX 200
#define PROOF_MAX_BYTES (10u << 20)

static web_dash_couriers_cfg_t cr_cfg;   /* written before the server starts */

static int cr_fail(web_req_t *req, web_dash_ctx_t *c)
{
    web_dash_end(c);
    return web_dash_error(req, 503, text_get(T_DASH_E_DB), NULL);
}

/* The day a request names (`from`, default today in Moscow), or answers 400. */
static int cr_day(web_req_t *req, char day[11])
{
    web_dash_query_t q;
    const char *field = NULL;
    text_id_t err;
    if (web_dash_query_parse(req->query, time(NULL), &q, &field, &err) != RT_OK) {
        web_dash_error(req, 400, text_get(err), field);
        return RT_EINVAL;
    }
    memcpy(day, q.dates_given ? q.from : q.to, 11);
    return RT_OK;
}

/* One JSON-producing query answered as {"<name>": [...]}. */
static int cr_list(web_req_t *req, unsigned roles, const char *name, const char *sql, bool by_day)
{
    char day[11] = "";
    if (by_day && cr_day(req, day) != RT_OK) return RT_OK;
    web_dash_ctx_t c;
    if (web_dash_begin(req, roles, &c) != RT_OK) return RT_OK;
    const char *p[] = {day};
    PGresult *r = web_dash_exec(&c, sql, by_day ? 1 : 0, p);
    if (!r) return cr_fail(req, &c);
    web_dash_end(&c);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, name, web_dash_json_rows(r));
    PQclear(r);
    return web_dash_cjson(req, 200, o);
}

static int cr_live(web_req_t *req)
{
    return cr_list(req, WEB_DASH_ANY, "couriers",
                   "SELECT courier_live(id)::text FROM couriers"
                   " WHERE on_shift OR last_at > now() - interval '1 day' ORDER BY name, id", false);
}

static int cr_zones(web_req_t *req)
{
    web_dash_ctx_t c;
    if (web_dash_begin(req, WEB_DASH_ANY, &c) != RT_OK) return RT_OK;
    PGresult *r = web_dash_exec(&c,
        "SELECT json_build_object('id', id, 'name', name, 'polygon',"
        "   (SELECT json_agg(json_build_array(split_part(p, ',', 1)::float8, split_part(p, ',', 2)::float8))"
        "      FROM unnest(string_to_array(polygon, ';')) p))::text"
        "  FROM delivery_zones WHERE active ORDER BY id", 0, NULL);
    if (!r) return cr_fail(req, &c);
    web_dash_end(&c);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "zones", web_dash_json_rows(r));
    PQclear(r);
    /* the map's tiles; OpenStreetMap's require their attribution */
    const char *tiles = cr_cfg.map_tiles ? cr_cfg.map_tiles : "";
    cJSON_AddStringToObject(o, "tiles", tiles);
    cJSON_AddStringToObject(o, "attribution", strstr(tiles, "openstreetmap.org") ? text_get(T_CRD_OSM) : "");
    return web_dash_cjson(req, 200, o);
}

static int cr_deliveries(web_req_t *req)
{
    return cr_list(req, WEB_DASH_ANY, "deliveries",
                   "SELECT json_build_object('id', d.id, 'posting', d.posting_number, 'stage', d.stage,"
                   "         'courier', d.courier_id, 'lat', d.lat, 'lon', d.lon, 'address', d.address,"
                   "         'zone', d.zone_id, 'slot', to_char(d.slot_start, 'HH24:MI') || '–' || to_char(d.slot_end, 'HH24:MI'),"
                   "         'locked', d.locked, 'proof', d.proof_file_id IS NOT NULL,"
                   "         'failed_attempts', d.failed_attempts)::text"
                   "  FROM deliveries d WHERE d.status = 'ordered' AND d.slot_date = $1::date"
                   " ORDER BY d.slot_start, d.id LIMIT 2000", true);
}

static int cr_load(web_req_t *req)
{
    return cr_list(req, WEB_DASH_ANY, "couriers",
                   "SELECT json_build_object('id', c.id, 'name', c.name, 'state', courier_live(c.id)->'state',"
                   "   'done', count(d.id) FILTER (WHERE d.stage = 'delivered'),"
                   "   'failed', count(d.id) FILTER (WHERE d.stage = 'failed'),"
                   "   'left', count(d.id) FILTER (WHERE d.stage IN ('assigned', 'picked', 'en_route')),"
                   "   'km', (SELECT round(coalesce(sum(s.km), 0)::numeric, 1) FROM courier_shifts s"
                   "           WHERE s.courier_id = c.id AND (s.started_at AT TIME ZONE 'Europe/Moscow')::date = $1::date),"
                   "   'shift_s', (SELECT coalesce(sum(extract(epoch FROM coalesce(s.ended_at, now()) - s.started_at)), 0)::bigint"
                   "           FROM courier_shifts s"
                   "           WHERE s.courier_id = c.id AND (s.started_at AT TIME ZONE 'Europe/Moscow')::date = $1::date))::text"
                   "  FROM couriers c LEFT JOIN deliveries d ON d.courier_id = c.id AND d.slot_date = $1::date"
                   "   AND d.status = 'ordered'"
                   " GROUP BY c.id ORDER BY c.name, c.id", true);
}

/* /api/couriers/{id}/track */
static int cr_track(web_req_t *req, const char *id)
{
    char day[11];
    if (cr_day(req, day) != RT_OK) return RT_OK;
    web_dash_ctx_t c;
    if (web_dash_begin(req, WEB_DASH_ANY, &c) != RT_OK) return RT_OK;
    const char *p[] = {id, day};
    PGresult *r = web_dash_exec(&c,
        "SELECT json_build_array(lat, lon, msk_rfc3339(at))::text FROM courier_points"
        " WHERE courier_id = $1::int AND at >= ($2::date::timestamp AT TIME ZONE 'Europe/Moscow')"
        "   AND at < (($2::date + 1)::timestamp AT TIME ZONE 'Europe/Moscow') ORDER BY at, id LIMIT 20000", 2, p);
    if (!r) return cr_fail(req, &c);
    web_dash_end(&c);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "courier", atof(id));
    cJSON_AddStringToObject(o, "date", day);
    cJSON_AddItemToObject(o, "points", web_dash_json_rows(r));
    PQclear(r);
    return web_dash_cjson(req, 200, o);
}

static bool cr_is_id(const char *s, size_t n)
{
    if (n == 0 || n > 12 || s[0] == '0') return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9') return false;
    return true;
}

static int cr_get(web_req_t *req)
{
    const char *path = req->ri->local_uri;
    if (strcmp(path, "/api/couriers") == 0) return cr_load(req);
    if (strcmp(path, "/api/couriers/live") == 0) return cr_live(req);
    if (strcmp(path, "/api/couriers/deliveries") == 0) return cr_deliveries(req);
    if (strcmp(path, "/api/couriers/zones") == 0) return cr_zones(req);
    const char *rest = path + strlen("/api/couriers/");
    const char *slash = strchr(rest, '/');
    if (strncmp(path, "/api/couriers/", 14) == 0 && slash && strcmp(slash, "/track") == 0 &&
        cr_is_id(rest, (size_t)(slash - rest))) {
        char id[16];
        snprintf(id, sizeof id, "%.*s", (int)(slash - rest), rest);
        return cr_track(req, id);
    }
    return web_dash_error(req, 404, text_get(T_CRD_E_NOT_FOUND), NULL);
}

/* ---- manual assignment ------------------------------------------------------------ */

static int cr_assign(web_req_t *req)
{
    if (strcmp(req->ri->local_uri, "/api/couriers/assign") != 0)
        return web_dash_error(req, 404, text_get(T_CRD_E_NOT_FOUND), NULL);
    web_dash_ctx_t c;
    if (web_dash_begin(req, WEB_DASH_OPERATOR | WEB_DASH_ADMIN, &c) != RT_OK) return RT_OK;
    char *body = NULL;
    size_t len = 0;
    if (web_read_body(req, 64 * 1024, &body, &len) != RT_OK) {
        web_dash_end(&c);
        return web_dash_error(req, 400, text_get(T_DASH_E_BAD_JSON), NULL);
    }
    cJSON *j = cJSON_ParseWithLength(body, len);
    free(body);
    const cJSON *ids = cJSON_GetObjectItemCaseSensitive(j, "deliveries");
    const cJSON *courier = cJSON_GetObjectItemCaseSensitive(j, "courier");
    int n = cJSON_GetArraySize(ids);
    const char *bad = !cJSON_IsObject(j) ? "body" : !cJSON_IsArray(ids) || n < 1 || n > COURIERS_ASSIGN_MAX ? "deliveries"
                      : !cJSON_IsNumber(courier) || courier->valuedouble < 1 || courier->valuedouble > 2e9 ? "courier"
                                                                                                            : NULL;
    const cJSON *it;
    cJSON_ArrayForEach(it, ids)
        if (!bad && (!cJSON_IsNumber(it) || it->valuedouble < 1 || it->valuedouble > 9e15)) bad = "deliveries";
    if (bad) {
        cJSON_Delete(j);
        web_dash_end(&c);
        return web_dash_error(req, 400, text_get(T_CRD_E_FIELD), bad);
    }
    /* {1,2,3} as a bigint[] literal; the statement does the rest in one transaction */
    char arr[COURIERS_ASSIGN_MAX * 20 + 8], courier_s[24];
    size_t k = (size_t)snprintf(arr, sizeof arr, "{");
    cJSON_ArrayForEach(it, ids) k += (size_t)snprintf(arr + k, sizeof arr - k, "%s%lld", k > 1 ? "," : "",
                                                      (long long)it->valuedouble);
    snprintf(arr + k, sizeof arr - k, "}");
    snprintf(courier_s, sizeof courier_s, "%lld", (long long)courier->valuedouble);
    cJSON_Delete(j);
    const char *p[] = {arr, courier_s, text_get(T_CR_REASSIGNED), c.s.login};
    PGresult *r = web_dash_exec(&c,
        "WITH a AS (SELECT d.id, d.posting_number, delivery_assign(d.id, $2::int) AS prev"
        "             FROM deliveries d WHERE d.id = ANY($1::bigint[]) ORDER BY d.id),"
        "     n AS (INSERT INTO tg_outbox (chat_id, method, params, prio, dedupe_key)"
        "           SELECT a.prev, 'sendMessage', json_build_object('chat_id', a.prev, 'parse_mode', 'HTML',"
        "                    'text', format($3, a.posting_number))::text, 0,"
        "                  'reassigned:' || a.id || ':' || (SELECT card_gen FROM deliveries WHERE id = a.id)"
        "             FROM a WHERE a.prev > 0 ON CONFLICT (dedupe_key) DO NOTHING),"
        "     l AS (INSERT INTO audit_log (actor, action, object_type, object_id, details)"
        "           SELECT 'web:' || $4, 'courier_assigned', 'delivery', a.id::text,"
        "                  jsonb_build_object('courier', $2::int, 'ok', a.prev >= 0) FROM a)"
        " SELECT count(*) FILTER (WHERE prev >= 0), count(*) FROM a", 4, p);
    if (!r) return cr_fail(req, &c);
    web_dash_end(&c);
    long assigned = atol(PQgetvalue(r, 0, 0)), found = atol(PQgetvalue(r, 0, 1));
    PQclear(r);
    if (assigned > 0 && cr_cfg.on_assigned) cr_cfg.on_assigned(cr_cfg.arg);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "assigned", (double)assigned);
    cJSON_AddNumberToObject(o, "refused", (double)(n - assigned));
    cJSON_AddNumberToObject(o, "unknown", (double)(n - found));
    return web_dash_cjson(req, 200, o);
}

/* ---- the proof photo ------------------------------------------------------------------ */

typedef struct cr_buf { char *p; size_t n; bool too_big; } cr_buf_t;

static size_t cr_write(char *d, size_t sz, size_t nm, void *u)
{
    cr_buf_t *b = u;
    size_t n = sz * nm;
    if (b->n + n > PROOF_MAX_BYTES) { b->too_big = true; return 0; }
    char *p = realloc(b->p, b->n + n + 1);
    if (!p) return 0;
    memcpy(p + b->n, d, n);
    b->p = p;
    b->n += n;
    p[b->n] = '\0';
    return n;
}

static int cr_fetch(const char *url, cr_buf_t *b)
{
    CURL *c = curl_easy_init();
    if (!c) return RT_ENOMEM;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, cr_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 4L);   /* two fetches stay inside the request deadline */
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    return rc == CURLE_OK && status == 200 ? RT_OK : RT_EIO;
}

static int cr_proof(web_req_t *req)
{
    const char *path = req->ri->local_uri, *rest = path + strlen("/api/deliveries/");
    const char *slash = strchr(rest, '/');
    if (!slash || strcmp(slash, "/proof") != 0 || !cr_is_id(rest, (size_t)(slash - rest)))
        return web_dash_error(req, 404, text_get(T_CRD_E_NOT_FOUND), NULL);
    char id[16];
    snprintf(id, sizeof id, "%.*s", (int)(slash - rest), rest);
    web_dash_ctx_t c;
    if (web_dash_begin(req, WEB_DASH_ANY, &c) != RT_OK) return RT_OK;
    const char *p[] = {id};
    PGresult *r = web_dash_exec(&c, "SELECT proof_file_id FROM deliveries WHERE id = $1::bigint AND proof_file_id IS NOT NULL",
                           1, p);
    if (!r) return cr_fail(req, &c);
    web_dash_end(&c);
    if (PQntuples(r) == 0 || !cr_cfg.tg_api || !cr_cfg.tg_token) {
        PQclear(r);
        return web_dash_error(req, 404, text_get(T_CRD_E_NOT_FOUND), NULL);
    }
    char *file_id = curl_easy_escape(NULL, PQgetvalue(r, 0, 0), 0);
    PQclear(r);
    char url[2048];
    snprintf(url, sizeof url, "%s/bot%s/getFile?file_id=%s", cr_cfg.tg_api, cr_cfg.tg_token, file_id ? file_id : "");
    curl_free(file_id);
    cr_buf_t meta = {0}, img = {0};
    const char *file_path = NULL;
    cJSON *j = NULL;
    if (cr_fetch(url, &meta) == RT_OK && (j = cJSON_Parse(meta.p)))
        file_path = cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "result"), "file_path"));
    int rc;
    if (file_path && !strstr(file_path, "..")) {
        snprintf(url, sizeof url, "%s/file/bot%s/%s", cr_cfg.tg_api, cr_cfg.tg_token, file_path);
        rc = cr_fetch(url, &img);
    } else {
        rc = RT_EIO;
    }
    cJSON_Delete(j);
    free(meta.p);
    if (rc != RT_OK) {
        free(img.p);
        LOG_WARN("dash_proof_fetch_failed", "delivery=%s", id);
        return web_dash_error(req, 502, text_get(T_CRD_E_PROOF), NULL);
    }
    rc = web_reply(req, 200, "image/jpeg", web_dash_headers(), img.p, img.n);
    free(img.p);
    return rc;
}

int web_dash_couriers_register(const web_dash_couriers_cfg_t *cfg)
{
    cr_cfg = *cfg;
    int rc;
    if ((rc = web_route_add("GET", "/api/couriers", cr_get)) != RT_OK) return rc;
    if ((rc = web_route_add("POST", "/api/couriers", cr_assign)) != RT_OK) return rc;
    return web_route_add("GET", "/api/deliveries", cr_proof);
}
