/* test_dash_api.c — the dashboard API end to end: staff accounts, sessions,
 * CSRF, sign-in limits, roles, the bot's sign-in link, the websocket feed,
 * the orders list and timeline, escaping and errors.
 *
 * The real plus7d (ASan build) + tgsim + PostgreSQL through
 * tests/e2e/e2e_harness, over real HTTP. Cases share one database and one
 * plus7d; each cleans the sign-in failures it made, since the limit per
 * address would otherwise lock the next case out.
 */
#include "t.h"

#include <math.h>
#include <sodium.h>

#include "dash_util.h"
#include "e2e_harness.h"
#include "texts.h"

#define WAIT_S 30.0
#define OPERATOR_UID 64001LL
#define OPERATOR_PHONE "+79490064001"
#define CLIENT_UID 64002LL
#define CLIENT_PHONE "+79490064002"
#define ADMIN_UID 64003LL
#define ADMIN_PHONE "+79490064003"
#define XSS "<img src=x onerror=alert(1)>"
#define LOGI_SECRET "dash-logistics-Secret_9-of-32-characters"

#define T_START() T_CHECK(e2e_p7_ensure() == 0)

static void users_once(void)
{
    static bool done;
    if (done) return;
    char out[2048];
    T_EQ_INT(dash_cli_user(DASH_PW "\n", "add adm admin", out, sizeof out), 0);
    T_EQ_INT(dash_cli_user(DASH_PW "\n", "add mgr manager", out, sizeof out), 0);
    T_EQ_INT(dash_cli_user(DASH_PW "\n", "add opr operator", out, sizeof out), 0);
    done = true;
}

static void clear_failures(void)
{
    T_CHECK(dash_db_exec("DELETE FROM staff_signin_failures") == 0);
}

static void expect_error(dash_resp_t *r, long status, const char *field)
{
    T_EQ_INT(r->status, status);
    T_CHECK(cJSON_IsString(cJSON_GetObjectItem(r->json, "error")));
    if (field) T_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItem(r->json, "field")), field);
}

T_CASE_TAGGED(cli_user_commands, "db")
{
    T_START();
    char out[4096];
    T_EQ_INT(dash_cli_user("short\n", "add shorty admin", out, sizeof out), 2);
    T_CHECK(strstr(out, "shorter than 12") != NULL);
    T_EQ_INT(dash_cli_user(DASH_PW "\n", "add bad:login admin", out, sizeof out), 2);
    T_EQ_INT(dash_cli_user(DASH_PW "\n", "add x1 superuser", out, sizeof out), 2);
    T_EQ_INT(dash_cli_user(NULL, "add nopw admin", out, sizeof out), 2);   /* empty stdin */
    users_once();
    T_EQ_INT(dash_cli_user(DASH_PW "\n", "add mgr admin", out, sizeof out), 2);
    T_CHECK(strstr(out, "already exists") != NULL);
    /* 12 Cyrillic characters are 24 bytes: characters count, not bytes */
    T_EQ_INT(dash_cli_user("абвгдеёжзийк\n", "add cyr manager", out, sizeof out), 0);
    char tok[65], csrf[65];
    T_EQ_INT(dash_sign_in("cyr", "абвгдеёжзийк", tok, csrf), 200);
    /* the stored password is an argon2id string, never the password */
    T_CHECK(strncmp(e2e_sqls("SELECT password_hash FROM staff_users WHERE login = 'cyr'", NULL), "$argon2id$", 10) == 0);
    T_EQ_INT(dash_cli_user(NULL, "list", out, sizeof out), 0);
    T_CHECK(strstr(out, "cyr") && strstr(out, "manager") && strstr(out, "active"));
    /* a new password ends the sessions; disable ends them too */
    T_EQ_INT(dash_cli_user("another long password\n", "passwd cyr", out, sizeof out), 0);
    dash_resp_t r = dash_http("GET", "/api/me", NULL, tok, NULL);
    T_EQ_INT(r.status, 401);
    dash_resp_free(&r);
    T_EQ_INT(dash_sign_in("cyr", "another long password", tok, csrf), 200);
    T_EQ_INT(dash_cli_user(NULL, "disable cyr", out, sizeof out), 0);
    r = dash_http("GET", "/api/me", NULL, tok, NULL);
    T_EQ_INT(r.status, 401);
    dash_resp_free(&r);
    T_EQ_INT(dash_sign_in("cyr", "another long password", tok, csrf), 401);
    T_EQ_INT(dash_cli_user(NULL, "passwd nobody", out, sizeof out), 2);
    clear_failures();
}

