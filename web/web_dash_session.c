/* web_dash_session.c — signing in and out of the dashboard.
 *
 * Purpose: the session routes of DASHBOARD-CONTRACT / DESIGN.md "Dashboard":
 *   POST   /api/session        {"login","password"} -> 200 {"login","role","csrf"}
 *                              + cookie | 400 | 401 | 429 {"error","retry_after"}
 *   GET    /api/session/bot    ?token=T (a «🖥 Войти в панель» link) -> 303 Location: /
 *                              + cookie | 401
 *   GET    /api/me             -> {"login","role","csrf"} | 401
 *   DELETE /api/session        -> 204, cookie cleared (needs X-CSRF-Token)
 * Passwords are argon2id strings (crypto_pwhash_str) checked with
 * crypto_pwhash_str_verify; an unknown login is checked against a dummy
 * hash so both cost the same. Limits: 10 failures for one login or from one
 * address within 15 minutes make every attempt 429 until the window
 * passes; the attempts of one login (and of one address) are serialised
 * with transaction-level advisory locks, so parallel guesses cannot slip
 * past the count. Every sign-in, failure and sign-out is an audit_log row.
 *
 * Exports: web_dash_session_register.
 * Threads: civetweb worker threads.
 */
#include "web_dash.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <civetweb.h>
#include <sodium.h>

#include "rt.h"
#include "rt_log.h"
#include "texts.h"
#include "web_db.h"

#define SESS_MAX_BODY 4096
#define SESS_FAIL_LIMIT "10"
#define SESS_WINDOW_S "900"

/* Filled once by web_dash_session_register (main thread) before the
 * server starts; read-only afterwards. */
static char g_dummy_hash[crypto_pwhash_STRBYTES];


static bool sess_ok(PGresult *r)
{
    return r != NULL;   /* web_dash_exec logged anything else */
}

static void sess_cookie(char *out, size_t n, const char *token)
{
    bool secure = strncmp(web_dash_cfg()->public_url, "https://", 8) == 0;
    snprintf(out, n, "Set-Cookie: plus7_session=%s; Path=/; HttpOnly; SameSite=Strict%s%s\r\n", token,
             token[0] ? "" : "; Max-Age=0", secure ? "; Secure" : "");
}

/* Open a session for user `uid` in the caller's transaction: the cookie
 * token into tok (65), the CSRF token into csrf (65). */
static bool sess_open(web_dash_ctx_t *db, const char *uid, const char *via, const char *addr,
                      const char *login, char *tok, char *csrf)
{
    char hash[65];
    web_dash_random_hex(32, tok);
    web_dash_random_hex(32, csrf);
    web_dash_sha256_hex(tok, 64, hash);
    const char *p[] = {hash, uid, csrf, via, addr, login};
    PGresult *r = web_dash_exec(db,
        "WITH s AS (INSERT INTO staff_sessions (token_hash, user_id, csrf, via, address)"
        "           VALUES ($1, $2::bigint, $3, $4, $5) RETURNING user_id)"
        " INSERT INTO audit_log (actor, action, object_type, object_id, details)"
        " SELECT 'web:' || $6, 'sign_in', 'staff_user', s.user_id::text,"
        "        jsonb_build_object('via', $4::text, 'address', $5::text) FROM s",
        6, p);
    bool ok = r != NULL;
    PQclear(r);
    return ok;
}

static int sess_reply_signed_in(web_req_t *req, const char *login, const char *role, const char *csrf,
                                const char *tok)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "login", login);
    cJSON_AddStringToObject(o, "role", role);
    cJSON_AddStringToObject(o, "csrf", csrf);
    char *json = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!json) return RT_ENOMEM;
    char hdr[2048];
    sess_cookie(hdr, 256, tok);
    snprintf(hdr + strlen(hdr), sizeof hdr - strlen(hdr), "%s", web_dash_headers());
    int rc = web_reply(req, 200, "application/json", hdr, json, strlen(json));
    free(json);
    return rc;
}

/* Seconds until the 10th newest failure of this login or address leaves
 * the window; 0 when the attempt may proceed, -1 on a database error. */
