/* web_dash_auth.c — sessions, roles, CSRF and the security headers of every
 * dashboard route (see web_dash.h).
 *
 * Purpose: the cookie plus7_session holds 32 random bytes as 64 hex
 * characters; the database keeps only their SHA-256 (staff_sessions), so a
 * leaked table opens no session. A lookup also stamps last_seen, in the
 * same statement, and refuses a session idle longer than the timeout or
 * whose account is disabled. The CSRF token is compared in constant time.
 *
 * Exports: web_dash_register, web_dash_cfg, web_dash_begin, web_dash_end,
 * web_dash_headers, web_dash_json, web_dash_cjson, web_dash_error,
 * web_dash_sha256_hex, web_dash_random_hex, web_dash_client_address.
 * Threads: register on the main thread; the rest on civetweb threads.
 */
#include "web_dash.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <civetweb.h>
#include <sodium.h>

#include "rt.h"
#include "rt_log.h"
#include "texts.h"
#include "web_db.h"
#include "web_pq.h"

#define WEB_DASH_DB_WAIT_MS 2000

/* Written once on the main thread before the server starts (thread
 * creation orders it before every read); read-only afterwards. */
static web_dash_cfg_t g_cfg = {.idle_timeout_s = 8 * 3600, .report_hour = -1};
static char g_public_url[512];
static char g_tmpdir[256] = "/tmp";

static const char g_headers[] =
    "Cache-Control: no-store\r\n"
    "Content-Security-Policy: default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; connect-src 'self' ws: wss:; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'\r\n"
    "X-Frame-Options: DENY\r\n"
    "Referrer-Policy: no-referrer\r\n";

/* Contract: see web_dash.h. */
const web_dash_cfg_t *web_dash_cfg(void)
{
    return &g_cfg;
}

/* Contract: see web_dash.h. */
const char *web_dash_headers(void)
{
    return g_headers;
}

/* Contract: see web_dash.h. */
int web_dash_register(const web_dash_cfg_t *cfg)
{
    if (!cfg || sodium_init() < 0) return RT_EINVAL;
    g_cfg = *cfg;
    snprintf(g_public_url, sizeof g_public_url, "%s", cfg->public_url ? cfg->public_url : "http://127.0.0.1:8080");
    size_t n = strlen(g_public_url);
    while (n && g_public_url[n - 1] == '/') g_public_url[--n] = '\0';
    g_cfg.public_url = g_public_url;
    const char *tmp = cfg->tmpdir ? cfg->tmpdir : getenv("TMPDIR");
    if (tmp && *tmp) snprintf(g_tmpdir, sizeof g_tmpdir, "%s", tmp);
    g_cfg.tmpdir = g_tmpdir;
    if (g_cfg.idle_timeout_s <= 0) g_cfg.idle_timeout_s = 8 * 3600;
    int rc;
    if ((rc = web_dash_session_register()) != RT_OK) return rc;
    if ((rc = web_dash_orders_register()) != RT_OK) return rc;
    if ((rc = web_dash_analytics_register()) != RT_OK) return rc;
    if ((rc = web_dash_live_register()) != RT_OK) return rc;
    return web_dash_export_register();
}

/* Contract: see web_dash.h. */
void web_dash_sha256_hex(const void *data, size_t n, char out[65])
{
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, data, n);
    sodium_bin2hex(out, 65, h, sizeof h);
}

/* Contract: see web_dash.h. */
void web_dash_random_hex(size_t nbytes, char *out)
{
    unsigned char b[64];
    if (nbytes > sizeof b) nbytes = sizeof b;
    randombytes_buf(b, nbytes);
    sodium_bin2hex(out, 2 * nbytes + 1, b, nbytes);
    sodium_memzero(b, sizeof b);
}

/* Contract: see web_dash.h. */
const char *web_dash_client_address(web_req_t *req)
{
    return req->ri && req->ri->remote_addr[0] ? req->ri->remote_addr : "unknown";
}

/* Contract: see web_dash.h. '<', '>' and '&' can only occur inside JSON
 * strings, so they are rewritten as \u003c, \u003e, \u0026: the body stays
 * inert even where something would sniff it as HTML. */
int web_dash_json(web_req_t *req, int status, const char *json)
{
    size_t n = 0;
    for (const char *p = json; *p; p++) n += (*p == '<' || *p == '>' || *p == '&') ? 6 : 1;
    char *out = malloc(n + 1), *o = out;
    if (!out) return RT_ENOMEM;
    for (const char *p = json; *p; p++) {
        if (*p == '<' || *p == '>' || *p == '&') o += sprintf(o, "\\u%04x", (unsigned)*p);
        else *o++ = *p;
    }
    *o = '\0';
    int rc = web_reply(req, status, "application/json", g_headers, out, n);
    free(out);
    return rc;
}

/* Contract: see web_dash.h. */
/* Contract: see web_dash.h. */
cJSON *web_dash_json_rows(PGresult *r)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < PQntuples(r); i++) {
        cJSON *v = cJSON_Parse(PQgetvalue(r, i, 0));
        if (v) cJSON_AddItemToArray(a, v);
    }
    return a;
}

int web_dash_cjson(web_req_t *req, int status, cJSON *body)
{
    char *s = body ? cJSON_PrintUnformatted(body) : NULL;
    cJSON_Delete(body);
    if (!s) return RT_ENOMEM;
    int rc = web_dash_json(req, status, s);
    free(s);
    return rc;
}