T_CASE_TAGGED(sign_in_me_sign_out, "db")
{
    T_START();
    users_once();
    dash_resp_t r = dash_http("POST", "/api/session", "{\"login\":\"mgr\",\"password\":\"" DASH_PW "\"}", NULL, NULL);
    T_EQ_INT(r.status, 200);
    char cookie[512], tok[65];
    T_CHECK(dash_header(&r, "Set-Cookie", cookie, sizeof cookie));
    T_CHECK(strstr(cookie, "HttpOnly") && strstr(cookie, "SameSite=Strict") && strstr(cookie, "Path=/"));
    T_CHECK(strstr(cookie, "Secure") == NULL);   /* PLUS7_PUBLIC_URL is http here */
    T_CHECK(dash_cookie_token(&r, tok));
    T_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItem(r.json, "role")), "manager");
    T_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItem(r.json, "login")), "mgr");
    char csrf[65];
    snprintf(csrf, sizeof csrf, "%s", cJSON_GetStringValue(cJSON_GetObjectItem(r.json, "csrf")));
    T_EQ_INT(strlen(csrf), 64);
    dash_resp_free(&r);
    /* only the token's hash is stored */
    char hash[65];
    unsigned char h[32];
    crypto_hash_sha256(h, (const unsigned char *)tok, 64);
    sodium_bin2hex(hash, sizeof hash, h, 32);
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM staff_sessions WHERE token_hash = $1", hash, NULL), 1);
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM staff_sessions WHERE token_hash = $1", tok, NULL), 0);

    r = dash_http("GET", "/api/me", NULL, tok, NULL);
    T_EQ_INT(r.status, 200);
    T_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItem(r.json, "login")), "mgr");
    T_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItem(r.json, "csrf")), csrf);
    char v[512];
    T_CHECK(dash_header(&r, "Content-Security-Policy", v, sizeof v));
    T_CHECK(strstr(v, "default-src 'self'") && strstr(v, "frame-ancestors 'none'") && !strstr(v, "unsafe-inline"));
    T_CHECK(dash_header(&r, "X-Content-Type-Options", v, sizeof v) && strcmp(v, "nosniff") == 0);
    T_CHECK(dash_header(&r, "Referrer-Policy", v, sizeof v) && strcmp(v, "no-referrer") == 0);
    dash_resp_free(&r);

    /* CSRF: a DELETE without the header or with a wrong one changes nothing */
    r = dash_http("DELETE", "/api/session", NULL, tok, NULL);
    expect_error(&r, 403, NULL);
    T_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItem(r.json, "error")), "csrf");
    dash_resp_free(&r);
    char wrong[65];
    snprintf(wrong, sizeof wrong, "%s", csrf);
    wrong[0] = wrong[0] == 'a' ? 'b' : 'a';
    r = dash_http("DELETE", "/api/session", NULL, tok, wrong);
    T_EQ_INT(r.status, 403);
    dash_resp_free(&r);
    r = dash_http("GET", "/api/me", NULL, tok, NULL);
    T_EQ_INT(r.status, 200);   /* still signed in */
    dash_resp_free(&r);
    r = dash_http("DELETE", "/api/session", NULL, tok, csrf);
    T_EQ_INT(r.status, 204);
    T_CHECK(dash_header(&r, "Set-Cookie", cookie, sizeof cookie) && strstr(cookie, "Max-Age=0"));
    dash_resp_free(&r);
    r = dash_http("GET", "/api/me", NULL, tok, NULL);
    T_EQ_INT(r.status, 401);
    dash_resp_free(&r);
    T_CHECK(e2e_sql_int("SELECT count(*) FROM audit_log WHERE actor = 'web:mgr' AND action = 'sign_in'", NULL) >= 1);
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM audit_log WHERE actor = 'web:mgr' AND action = 'sign_out'", NULL), 1);
}