static long sess_retry_after(web_dash_ctx_t *db, const char *login, const char *addr)
{
    const char *p[] = {login, addr};
    PGresult *r = web_dash_exec(db,
        "SELECT ceil(extract(epoch FROM greatest("
        "   (SELECT at FROM staff_signin_failures WHERE login = $1 AND at > now() - make_interval(secs => "
        SESS_WINDOW_S ") ORDER BY at DESC OFFSET " SESS_FAIL_LIMIT " - 1 LIMIT 1),"
        "   (SELECT at FROM staff_signin_failures WHERE address = $2 AND at > now() - make_interval(secs => "
        SESS_WINDOW_S ") ORDER BY at DESC OFFSET " SESS_FAIL_LIMIT " - 1 LIMIT 1))"
        "   + make_interval(secs => " SESS_WINDOW_S ") - now()))::bigint",
        2, p);
    long s = -1;
    if (r && PQntuples(r) == 1) {
        if (PQgetisnull(r, 0, 0)) s = 0;                      /* under the limit */
        else s = strtol(PQgetvalue(r, 0, 0), NULL, 10), s = s < 1 ? 1 : s;
    }
    PQclear(r);
    return s;
}

static int sess_post(web_req_t *req)
{
    char *body = NULL;
    size_t len = 0;
    int rc = web_read_body(req, SESS_MAX_BODY, &body, &len);
    if (rc == RT_EFULL) return web_dash_error(req, 413, text_get(T_DASH_E_BODY_TOO_LARGE), "body");
    if (rc != RT_OK) return web_dash_error(req, 400, text_get(T_DASH_E_BAD_JSON), "body");
    cJSON *j = cJSON_ParseWithLength(body, len);
    free(body);
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return web_dash_error(req, 400, text_get(T_DASH_E_BAD_JSON), "body");
    }
    const cJSON *jl = cJSON_GetObjectItemCaseSensitive(j, "login");
    const cJSON *jp = cJSON_GetObjectItemCaseSensitive(j, "password");
    if (!cJSON_IsString(jl) || !jl->valuestring[0] || strlen(jl->valuestring) > 64) {
        cJSON_Delete(j);
        return web_dash_error(req, 400, text_get(T_DASH_E_LOGIN), "login");
    }
    if (!cJSON_IsString(jp) || !jp->valuestring[0] || strlen(jp->valuestring) > 1024) {
        cJSON_Delete(j);
        return web_dash_error(req, 400, text_get(T_DASH_E_PASSWORD), "password");
    }
    const char *login = jl->valuestring, *password = jp->valuestring;
    const char *addr = web_dash_client_address(req);

    web_dash_ctx_t dbc = {.db = web_db_acquire(2000), .deadline_ms = req->deadline_ms}, *db = &dbc;
    if (!dbc.db) {
        cJSON_Delete(j);
        return web_dash_error(req, 503, text_get(T_DASH_E_DB), NULL);
    }
    const char *lp[] = {login, addr};
    PGresult *r = web_dash_exec(db, "BEGIN", 0, NULL);
    bool ok = sess_ok(r);
    PQclear(r);
    if (ok) {   /* logins first, then addresses: one lock order for everyone */
        r = web_dash_exec(db, "SELECT pg_advisory_xact_lock(hashtext('plus7.signin.login:' || $1)),"
                          "       pg_advisory_xact_lock(hashtext('plus7.signin.addr:' || $2))", 2, lp);
        ok = sess_ok(r);
        PQclear(r);
    }
    long retry = ok ? sess_retry_after(db, login, addr) : -1;
    if (retry != 0) {
        web_dash_end(db);
        cJSON_Delete(j);
        if (retry < 0) return web_dash_error(req, 503, text_get(T_DASH_E_DB), NULL);
        char json[256];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "error", text_get(T_DASH_E_TOO_MANY));
        cJSON_AddNumberToObject(o, "retry_after", (double)retry);
        cJSON_PrintPreallocated(o, json, sizeof json, 0);
        cJSON_Delete(o);
        char hdr[2048];
        snprintf(hdr, sizeof hdr, "Retry-After: %ld\r\n%s", retry, web_dash_headers());
        return web_reply(req, 429, "application/json", hdr, json, strlen(json));
    }

    const char *up[] = {login};
    r = web_dash_exec(db, "SELECT id, role, password_hash FROM staff_users"
                      " WHERE login = $1 AND disabled_at IS NULL AND password_hash IS NOT NULL", 1, up);
    ok = r != NULL;
    bool found = ok && PQntuples(r) == 1;
    char uid[24] = "", role[16] = "";
    const char *hash = g_dummy_hash;
    if (found) {
        snprintf(uid, sizeof uid, "%s", PQgetvalue(r, 0, 0));
        snprintf(role, sizeof role, "%s", PQgetvalue(r, 0, 1));
        hash = PQgetvalue(r, 0, 2);
    }
    bool good = ok && crypto_pwhash_str_verify(hash, password, strlen(password)) == 0 && found;
    PQclear(r);
    char tok[65] = "", csrf[65] = "";
    if (ok && good) {
        ok = sess_open(db, uid, "password", addr, login, tok, csrf);
    } else if (ok) {
        r = web_dash_exec(db,
            "WITH f AS (INSERT INTO staff_signin_failures (login, address) VALUES ($1, $2))"
            " INSERT INTO audit_log (actor, action, object_type, object_id, details)"
            " VALUES ('web:' || $1, 'sign_in_failed', 'staff_user', $1, jsonb_build_object('address', $2::text))",
            2, lp);
        ok = sess_ok(r);
        PQclear(r);
    }
    if (ok) {
        r = web_dash_exec(db, "COMMIT", 0, NULL);
        ok = sess_ok(r);
        PQclear(r);
    }
    web_dash_end(db);
    if (!ok) {
        cJSON_Delete(j);
        return web_dash_error(req, 503, text_get(T_DASH_E_DB), NULL);
    }
    if (!good) {
        LOG_INFO("dash_sign_in_failed", "address=%s", addr);
        cJSON_Delete(j);
        return web_dash_error(req, 401, text_get(T_DASH_E_WRONG_PASSWORD), NULL);
    }
    LOG_INFO("dash_sign_in", "login=\"%s\" role=%s via=password", login, role);
    rc = sess_reply_signed_in(req, login, role, csrf, tok);
    sodium_memzero(tok, sizeof tok);
    cJSON_Delete(j);
    return rc;
}

