/* web_dash.h — the dashboard API: shared pieces of the web_dash_*.c files.
 *
 * Purpose: every /api/ route of the dashboard (sessions, orders, zones,
 * analytics, exports, the live websocket) starts with web_dash_begin, which
 * borrows a database connection, finds the session from the plus7_session
 * cookie (401 without one), checks the role (403) and, for POST, PUT,
 * PATCH and DELETE, the X-CSRF-Token header (403 {"error":"csrf"}); and
 * answers with web_dash_json / web_dash_error, which add the dashboard's
 * security headers (CSP without inline script, frame-ancestors 'none',
 * nosniff, Referrer-Policy no-referrer, Cache-Control no-store).
 *
 *   static int zones_get(web_req_t *req) {
 *       web_dash_ctx_t c;
 *       if (web_dash_begin(req, WEB_DASH_ANY, &c) != RT_OK) return RT_OK;  // answered
 *       ... PQexecParams(c.db, ...) ...
 *       int rc = web_dash_json(req, 200, json);
 *       web_dash_end(&c);
 *       return rc;
 *   }
 *
 * Design note: docs/dashboard.md.
 *
 * Exports: web_dash_cfg_t, web_dash_role_t, WEB_DASH_* masks,
 * web_dash_session_t, web_dash_ctx_t, web_dash_register, web_dash_begin,
 * web_dash_end, web_dash_exec, web_dash_json, web_dash_cjson, web_dash_error,
 * web_dash_headers, web_dash_cfg, web_dash_sha256_hex, web_dash_random_hex,
 * web_dash_client_address, web_dash_json_rows, and each file's register
 * function.
 * Threads: web_dash_register on the main thread before web_server_start;
 * everything else on civetweb threads (blocking libpq through web_db).
 */
#ifndef PLUS7_WEB_DASH_H
#define PLUS7_WEB_DASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <libpq-fe.h>

#include "web_server.h"

typedef struct web_dash_cfg {
    const char *public_url;     /* PLUS7_PUBLIC_URL: https:// makes cookies Secure */
    int idle_timeout_s;         /* a session unused this long is dead (default 8 h) */
    int report_hour;            /* PLUS7_REPORT_HOUR 0..23 Moscow, -1 = no daily report */
    const char *tmpdir;         /* XLSX scratch files (default: $TMPDIR or /tmp) */
} web_dash_cfg_t;

typedef enum web_dash_role {
    WEB_DASH_OPERATOR = 1,
    WEB_DASH_MANAGER = 2,
    WEB_DASH_ADMIN = 4,
} web_dash_role_t;
#define WEB_DASH_ANY (WEB_DASH_OPERATOR | WEB_DASH_MANAGER | WEB_DASH_ADMIN)
#define WEB_DASH_ANALYST (WEB_DASH_MANAGER | WEB_DASH_ADMIN)

typedef struct web_dash_session {
    int64_t user_id;
    char login[72];
    char role[16];              /* "operator" | "manager" | "admin" */
    char csrf[72];              /* 64 hex characters */
    char token_hash[72];        /* hex SHA-256 of the cookie token */
} web_dash_session_t;

typedef struct web_dash_ctx {
    PGconn *db;                 /* borrowed from web_db until web_dash_end */
    bool broken;                /* set by web_dash_exec after a timeout or a broken connection */
    uint64_t deadline_ms;       /* rt_now_ms() time every statement must finish by */
    web_dash_session_t s;
} web_dash_ctx_t;

/* Register every dashboard route (sessions, me, zones, orders, analytics,
 * exports) with web_route_add; `cfg` is copied. Returns RT_OK or the
 * first error. Main thread, before web_server_start. */
int web_dash_register(const web_dash_cfg_t *cfg);

/* The configuration given to web_dash_register (read-only afterwards). */
const web_dash_cfg_t *web_dash_cfg(void);