T_CASE_TAGGED(sign_in_bad_input, "db")
{
    T_START();
    users_once();
    char tok[65], csrf[65];
    T_EQ_INT(dash_sign_in("mgr", "wrong password!!", tok, csrf), 401);
    T_EQ_INT(dash_sign_in("nobody-here", DASH_PW, tok, csrf), 401);
    dash_resp_t r = dash_http("POST", "/api/session", "{\"login\":\"mgr\"}", NULL, NULL);
    expect_error(&r, 400, "password");
    dash_resp_free(&r);
    r = dash_http("POST", "/api/session", "[1,2]", NULL, NULL);
    expect_error(&r, 400, "body");
    dash_resp_free(&r);
    r = dash_http("POST", "/api/session", "{\"login\":5,\"password\":\"x\"}", NULL, NULL);
    expect_error(&r, 400, "login");
    dash_resp_free(&r);
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM audit_log WHERE action = 'sign_in_failed'"
                         " AND object_id IN ('mgr', 'nobody-here')", NULL), 2);
    clear_failures();
}

T_CASE_TAGGED(sign_in_limits, "db")
{
    T_START();
    users_once();
    clear_failures();
    char tok[65], csrf[65];
    for (int i = 0; i < 10; i++) T_EQ_INT(dash_sign_in("adm", "not the password", tok, csrf), 401);
    /* the 11th attempt, even with the right password, is refused */
    dash_resp_t r = dash_http("POST", "/api/session", "{\"login\":\"adm\",\"password\":\"" DASH_PW "\"}", NULL, NULL);
    T_EQ_INT(r.status, 429);
    double retry = dash_json_num(r.json, "retry_after");
    T_CHECK(retry >= 1 && retry <= 900);
    char v[64];
    T_CHECK(dash_header(&r, "Retry-After", v, sizeof v));
    dash_resp_free(&r);
    /* ... until the window passes (the failures are moved 15 minutes back) */
    T_CHECK(dash_db_exec("UPDATE staff_signin_failures SET at = at - interval '15 minutes 1 second'") == 0);
    T_EQ_INT(dash_sign_in("adm", DASH_PW, tok, csrf), 200);
    clear_failures();
    /* per address: 10 failures spread over logins lock every login from it */
    for (int i = 0; i < 10; i++) {
        char login[16];
        snprintf(login, sizeof login, "ghost%d", i);
        T_EQ_INT(dash_sign_in(login, "not the password", tok, csrf), 401);
    }
    T_EQ_INT(dash_sign_in("mgr", DASH_PW, tok, csrf), 429);
    clear_failures();
    T_EQ_INT(dash_sign_in("mgr", DASH_PW, tok, csrf), 200);
}

/* Every dashboard route for every role: allowed (not 401/403) or refused. */
T_CASE_TAGGED(roles_per_route, "db")
{
    T_START();
    users_once();
    static const struct { const char *path; bool operator_ok; } routes[] = {
        {"/api/me", true}, {"/api/zones", true}, {"/api/orders", true}, {"/api/orders/12345678-0001-1", true},
        {"/api/analytics/summary", false}, {"/api/analytics/series", false}, {"/api/analytics/couriers", false},
        {"/api/export/orders.csv", false}, {"/api/export/orders.xlsx", false},
    };
    const char *logins[] = {"opr", "mgr", "adm"};
    for (int l = 0; l < 3; l++) {
        char tok[65], csrf[65];
        T_EQ_INT(dash_sign_in(logins[l], DASH_PW, tok, csrf), 200);
        for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
            dash_resp_t r = dash_http("GET", routes[i].path, NULL, tok, NULL);
            bool allowed = l > 0 || routes[i].operator_ok;
            if (allowed && (r.status == 401 || r.status == 403)) printf("# %s refused %s\n", logins[l], routes[i].path);
            if (!allowed && r.status != 403) printf("# %s got %ld on %s\n", logins[l], r.status, routes[i].path);
            T_CHECK(allowed ? (r.status == 200 || r.status == 404) : r.status == 403);
            dash_resp_free(&r);
        }
    }
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        dash_resp_t r = dash_http("GET", routes[i].path, NULL, NULL, NULL);
        T_EQ_INT(r.status, 401);
        T_CHECK(cJSON_IsString(cJSON_GetObjectItem(r.json, "error")));
        dash_resp_free(&r);
        r = dash_http("GET", routes[i].path, NULL, "0000000000000000000000000000000000000000000000000000000000000000", NULL);
        T_EQ_INT(r.status, 401);
        dash_resp_free(&r);
    }
    /* an idle session dies */
    char tok[65], csrf[65];
    T_EQ_INT(dash_sign_in("opr", DASH_PW, tok, csrf), 200);
    T_CHECK(dash_db_exec("UPDATE staff_sessions SET last_seen = now() - interval '9 hours'") == 0);
    dash_resp_t r = dash_http("GET", "/api/me", NULL, tok, NULL);
    T_EQ_INT(r.status, 401);
    dash_resp_free(&r);
}