/* Contract: see web_dash.h. */
int web_dash_error(web_req_t *req, int status, const char *error, const char *field)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "error", error ? error : "error");
    if (field) cJSON_AddStringToObject(o, "field", field);
    return web_dash_cjson(req, status, o);
}

/* The plus7_session cookie's value if it is 64 hex characters. */
static bool web_dash_cookie_token(web_req_t *req, char out[65])
{
    const char *h = web_req_header(req, "Cookie");
    while (h && *h) {
        while (*h == ' ' || *h == ';') h++;
        const char *end = strchr(h, ';');
        size_t len = end ? (size_t)(end - h) : strlen(h);
        static const char name[] = "plus7_session=";
        if (len == sizeof name - 1 + 64 && strncmp(h, name, sizeof name - 1) == 0) {
            const char *v = h + sizeof name - 1;
            bool hex = true;
            for (int i = 0; i < 64 && hex; i++)
                hex = (v[i] >= '0' && v[i] <= '9') || (v[i] >= 'a' && v[i] <= 'f');
            if (hex) {
                memcpy(out, v, 64);
                out[64] = '\0';
                return true;
            }
        }
        h = end;
    }
    return false;
}

static bool web_dash_state_changing(const char *m)
{
    return strcmp(m, "POST") == 0 || strcmp(m, "PUT") == 0 || strcmp(m, "PATCH") == 0 ||
           strcmp(m, "DELETE") == 0;
}

static unsigned web_dash_role_bit(const char *role)
{
    if (strcmp(role, "operator") == 0) return WEB_DASH_OPERATOR;
    if (strcmp(role, "manager") == 0) return WEB_DASH_MANAGER;
    if (strcmp(role, "admin") == 0) return WEB_DASH_ADMIN;
    return 0;
}

/* Contract: see web_dash.h. */
PGresult *web_dash_exec(web_dash_ctx_t *c, const char *sql, int n, const char *const *p)
{
    int64_t left = (int64_t)c->deadline_ms - (int64_t)rt_now_ms();
    PGresult *r = NULL;
    int rc = left > 0 ? web_pq_exec(c->db, sql, n, p, (int)left, &r) : RT_ETIMEDOUT;
    if (rc != RT_OK) {
        LOG_WARN("dash_query_failed", "error=%s", rt_strerror(rc));
        c->broken = true;
        return NULL;
    }
    ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) return r;
    char msg[256];
    LOG_WARN("dash_query_failed", "error=\"%s\"", rt_log_value(msg, sizeof msg, PQresultErrorMessage(r)));
    PQclear(r);
    c->broken = c->broken || PQstatus(c->db) != CONNECTION_OK;
    return NULL;
}

/* Contract: see web_dash.h. */
int web_dash_begin(web_req_t *req, unsigned roles, web_dash_ctx_t *c)
{
    memset(c, 0, sizeof *c);
    c->deadline_ms = req->deadline_ms;
    char token[65];
    if (!web_dash_cookie_token(req, token)) {
        web_dash_error(req, 401, text_get(T_DASH_E_NEED_SIGNIN), NULL);
        return RT_EINVAL;
    }
    c->db = web_db_acquire(WEB_DASH_DB_WAIT_MS);
    if (!c->db) {
        web_dash_error(req, 503, text_get(T_DASH_E_DB), NULL);
        return RT_EINVAL;
    }
    web_dash_sha256_hex(token, 64, c->s.token_hash);
    char idle[16];
    snprintf(idle, sizeof idle, "%d", g_cfg.idle_timeout_s);
    const char *p[] = {c->s.token_hash, idle};
    PGresult *r = web_dash_exec(c,
        "UPDATE staff_sessions s SET last_seen = now() FROM staff_users u"
        " WHERE s.token_hash = $1 AND u.id = s.user_id AND u.disabled_at IS NULL"
        "   AND s.last_seen > now() - make_interval(secs => $2::int)"
        " RETURNING u.id, u.login, u.role, s.csrf",
        2, p);
    if (!r) {
        web_dash_end(c);
        web_dash_error(req, 503, text_get(T_DASH_E_DB), NULL);
        return RT_EINVAL;
    }
    if (PQntuples(r) != 1) {
        PQclear(r);
        web_dash_end(c);
        web_dash_error(req, 401, text_get(T_DASH_E_SESSION_EXPIRED), NULL);
        return RT_EINVAL;
    }
    c->s.user_id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    snprintf(c->s.login, sizeof c->s.login, "%s", PQgetvalue(r, 0, 1));
    snprintf(c->s.role, sizeof c->s.role, "%s", PQgetvalue(r, 0, 2));
    snprintf(c->s.csrf, sizeof c->s.csrf, "%s", PQgetvalue(r, 0, 3));
    PQclear(r);
    if (web_dash_state_changing(req->method)) {
        const char *got = web_req_header(req, "X-CSRF-Token");
        size_t n = strlen(c->s.csrf);
        if (!got || strlen(got) != n || sodium_memcmp(got, c->s.csrf, n) != 0) {
            web_dash_end(c);
            web_dash_error(req, 403, text_get(T_DASH_E_CSRF), "X-CSRF-Token");
            return RT_EINVAL;
        }
    }
    if (!(web_dash_role_bit(c->s.role) & roles)) {
        web_dash_end(c);
        web_dash_error(req, 403, text_get(T_DASH_E_ROLE), NULL);
        return RT_EINVAL;
    }
    return RT_OK;
}

/* Contract: see web_dash.h. */
void web_dash_end(web_dash_ctx_t *c)
{
    if (c->db) web_db_release(c->db, c->broken || PQstatus(c->db) != CONNECTION_OK);
    c->db = NULL;
}