/* Start of every protected route: borrow a connection (503 when the
 * database is unreachable), find a live session (401), check that its role
 * is in `roles` (403) and the CSRF header for state-changing methods
 * (403). Returns RT_OK with *c ready (release with web_dash_end), or
 * RT_EINVAL when it has already answered (the handler returns RT_OK). */
int web_dash_begin(web_req_t *req, unsigned roles, web_dash_ctx_t *c);

/* Give the connection back (idempotent). */
void web_dash_end(web_dash_ctx_t *c);

/* Run `sql` with n text parameters on c->db within the time left until
 * c->deadline_ms (web_pq_exec: non-blocking, bounded). Returns the result
 * when its status is PGRES_TUPLES_OK or PGRES_COMMAND_OK (caller
 * PQclears); NULL otherwise, logged, with c->broken set after a timeout or
 * a lost connection (web_dash_end then closes it). Any non-worker thread. */
PGresult *web_dash_exec(web_dash_ctx_t *c, const char *sql, int n, const char *const *p);

/* Rows whose first column is a JSON text (a query's json_build_object),
 * as a cJSON array of the parsed values; one that does not parse is left
 * out. */
cJSON *web_dash_json_rows(PGresult *r);

/* The security headers every dashboard response carries ("Name: value\r\n"
 * lines, no-store caching included). */
const char *web_dash_headers(void);

/* Reply with a JSON text / a cJSON tree (deleted here) and the security
 * headers; '<', '>' and '&' in strings go out as \u003c, \u003e, \u0026.
 * Returns web_reply's result (RT_ENOMEM when printing failed). */
int web_dash_json(web_req_t *req, int status, const char *json);
int web_dash_cjson(web_req_t *req, int status, cJSON *body);

/* Reply {"error":"<error>","field":"<field>"} (field left out when NULL)
 * with the security headers. */
int web_dash_error(web_req_t *req, int status, const char *error, const char *field);

/* Lower-case hex SHA-256 of n bytes (out: 65 bytes). */
void web_dash_sha256_hex(const void *data, size_t n, char out[65]);

/* 2 * nbytes random hex characters and a NUL (out: 2 * nbytes + 1 bytes),
 * from the kernel's CSPRNG. nbytes <= 64. */
void web_dash_random_hex(size_t nbytes, char *out);

/* The peer's address as text ("127.0.0.1"), for limits and the audit. */
const char *web_dash_client_address(web_req_t *req);

/* The analytics summary (GET /api/analytics/summary's body) of a parsed
 * query, built from the rollups on `db`. RT_OK with *out (caller deletes)
 * or RT_EIO (logged). Also the exports' sheet of KPIs and the daily report. */
struct web_dash_query;
int web_dash_summary(web_dash_ctx_t *c, const struct web_dash_query *q, cJSON **out);

/* The couriers' routes (web_dash_couriers.c), registered apart because
 * they need the Bot API (proof photos) and a way to wake the courier
 * dispatcher after a manual assignment (wire.c passes one). */
typedef struct web_dash_couriers_cfg {
    const char *tg_api;               /* Bot API base; NULL: proof photos unavailable */
    const char *tg_token;
    const char *map_tiles;            /* PLUS7_MAP_TILES, told to the map page */
    void (*on_assigned)(void *arg);   /* called after a manual assignment (any thread) */
    void *arg;
} web_dash_couriers_cfg_t;

/* Register /api/couriers… and /api/deliveries/{id}/proof; `cfg` is copied
 * (its strings must outlive the server). Main thread, before
 * web_server_start. */
int web_dash_couriers_register(const web_dash_couriers_cfg_t *cfg);

/* Register /api/payments (list, confirm, refund; web_dash_payments.c).
 * Main thread, before web_server_start. */
int web_dash_payments_register(void);

/* Per-file route registration (called by web_dash_register). */
int web_dash_session_register(void);
int web_dash_orders_register(void);
int web_dash_analytics_register(void);
int web_dash_export_register(void);
int web_dash_live_register(void);   /* plain GET /api/live: 401 / 426 */

#endif