/* The sign-in link: the token of a message's URL button. */
static bool link_token(const cJSON *m, char *out)
{
    const cJSON *rows = cJSON_GetObjectItem(cJSON_GetObjectItem(m, "reply_markup"), "inline_keyboard");
    const cJSON *row, *b;
    cJSON_ArrayForEach(row, rows) cJSON_ArrayForEach(b, row) {
        const char *u = cJSON_GetStringValue(cJSON_GetObjectItem(b, "url"));
        const char *t = u ? strstr(u, "/api/session/bot?token=") : NULL;
        if (t && strlen(t + 23) == 64) {
            memcpy(out, t + 23, 65);
            return strncmp(u, "http://dash.example.test", 24) == 0;
        }
    }
    return false;
}

/* A person registered in the bot (the users row the contact step writes),
 * whose /menu shows the dashboard button exactly when `staff`. */
static void register_person(long long uid, const char *name, const char *phone, bool staff)
{
    T_CHECK(e2e_user(uid, name, phone, true) == 0);
    char sql[256];
    snprintf(sql, sizeof sql, "INSERT INTO users (tg_user_id, chat_id, phone, first_name) VALUES (%lld, %lld, '%s', 'x')",
             uid, uid, phone);
    T_CHECK(dash_db_exec(sql) == 0);
    cJSON *sent = e2e_act(uid, "command", "{\"command\":\"menu\"}");
    T_CHECK(sent != NULL);
    cJSON_Delete(sent);
    cJSON *menu = e2e_reply(uid, WAIT_S);
    T_CHECK(menu != NULL);
    T_CHECK(e2e_kb_has(menu, text_get(T_BTN_DASHBOARD)) == staff);
    cJSON_Delete(menu);
}