/* The token parameter of the query when it is 64 hex characters. */
static bool sess_bot_token(const char *query, char out[65])
{
    if (!query) return false;
    char v[80];
    int n = mg_get_var(query, strlen(query), "token", v, sizeof v);
    if (n != 64) return false;
    for (int i = 0; i < 64; i++)
        if (!((v[i] >= '0' && v[i] <= '9') || (v[i] >= 'a' && v[i] <= 'f'))) return false;
    memcpy(out, v, 65);
    return true;
}

static int sess_bot(web_req_t *req)
{
    char token[65], hash[65];
    if (!sess_bot_token(req->query, token)) return web_dash_error(req, 401, text_get(T_DASH_E_BAD_LINK), "token");
    web_dash_sha256_hex(token, 64, hash);
    web_dash_ctx_t dbc = {.db = web_db_acquire(2000), .deadline_ms = req->deadline_ms}, *db = &dbc;
    if (!dbc.db) return web_dash_error(req, 503, text_get(T_DASH_E_DB), NULL);
    PGresult *r = web_dash_exec(db, "BEGIN", 0, NULL);
    bool ok = sess_ok(r);
    PQclear(r);
    /* Spend the token and make sure its owner is (still) an operator or an
     * admin with a staff account 'tg:<id>' carrying that role. */
    const char *p[] = {hash};
    char uid[24] = "", login[72] = "", role[16] = "";
    if (ok) {
        r = web_dash_exec(db,
            "WITH t AS (UPDATE staff_bot_tokens SET used_at = now()"
            "            WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now()"
            "            RETURNING tg_user_id),"
            "     g AS (SELECT t.tg_user_id, gr.role FROM t JOIN users u ON u.tg_user_id = t.tg_user_id"
            "             JOIN role_grants gr ON gr.phone = u.phone WHERE gr.role IN ('operator', 'admin'))"
            " INSERT INTO staff_users (login, role, tg_user_id)"
            " SELECT 'tg:' || g.tg_user_id, g.role, g.tg_user_id FROM g"
            " ON CONFLICT (tg_user_id) DO UPDATE SET role = EXCLUDED.role, updated_at = now()"
            " RETURNING id, login, role, disabled_at IS NULL",
            1, p);
        ok = r != NULL;
        if (ok && PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 3), "t") == 0) {
            snprintf(uid, sizeof uid, "%s", PQgetvalue(r, 0, 0));
            snprintf(login, sizeof login, "%s", PQgetvalue(r, 0, 1));
            snprintf(role, sizeof role, "%s", PQgetvalue(r, 0, 2));
        }
        PQclear(r);
    }
    char tok[65] = "", csrf[65] = "";
    if (ok && uid[0]) ok = sess_open(db, uid, "bot", web_dash_client_address(req), login, tok, csrf);
    if (ok) {   /* a refused link is spent too: commit either way */
        r = web_dash_exec(db, "COMMIT", 0, NULL);
        ok = sess_ok(r);
        PQclear(r);
    }
    web_dash_end(db);
    if (!ok) return web_dash_error(req, 503, text_get(T_DASH_E_DB), NULL);
    if (!uid[0]) return web_dash_error(req, 401, text_get(T_DASH_E_BAD_LINK), "token");
    LOG_INFO("dash_sign_in", "login=\"%s\" role=%s via=bot", login, role);
    char hdr[2048];
    sess_cookie(hdr, 256, tok);
    sodium_memzero(tok, sizeof tok);
    snprintf(hdr + strlen(hdr), sizeof hdr - strlen(hdr), "Location: /\r\n%s", web_dash_headers());
    return web_reply(req, 303, NULL, hdr, NULL, 0);
}