T_CASE_TAGGED(bot_sign_in_link, "db tg")
{
    T_START();
    const char *role_args[] = {"role", OPERATOR_PHONE, "operator", NULL};
    T_EQ_INT(e2e_p7_run(role_args, NULL, 0), 0);
    register_person(OPERATOR_UID, "Оля", OPERATOR_PHONE, true);
    cJSON *m = e2e_say(OPERATOR_UID, "press_reply", text_get(T_BTN_DASHBOARD), WAIT_S);
    T_CHECK(m != NULL);
    T_EQ_STR(e2e_text(m), text_get(T_DASH_LINK));
    char token[65];
    T_CHECK(link_token(m, token));
    T_CHECK(strstr(e2e_text(m), token) == NULL);   /* never in the text */
    cJSON_Delete(m);
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM staff_bot_tokens WHERE token_hash = $1", token, NULL), 0);

    char path[160];
    snprintf(path, sizeof path, "/api/session/bot?token=%s", token);
    dash_resp_t r = dash_http("GET", path, NULL, NULL, NULL);
    T_EQ_INT(r.status, 303);
    char loc[64], tok[65];
    T_CHECK(dash_header(&r, "Location", loc, sizeof loc) && strcmp(loc, "/") == 0);
    T_CHECK(dash_cookie_token(&r, tok));
    dash_resp_free(&r);
    r = dash_http("GET", "/api/me", NULL, tok, NULL);
    T_EQ_INT(r.status, 200);
    T_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItem(r.json, "role")), "operator");
    T_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItem(r.json, "login")), "tg:64001");
    dash_resp_free(&r);
    /* used once: the second opening gets 401 and no session */
    r = dash_http("GET", path, NULL, NULL, NULL);
    T_EQ_INT(r.status, 401);
    T_CHECK(!dash_cookie_token(&r, tok));
    dash_resp_free(&r);

    /* expired: a link older than 5 minutes */
    m = e2e_say(OPERATOR_UID, "press_reply", text_get(T_BTN_DASHBOARD), WAIT_S);
    T_CHECK(m != NULL && link_token(m, token));
    cJSON_Delete(m);
    T_CHECK(dash_db_exec("UPDATE staff_bot_tokens SET expires_at = now() - interval '1 second' WHERE used_at IS NULL") == 0);
    snprintf(path, sizeof path, "/api/session/bot?token=%s", token);
    r = dash_http("GET", path, NULL, NULL, NULL);
    T_EQ_INT(r.status, 401);
    dash_resp_free(&r);
    /* a link whose owner lost the role opens nothing */
    m = e2e_say(OPERATOR_UID, "press_reply", text_get(T_BTN_DASHBOARD), WAIT_S);
    T_CHECK(m != NULL && link_token(m, token));
    cJSON_Delete(m);
    const char *demote[] = {"role", OPERATOR_PHONE, "client", NULL};
    T_EQ_INT(e2e_p7_run(demote, NULL, 0), 0);
    snprintf(path, sizeof path, "/api/session/bot?token=%s", token);
    r = dash_http("GET", path, NULL, NULL, NULL);
    T_EQ_INT(r.status, 401);
    dash_resp_free(&r);
    r = dash_http("GET", "/api/session/bot?token=zz", NULL, NULL, NULL);
    expect_error(&r, 401, "token");
    dash_resp_free(&r);

    /* a client has no such button; typing its text gets a hint, no link */
    register_person(CLIENT_UID, "Клиент", CLIENT_PHONE, false);
    m = e2e_say(CLIENT_UID, "text", text_get(T_BTN_DASHBOARD), WAIT_S);
    T_CHECK(m != NULL);
    T_EQ_STR(e2e_text(m), text_get(T_DASH_LINK_DENIED));
    T_CHECK(!e2e_kb_has(m, text_get(T_BTN_DASHBOARD)));
    cJSON_Delete(m);
}

/* Sign the body for the logistics webhook. */
static void logi_post(const char *body)
{
    unsigned char mac[32];
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)LOGI_SECRET, strlen(LOGI_SECRET));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, strlen(body));
    crypto_auth_hmacsha256_final(&st, mac);
    char hex[65], hdr[80];
    sodium_bin2hex(hex, sizeof hex, mac, sizeof mac);
    snprintf(hdr, sizeof hdr, "sha256=%s", hex);
    /* dash_http has no custom headers; the webhook gets its own request */
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "curl -s -o /dev/null -w '%%{http_code}' -X POST -H 'X-Plus7-Signature: %s'"
                              " -H 'Content-Type: application/json' --data-binary '%s' '%s/api/logistics/events'",
             hdr, body, e2e_p7_base());
    FILE *p = popen(cmd, "r");
    char code[8] = "";
    if (p) {
        if (!fgets(code, sizeof code, p)) code[0] = '\0';
        pclose(p);
    }
    T_EQ_STR(code, "200");
}

T_CASE_TAGGED(live_websocket, "db")
{
    T_START();
    users_once();
    dash_resp_t plain = dash_http("GET", "/api/live", NULL, NULL, NULL);
    T_EQ_INT(plain.status, 401);
    dash_resp_free(&plain);
    dash_ws_t ws = dash_ws_open(NULL);
    T_EQ_INT(ws.status, 401);   /* no session, no socket */
    dash_ws_close(&ws);
    char tok[65], csrf[65];
    T_EQ_INT(dash_sign_in("opr", DASH_PW, tok, csrf), 200);
    plain = dash_http("GET", "/api/live", NULL, tok, NULL);
    T_EQ_INT(plain.status, 426);
    dash_resp_free(&plain);
    ws = dash_ws_open(tok);
    T_EQ_INT(ws.status, 101);
    /* a status change through the real path: webhook -> order actor's
     * transaction -> pg_notify -> LISTEN -> every open page */
    logi_post("{\"events\":[{\"id\":\"dash-live-1\",\"posting_number\":\"55500001-0001-1\","
              "\"status\":\"in_transit\",\"at\":\"2026-11-30T10:00:00Z\"}]}");
    char frame[4096];
    bool got = false;
    double deadline = e2e_now() + 60;
    while (!got && e2e_now() < deadline && dash_ws_read_text(&ws, deadline - e2e_now(), frame, sizeof frame)) {
        cJSON *j = cJSON_Parse(frame);
        const cJSON *o = cJSON_GetObjectItem(j, "order");
        got = j && strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(j, "type")) ?: "", "order") == 0 &&
              strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(o, "posting")) ?: "", "55500001-0001-1") == 0;
        if (got) {
            T_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItem(o, "status")), "in_transit");
            T_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItem(o, "status_text")), "В пути");
        }
        cJSON_Delete(j);
    }
    T_CHECK(got);
    dash_ws_close(&ws);
}

T_CASE_TAGGED(orders_list_search_paging, "db")
{
    T_START();
    users_once();
    T_CHECK(dash_db_exec("SELECT dash_demo_orders(120, '8100')") == 0);
    char tok[65], csrf[65];
    T_EQ_INT(dash_sign_in("opr", DASH_PW, tok, csrf), 200);
    /* page through everything, 7 at a time: each order once, newest first */
    long long want = e2e_sql_int("SELECT count(*) FROM orders", NULL), seen = 0;
    char next[128] = "", prev_created[40] = "9999";
    for (int page = 0; page < 100; page++) {
        char path[256];
        snprintf(path, sizeof path, "/api/orders?limit=7%s%s", next[0] ? "&after=" : "", next);
        dash_resp_t r = dash_http("GET", path, NULL, tok, NULL);
        T_EQ_INT(r.status, 200);
        const cJSON *o;
        cJSON_ArrayForEach(o, cJSON_GetObjectItem(r.json, "orders")) {
            const char *c = cJSON_GetStringValue(cJSON_GetObjectItem(o, "created_at"));
            T_CHECK(c && strcmp(c, prev_created) <= 0);
            snprintf(prev_created, sizeof prev_created, "%s", c);
            seen++;
        }
        const char *n = cJSON_GetStringValue(cJSON_GetObjectItem(r.json, "next"));
        snprintf(next, sizeof next, "%s", n ? n : "");
        dash_resp_free(&r);
        if (!next[0]) break;
    }
    T_EQ_INT(seen, want);
    T_EQ_INT(e2e_sql_int("SELECT count(DISTINCT posting_number) FROM orders", NULL), want);

    /* search: posting prefix, phone in any form, name substring; filters */
    dash_resp_t r = dash_http("GET", "/api/orders?q=8100000011", NULL, tok, NULL);
    T_EQ_INT(cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "orders")), 1);
    dash_resp_free(&r);
    r = dash_http("GET", "/api/orders?q=8+(949)+300-00-11", NULL, tok, NULL);
    T_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(r.json, "orders"), 0), "posting")),
             "8100000011-0001-1");
    dash_resp_free(&r);
    r = dash_http("GET", "/api/orders?q=%D0%B0%D0%9D%D0%9D%D0%90&limit=200", NULL, tok, NULL);   /* «аННА» */
    long long anna = e2e_sql_int("SELECT count(*) FROM orders WHERE lower(addressee_name) LIKE '%анна%'"
                                 " OR lower(customer_name) LIKE '%анна%'", NULL);
    T_CHECK(anna > 0);
    T_EQ_INT(cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "orders")), anna);
    dash_resp_free(&r);
    r = dash_http("GET", "/api/orders?status=delivered&zone=2&limit=200", NULL, tok, NULL);
    T_EQ_INT(cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "orders")),
             e2e_sql_int("SELECT count(*) FROM orders o JOIN dash_order_facts f USING (posting_number)"
                         " WHERE o.status = 'delivered' AND f.zone_id = 2", NULL));
    dash_resp_free(&r);
    /* bad parameters name themselves */
    static const struct { const char *q, *field; } bad[] = {
        {"limit=0", "limit"}, {"limit=201", "limit"}, {"zone=abc", "zone"}, {"from=2026-02-30", "from"},
        {"status=lost", "status"}, {"after=garbage", "after"}, {"from=2026-05-01&to=2026-04-01", "from"},
        {"zone=1&zone=2", "zone"}, {"q=%FF%FE", "q"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char path[128];
        snprintf(path, sizeof path, "/api/orders?%s", bad[i].q);
        r = dash_http("GET", path, NULL, tok, NULL);
        expect_error(&r, 400, bad[i].field);
        dash_resp_free(&r);
    }
}