static int sess_me(web_req_t *req)
{
    web_dash_ctx_t c;
    if (web_dash_begin(req, WEB_DASH_ANY, &c) != RT_OK) return RT_OK;
    web_dash_end(&c);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "login", c.s.login);
    cJSON_AddStringToObject(o, "role", c.s.role);
    cJSON_AddStringToObject(o, "csrf", c.s.csrf);
    return web_dash_cjson(req, 200, o);
}

static int sess_delete(web_req_t *req)
{
    web_dash_ctx_t c;
    if (web_dash_begin(req, WEB_DASH_ANY, &c) != RT_OK) return RT_OK;
    const char *p[] = {c.s.token_hash, c.s.login, web_dash_client_address(req)};
    PGresult *r = web_dash_exec(&c,
        "WITH d AS (DELETE FROM staff_sessions WHERE token_hash = $1 RETURNING user_id)"
        " INSERT INTO audit_log (actor, action, object_type, object_id, details)"
        " SELECT 'web:' || $2, 'sign_out', 'staff_user', d.user_id::text,"
        "        jsonb_build_object('address', $3::text) FROM d",
        3, p);
    bool ok = sess_ok(r);
    PQclear(r);
    web_dash_end(&c);
    if (!ok) return web_dash_error(req, 503, text_get(T_DASH_E_DB), NULL);
    LOG_INFO("dash_sign_out", "login=\"%s\"", c.s.login);
    char hdr[2048];
    sess_cookie(hdr, 256, "");
    snprintf(hdr + strlen(hdr), sizeof hdr - strlen(hdr), "%s", web_dash_headers());
    return web_reply(req, 204, NULL, hdr, NULL, 0);
}

/* Contract: see web_dash.h. */
int web_dash_session_register(void)
{
    /* a hash of random bytes nobody knows: unknown logins cost a verify too */
    char pw[33];
    web_dash_random_hex(16, pw);
    if (crypto_pwhash_str(g_dummy_hash, pw, strlen(pw), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
        return RT_ENOMEM;
    int rc;
    if ((rc = web_route_add("POST", "/api/session", sess_post)) != RT_OK) return rc;
    if ((rc = web_route_add("DELETE", "/api/session", sess_delete)) != RT_OK) return rc;
    if ((rc = web_route_add("GET", "/api/session/bot", sess_bot)) != RT_OK) return rc;
    return web_route_add("GET", "/api/me", sess_me);
}