T_CASE_TAGGED(order_timeline_and_xss, "db")
{
    T_START();
    users_once();
    /* a parcel whose every outside text is an XSS payload */
    T_CHECK(dash_db_exec(
        "INSERT INTO orders (posting_number, status, status_at, status_source, addressee_name, addressee_phone,"
        "                    ozon_address, created_at)"
        " VALUES ('99900001-0001-1', 'created', now() - interval '2 days', 'logistics', '" XSS "', '+79490000999',"
        "         'г. Донецк, <script>alert(2)</script>', now() - interval '2 days');"
        "INSERT INTO order_history (posting_number, status, source, at, comment, applied) VALUES"
        " ('99900001-0001-1', 'created', 'logistics', now() - interval '2 days', NULL, true),"
        " ('99900001-0001-1', 'accepted', 'logistics', now() - interval '1 day', '\"><svg onload=alert(3)>', true);"
        "UPDATE orders SET status = 'accepted', status_at = now() - interval '1 day' WHERE posting_number = '99900001-0001-1';"
        "INSERT INTO notify_outbox (dedupe_key, posting_number, event, chat_id, channel, status, created_at, sent_at)"
        " VALUES ('x1', '99900001-0001-1', 'accepted', 1, 'telegram', 'sent', now() - interval '1 day', now() - interval '1 day');"
        "INSERT INTO runtime_reminders (kind, key, name, due_at) VALUES ('order', '99900001-0001-1', 'pickup_3', now() + interval '1 day');"
        "INSERT INTO broadcasts (created_by, chat_id, body, segment, status, started_at)"
        " VALUES (1, 1, 'Акция " XSS "', 'all', 'done', now() - interval '12 hours');"
        "INSERT INTO broadcast_recipients (broadcast_id, tg_user_id, chat_id, posting_number, state)"
        " SELECT id, 5, 5, '99900001-0001-1', 'sent' FROM broadcasts WHERE body LIKE 'Акция%';") == 0);
    char tok[65], csrf[65];
    T_EQ_INT(dash_sign_in("opr", DASH_PW, tok, csrf), 200);
    dash_resp_t r = dash_http("GET", "/api/orders/99900001-0001-1", NULL, tok, NULL);
    T_EQ_INT(r.status, 200);
    /* the payloads come back as JSON strings, with <, > and & escaped */
    T_CHECK(strchr(r.body, '<') == NULL && strchr(r.body, '>') == NULL);
    T_CHECK(strstr(r.body, "\\u003cimg src=x onerror=alert(1)\\u003e") != NULL);
    const cJSON *o = cJSON_GetObjectItem(r.json, "order");
    T_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItem(o, "client_name")), XSS);
    T_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItem(o, "status_text")), "Принят на склад");
    T_EQ_INT(dash_json_num(o, "zone"), 1);
    const cJSON *tl = cJSON_GetObjectItem(r.json, "timeline"), *e;
    int kinds[5] = {0};
    const char *prev = "";
    static const char *const names[5] = {"status", "notification", "reminder", "broadcast", "form"};
    cJSON_ArrayForEach(e, tl) {
        const char *k = cJSON_GetStringValue(cJSON_GetObjectItem(e, "kind"));
        const char *at = cJSON_GetStringValue(cJSON_GetObjectItem(e, "at"));
        T_CHECK(at && strlen(at) == 25 && strcmp(at + 19, "+03:00") == 0 && strcmp(at, prev) >= 0);
        prev = at;
        for (int i = 0; i < 5; i++) if (k && strcmp(k, names[i]) == 0) kinds[i]++;
    }
    T_EQ_INT(kinds[0], 2);
    T_EQ_INT(kinds[1], 1);
    T_EQ_INT(kinds[2], 1);
    T_EQ_INT(kinds[3], 1);
    T_CHECK(strstr(r.body, "\\\"\\u003e\\u003csvg onload=alert(3)\\u003e") != NULL);
    dash_resp_free(&r);
    r = dash_http("GET", "/api/orders?q=99900001", NULL, tok, NULL);
    T_CHECK(strstr(r.body, "\\u003cimg") != NULL && !strchr(r.body, '<'));
    dash_resp_free(&r);
    r = dash_http("GET", "/api/orders/99900002-0001-1", NULL, tok, NULL);
    expect_error(&r, 404, "posting");
    dash_resp_free(&r);
    r = dash_http("GET", "/api/orders/not-a-posting", NULL, tok, NULL);
    T_EQ_INT(r.status, 404);
    dash_resp_free(&r);
}

/* Last: restarts plus7d with PLUS7_REPORT_HOUR=0, so today's report (of
 * yesterday) is due at once. */
T_CASE_TAGGED(daily_report_to_admins, "db tg")
{
    T_START();
    const char *grant[] = {"role", ADMIN_PHONE, "admin", NULL};
    T_EQ_INT(e2e_p7_run(grant, NULL, 0), 0);
    register_person(ADMIN_UID, "Админ", ADMIN_PHONE, true);
    long long before = e2e_cursor(ADMIN_UID);
    double secs = 0;
    T_EQ_INT(e2e_p7_stop(&secs), 0);
    e2e_p7_setenv("PLUS7_REPORT_HOUR", "0");
    T_CHECK(e2e_p7_start() == 0);
    bool ok = false;
    cJSON *w = e2e_wait(ADMIN_UID, 1, before, 60, &ok);
    T_CHECK(ok);
    const cJSON *m = cJSON_GetArrayItem(cJSON_GetObjectItem(w, "messages"), 0);
    const cJSON *f = cJSON_GetArrayItem(cJSON_GetObjectItem(m, "files"), 0);
    const char *covered = e2e_sqls("SELECT to_char((now() AT TIME ZONE 'Europe/Moscow')::date - 1, 'YYYY-MM-DD')", NULL);
    char name[64];
    snprintf(name, sizeof name, "plus7-report-%s.xlsx", covered ? covered : "?");
    T_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItem(f, "kind")), "document");
    T_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItem(f, "file_name")), name);
    T_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItem(f, "sha256")),
             e2e_sqls("SELECT encode(sha256(t.data), 'hex') FROM dash_reports r JOIN tg_files t ON t.id = r.file_id", NULL));
    T_CHECK(strstr(e2e_text(m), covered ? covered : "?") != NULL);
    cJSON_Delete(w);
    /* a workbook (a zip), queued once for the day, to the one admin */
    T_EQ_STR(e2e_sqls("SELECT encode(substr(t.data, 1, 2), 'hex') FROM dash_reports r JOIN tg_files t ON t.id = r.file_id",
                      NULL), "504b");
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM dash_reports", NULL), 1);
    T_EQ_INT(e2e_sql_int("SELECT recipients FROM dash_reports", NULL), 1);
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM tg_outbox WHERE dedupe_key LIKE 'dash\\_report:%'", NULL), 1);
}

int main(void)
{
    if (sodium_init() < 0) return 1;
    e2e_init("dash_api", E2E_POLLING);
    e2e_p7_setenv("PLUS7_PUBLIC_URL", "http://dash.example.test");
    e2e_p7_setenv("PLUS7_LOGISTICS_SECRET", LOGI_SECRET);
    const char *seed[] = {"seed", NULL};
    if (e2e_p7_run(seed, NULL, 0) != 0) printf("# plus7d seed failed\n");
    return e2e_finish(t_run_all());
}
