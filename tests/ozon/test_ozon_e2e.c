/* test_ozon_e2e.c — the Ozon Seller API gateway end to end: the real
 * plus7d + extsim (emulated Ozon) + tgsim (emulated Telegram) + a real
 * PostgreSQL, through tests/e2e/e2e_harness.
 *
 * Purpose: what a person and an operator see of Ozon —
 *   - tracking a posting unknown locally fetches it from Ozon
 *     (/v3/posting/fbs/get with Client-Id/Api-Key), creates the order and
 *     shows the card; a posting unknown to Ozon too answers "не найдено"
 *     (rpcStatus 404 and the legacy envelope alike);
 *   - Ozon answering 500 or 429 (with and without Retry-After) is retried
 *     and the person is still served; 500 for good ends in "недоступен";
 *   - 403 (a wrong key) answers "недоступен", logs event=ozon_config_error
 *     once per distinct message without the key, and counts it in /metrics;
 *   - the periodic import pages /v4/posting/fbs/list across the cursor
 *     (230 seeded postings), sends the configured statuses and
 *     delivery-method ids, maps statuses, remembers its last run, and after
 *     a restart asks only for postings changed since then;
 *   - push-back: a logistics event moving a non_integrated posting whose
 *     available_actions allow it reaches /v2/fbs/posting/delivering (then
 *     last-mile), a posting without the action sends nothing;
 *   - rate: a burst of 400 requests (200 pushes and 200 fetches) with
 *     PLUS7_OZON_RPS=50 against extsim's 50 rps limit: no 429, and never
 *     more than 50 requests in any second of extsim's request log;
 *   - bad settings stop plus7d with exit code 2 naming the variable.
 *
 * Cases share one database, extsim and tgsim; each uses its own postings
 * and Telegram users, and checks deltas of counters, so they stay
 * independent of each other's order. Expected texts come from the message
 * catalogue (actors/texts) and the status names from order_status.c.
 *
 * Tags: "e2e" on every case, "slow" on those that restart plus7d.
 * Threads: main thread only.
 */
#include "t.h"

#include <glob.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>
#include <sodium.h>

#include "e2e_harness.h"
#include "order_status.h"
#include "texts.h"
#include "tgsim_harness.h"
#include "timefmt.h"

#define WAIT_S 40.0            /* one bot reply: retries with back-off take a few seconds */
#define DB_WAIT_S 60.0         /* an asynchronous effect in the database */
#define OZ_CLIENT_ID "123456"  /* extsim's defaults (docs/extsim.md) */
#define OZ_API_KEY "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
#define LOGI_SECRET "h11-logistics-secret-0123456789abcdef"
#define METHOD_IN "2300000000000001"     /* delivery methods the import asks for */
#define METHOD_IN2 "2300000000000003"
#define METHOD_OUT "2300000000000002"    /* one it does not */

#define T_START() T_CHECK(e2e_p7_ensure() == 0)

static char g_tmp[256];        /* our TMPDIR: the harness keeps plus7d's log under it */

/* ---- helpers ------------------------------------------------------------------ */

static const char *fmt1(text_id_t id, const char *arg)
{
    static char buf[4][2048];
    static int next;
    char *b = buf[next++ % 4];
    snprintf(b, sizeof buf[0], text_get(id), arg);
    return b;
}

static cJSON *say(long long uid, const char *text)
{
    cJSON *m = e2e_say(uid, "text", text, WAIT_S);
    T_CHECK(m != NULL);
    return m;
}

/* A registered person (the share-phone button) with `phone`. */
static void person(long long uid, const char *phone)
{
    T_CHECK(e2e_user(uid, "Мария", phone, false) == 0);
    cJSON *a = e2e_act(uid, "command", "{\"command\":\"start\"}");
    T_CHECK(a != NULL);
    cJSON_Delete(a);
    cJSON *m = e2e_reply(uid, WAIT_S);
    T_CHECK(m != NULL);
    cJSON_Delete(m);
    a = e2e_act(uid, "press_reply", "{\"text\":\"%s\"}", text_get(T_BTN_SHARE_PHONE));
    T_CHECK(a != NULL);
    cJSON_Delete(a);
    m = e2e_reply(uid, WAIT_S);
    T_CHECK(m != NULL);
    cJSON_Delete(m);
    T_CHECK(e2e_sql_until(DB_WAIT_S, phone, "SELECT phone FROM users WHERE tg_user_id = $1", e2e_i(uid), NULL));
}

/* An extsim call that must answer 200. */
static cJSON *xs(const char *method, const char *path, const char *fmt, ...)
{
    char *body = NULL;
    va_list ap;
    va_start(ap, fmt);
    if (fmt && vasprintf(&body, fmt, ap) < 0) body = NULL;
    va_end(ap);
    long st = 0;
    cJSON *j = body ? e2e_xs(method, path, &st, "%s", body) : e2e_xs(method, path, &st, NULL);
    if (st != 200) printf("# extsim %s %s: HTTP %ld\n", method, path, st);
    T_CHECK(st == 200);
    free(body);
    return j;
}

static void xs_do(const char *method, const char *path, const char *fmt, ...)
{
    char *body = NULL;
    va_list ap;
    va_start(ap, fmt);
    if (fmt && vasprintf(&body, fmt, ap) < 0) body = NULL;
    va_end(ap);
    long st = 0;
    cJSON_Delete(body ? e2e_xs(method, path, &st, "%s", body) : e2e_xs(method, path, &st, NULL));
    if (st != 200) printf("# extsim %s %s: HTTP %ld\n", method, path, st);
    T_CHECK(st == 200);
    free(body);
}

/* Does journal entry e carry posting p (as "posting_number": "p" or ["p"])? */
static bool entry_has(const cJSON *e, const char *p)
{
    const cJSON *pn = cJSON_GetObjectItem(cJSON_GetObjectItem(e, "json"), "posting_number");
    if (cJSON_IsString(pn)) return strcmp(pn->valuestring, p) == 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, pn)
        if (cJSON_IsString(it) && strcmp(it->valuestring, p) == 0) return true;
    return false;
}

/* extsim's request log for `path` (all of it; caller frees). */
static cJSON *journal(const char *path)
{
    char q[256];
    snprintf(q, sizeof q, "/control/requests?path=%s&limit=0", path);
    return xs("GET", q, NULL);
}

/* Requests to `path` about posting p; with `status` > 0 only those answered so. */
static int journal_count(const char *path, const char *p, int status)
{
    cJSON *j = journal(path);
    int n = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(j, "requests")) {
        if (p && !entry_has(e, p)) continue;
        if (status > 0 && (int)cJSON_GetObjectItem(e, "status")->valuedouble != status) continue;
        n++;
    }
    cJSON_Delete(j);
    return n;
}

/* Poll until journal_count(...) >= n (bounded). */
static bool journal_until(double timeout_s, const char *path, const char *p, int status, int n)
{
    double end = e2e_now() + timeout_s;
    do {
        if (journal_count(path, p, status) >= n) return true;
        e2e_sleep_ms(100);
    } while (e2e_now() < end);
    printf("# fewer than %d requests to %s for %s within %.0f s\n", n, path, p ? p : "*", timeout_s);
    return false;
}

typedef struct http_buf {
    char *p;
    size_t n;
} http_buf_t;

static size_t http_sink(char *d, size_t sz, size_t nm, void *arg)
{
    http_buf_t *b = arg;
    char *q = realloc(b->p, b->n + sz * nm + 1);
    if (!q) return 0;
    memcpy(q + b->n, d, sz * nm);
    b->p = q;
    b->n += sz * nm;
    b->p[b->n] = '\0';
    return sz * nm;
}

/* An HTTP request to plus7d; returns the status, *body (caller frees) when asked. */
static long p7_http(const char *method, const char *path, const char *const *headers, const char *body, char **out)
{
    char url[512];
    snprintf(url, sizeof url, "%s%s", e2e_p7_base(), path);
    CURL *h = curl_easy_init();
    if (!h) return 0;
    struct curl_slist *hl = curl_slist_append(NULL, "Expect:");
    for (int i = 0; headers && headers[i]; i++) hl = curl_slist_append(hl, headers[i]);
    http_buf_t b = {0};
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, http_sink);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
    if (body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    long st = 0;
    if (curl_easy_perform(h) == CURLE_OK) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &st);
    curl_slist_free_all(hl);
    curl_easy_cleanup(h);
    if (out) *out = b.p ? b.p : strdup("");
    else free(b.p);
    return st;
}

/* The value of one /metrics sample ("name" or "name{labels}"), -1 if absent. */
static double metric(const char *sample)
{
    char *body = NULL;
    if (p7_http("GET", "/metrics", NULL, NULL, &body) != 200) {
        free(body);
        return -1;
    }
    double v = -1;
    size_t n = strlen(sample);
    for (char *line = body; line && *line;) {
        char *nl = strchr(line, '\n');
        if (strncmp(line, sample, n) == 0 && line[n] == ' ') {
            v = strtod(line + n + 1, NULL);
            break;
        }
        line = nl ? nl + 1 : NULL;
    }
    free(body);
    return v;
}

/* POST events to the signed logistics webhook; returns the HTTP status. */
static long logistics(const char *body)
{
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state s;
    crypto_auth_hmacsha256_init(&s, (const unsigned char *)LOGI_SECRET, strlen(LOGI_SECRET));
    crypto_auth_hmacsha256_update(&s, (const unsigned char *)body, strlen(body));
    crypto_auth_hmacsha256_final(&s, mac);
    char hex[2 * sizeof mac + 1], sig[128];
    sodium_bin2hex(hex, sizeof hex, mac, sizeof mac);
    snprintf(sig, sizeof sig, "X-Plus7-Signature: sha256=%s", hex);
    const char *hdrs[] = {sig, "Content-Type: application/json", NULL};
    char *out = NULL;
    long st = p7_http("POST", "/api/logistics/events", hdrs, body, &out);
    if (st != 200) printf("# logistics webhook: HTTP %ld %s\n", st, out ? out : "");
    free(out);
    return st;
}

static void rfc3339_now(char *out, size_t n)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* One logistics event for posting p. */
static long logistics_one(const char *p, const char *status)
{
    static int seq;
    char at[32], body[512];
    rfc3339_now(at, sizeof at);
    snprintf(body, sizeof body, "{\"events\":[{\"id\":\"h11-%s-%s-%d-%d\",\"posting_number\":\"%s\",\"status\":\"%s\",\"at\":\"%s\"}]}",
             p, status, (int)getpid(), ++seq, p, status, at);
    return logistics(body);
}

/* plus7d's log (the harness keeps it under our TMPDIR). */
static char *p7_log(void)
{
    char pat[400];
    snprintf(pat, sizeof pat, "%s/plus7-e2e-ozon-*/plus7d.log", g_tmp);
    glob_t g;
    if (glob(pat, 0, NULL, &g) != 0 || g.gl_pathc < 1) {
        printf("# no plus7d log matches %s\n", pat);
        return NULL;
    }
    FILE *f = fopen(g.gl_pathv[0], "r");
    globfree(&g);
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    size_t got = s ? fread(s, 1, (size_t)n, f) : 0;
    if (s) s[got] = '\0';
    fclose(f);
    return s;
}

/* Lines of the log containing every one of the NULL-terminated needles. */
static int log_count(const char *log, ...)
{
    int n = 0;
    for (const char *line = log; line && *line;) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        char *l = strndup(line, len);
        bool all = true;
        va_list ap;
        va_start(ap, log);
        for (const char *w; (w = va_arg(ap, const char *));)
            if (!strstr(l, w)) all = false;
        va_end(ap);
        if (all) n++;
        free(l);
        line = nl ? nl + 1 : NULL;
    }
    return n;
}

/* The status card: the head line and the status name. */
static void expect_card(const cJSON *m, const char *posting, order_status_t st)
{
    const char *t = e2e_text(m);
    if (!strstr(t, fmt1(T_TRACK_HEAD, posting))) printf("# reply: %s\n", t);
    T_CHECK(strstr(t, fmt1(T_TRACK_HEAD, posting)) != NULL);
    T_CHECK(strstr(t, order_status_name_ru(st)) != NULL);
}

static void seed(const char *json)
{
    cJSON *j = xs("POST", "/control/ozon/postings", "%s", json);
    const cJSON *n = cJSON_GetObjectItem(j, "seeded");
    T_CHECK(cJSON_IsNumber(n) && n->valuedouble >= 1);
    cJSON_Delete(j);
}

/* ---- tracking: fetched from Ozon, not found ------------------------------------------- */

T_CASE_TAGGED(track_fetches_unknown_posting_from_ozon, "e2e")
{
    T_START();
    const long long uid = 71101;
    const char *p = "12345678-0001-1";
    person(uid, "+79491234501");      /* the demo posting's customer: the owner */
    double before = metric("plus7_ozon_fetches_total{result=\"ok\"}");
    cJSON *m = say(uid, p);
    expect_card(m, p, ORDER_CREATED);
    T_CHECK(strstr(e2e_text(m), "Наушники") != NULL);        /* the owner sees the items */
    cJSON_Delete(m);
    /* the order was created from Ozon's data */
    T_EQ_STR(e2e_sqls("SELECT ozon_status || '|' || tpl_integration_type || '|' || customer_phone FROM orders"
                      " WHERE posting_number = $1", p, NULL),
             "awaiting_deliver|non_integrated|+79491234501");
    T_EQ_STR(e2e_sqls("SELECT status_source FROM orders WHERE posting_number = $1", p, NULL), "ozon");
    /* the request Ozon got: POST with both headers and the posting in the body */
    cJSON *j = journal("/v3/posting/fbs/get");
    const cJSON *e, *mine = NULL;
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(j, "requests"))
        if (entry_has(e, p)) mine = e;
    T_CHECK(mine != NULL);
    T_EQ_STR(cJSON_GetObjectItem(mine, "method")->valuestring, "POST");
    const cJSON *h = cJSON_GetObjectItem(mine, "headers");
    T_EQ_STR(cJSON_GetObjectItem(h, "Client-Id")->valuestring, OZ_CLIENT_ID);
    T_EQ_STR(cJSON_GetObjectItem(h, "Api-Key")->valuestring, OZ_API_KEY);
    T_EQ_INT(cJSON_GetObjectItem(mine, "status")->valuedouble, 200);
    cJSON_Delete(j);
    T_CHECK(metric("plus7_ozon_fetches_total{result=\"ok\"}") >= before + 1);
    T_CHECK(metric("plus7_ozon_requests_total{method=\"fetch\"}") >= 1);
}

T_CASE_TAGGED(track_unknown_everywhere_says_not_found, "e2e")
{
    T_START();
    const long long uid = 71102;
    const char *p = "87654321-0001-1";
    double before = metric("plus7_ozon_fetches_total{result=\"not_found\"}");
    person(uid, "+79001101102");
    cJSON *m = say(uid, p);
    T_EQ_STR(e2e_text(m), fmt1(T_TRACK_NOT_FOUND, p));
    cJSON_Delete(m);
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM orders WHERE posting_number = $1", p, NULL), 0);
    T_EQ_INT(journal_count("/v3/posting/fbs/get", p, 404), 1);     /* asked once, not retried */
    T_EQ_INT(metric("plus7_ozon_fetches_total{result=\"not_found\"}"), before + 1);
}

T_CASE_TAGGED(legacy_error_envelope_tolerated, "e2e")
{
    T_START();
    const long long uid = 71103;
    const char *p = "87654321-0002-1";
    person(uid, "+79001101103");
    xs_do("POST", "/control/ozon/config", "{\"legacy_errors\":true}");
    cJSON *m = say(uid, p);
    T_EQ_STR(e2e_text(m), fmt1(T_TRACK_NOT_FOUND, p));
    cJSON_Delete(m);
    xs_do("POST", "/control/ozon/config", "{\"legacy_errors\":false}");
    T_EQ_INT(journal_count("/v3/posting/fbs/get", p, 404), 1);
}

/* ---- transient errors: retried ------------------------------------------------------------------ */

T_CASE_TAGGED(server_error_retried_then_served, "e2e")
{
    T_START();
    const long long uid = 71104;
    const char *p = "12345678-0002-1";
    person(uid, "+79001101104");
    double retries = metric("plus7_ozon_retries_total");
    double e500 = metric("plus7_ozon_errors_total{class=\"server\"}");
    xs_do("POST", "/control/faults", "{\"path\":\"/v3/posting/fbs/get\",\"status\":500,\"count\":2}");
    cJSON *m = say(uid, p);
    expect_card(m, p, ORDER_IN_TRANSIT);     /* Ozon's delivering */
    cJSON_Delete(m);
    T_EQ_INT(journal_count("/v3/posting/fbs/get", p, 500), 2);
    T_EQ_INT(journal_count("/v3/posting/fbs/get", p, 200), 1);
    T_CHECK(metric("plus7_ozon_retries_total") >= retries + 2);
    T_CHECK(metric("plus7_ozon_errors_total{class=\"server\"}") >= e500 + 2);
    xs_do("DELETE", "/control/faults", NULL);
}

T_CASE_TAGGED(rate_limited_backs_off_then_served, "e2e")
{
    T_START();
    const long long uid = 71105;
    const char *p = "12345678-0003-1";
    person(uid, "+79001101105");
    double limited = metric("plus7_ozon_rate_limited_total");
    /* one 429 with Retry-After: 1, then one without (exponential pause) */
    xs_do("POST", "/control/faults", "{\"faults\":[{\"path\":\"/v3/posting/fbs/get\",\"status\":429,\"count\":1,"
                                     "\"headers\":{\"Retry-After\":\"1\"}},"
                                     "{\"path\":\"/v3/posting/fbs/get\",\"status\":429,\"count\":1}]}");
    double t0 = e2e_now();
    cJSON *m = say(uid, p);
    double took = e2e_now() - t0;
    expect_card(m, p, ORDER_CREATED);        /* awaiting_packaging */
    cJSON_Delete(m);
    T_EQ_INT(journal_count("/v3/posting/fbs/get", p, 429), 2);
    T_EQ_INT(journal_count("/v3/posting/fbs/get", p, 200), 1);
    T_CHECK(took >= 1.9);                    /* at least Retry-After (1 s) + the first pause (1 s) */
    T_EQ_INT(metric("plus7_ozon_rate_limited_total"), limited + 2);
    /* the retries were spaced by the pauses: >= 0.9 s between the attempts */
    cJSON *j = journal("/v3/posting/fbs/get");
    int64_t at[3];
    int n = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(j, "requests"))
        if (entry_has(e, p) && n < 3) timefmt_parse_rfc3339(cJSON_GetObjectItem(e, "at")->valuestring, &at[n++]);
    cJSON_Delete(j);
    T_EQ_INT(n, 3);
    T_CHECK(at[1] - at[0] >= 900);
    T_CHECK(at[2] - at[1] >= 900);
    xs_do("DELETE", "/control/faults", NULL);
}

T_CASE_TAGGED(server_error_for_good_says_unavailable, "e2e")
{
    T_START();
    const long long uid = 71106;
    const char *p = "12345678-0004-1";
    person(uid, "+79001101106");
    xs_do("POST", "/control/faults", "{\"path\":\"/v3/posting/fbs/get\",\"status\":503,\"count\":-1}");
    cJSON *m = say(uid, p);
    T_EQ_STR(e2e_text(m), fmt1(T_TRACK_UNAVAILABLE, p));
    cJSON_Delete(m);
    xs_do("DELETE", "/control/faults", NULL);
    int tries = journal_count("/v3/posting/fbs/get", p, 503);
    T_CHECK(tries >= 2 && tries <= 5);      /* retried, and bounded */
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM orders WHERE posting_number = $1", p, NULL), 0);
    /* once Ozon is back the same posting is served */
    m = say(uid, p);
    expect_card(m, p, ORDER_OUT_FOR_DELIVERY);   /* driver_pickup */
    cJSON_Delete(m);
}

/* ---- configuration errors ------------------------------------------------------------------------ */

T_CASE_TAGGED(forbidden_is_a_configuration_error, "e2e")
{
    T_START();
    const long long uid = 71107;
    person(uid, "+79001101107");
    double cfg = metric("plus7_ozon_config_errors_total");
    double auth = metric("plus7_ozon_errors_total{class=\"auth\"}");
    /* Ozon no longer accepts our key: 403 code 7 */
    xs_do("POST", "/control/ozon/config", "{\"api_key\":\"another-key-0000\"}");
    cJSON *m = say(uid, "12345678-0005-1");
    T_EQ_STR(e2e_text(m), fmt1(T_TRACK_UNAVAILABLE, "12345678-0005-1"));
    cJSON_Delete(m);
    m = say(uid, "12345678-0006-1");
    T_EQ_STR(e2e_text(m), fmt1(T_TRACK_UNAVAILABLE, "12345678-0006-1"));
    cJSON_Delete(m);
    T_EQ_INT(journal_count("/v3/posting/fbs/get", "12345678-0005-1", 403), 1);   /* never retried */
    T_EQ_INT(metric("plus7_ozon_config_errors_total"), cfg + 2);
    T_EQ_INT(metric("plus7_ozon_errors_total{class=\"auth\"}"), auth + 2);
    /* a different refusal (401, headers missing) is a new message: logged too */
    xs_do("POST", "/control/ozon/config", "{\"api_key\":\"%s\"}", OZ_API_KEY);
    xs_do("POST", "/control/faults", "{\"path\":\"/v3/posting/fbs/get\",\"status\":401,\"count\":1,"
                                     "\"body\":{\"code\":16,\"message\":\"Client-Id and Api-Key headers are required\"}}");
    m = say(uid, "12345678-0008-1");
    T_EQ_STR(e2e_text(m), fmt1(T_TRACK_UNAVAILABLE, "12345678-0008-1"));
    cJSON_Delete(m);
    T_EQ_INT(metric("plus7_ozon_config_errors_total"), cfg + 3);
    /* the log: one line per distinct message, naming the settings, never the key */
    char *log = NULL;
    for (int i = 0; i < 40; i++) {           /* the logger writes asynchronously */
        free(log);
        log = p7_log();
        if (log_count(log, "event=ozon_config_error", "status=401", NULL) == 1) break;
        e2e_sleep_ms(50);
    }
    T_CHECK(log != NULL);
    T_EQ_INT(log_count(log, "event=ozon_config_error", "status=403", "Invalid Api-Key", "PLUS7_OZON_API_KEY", NULL), 1);
    T_EQ_INT(log_count(log, "event=ozon_config_error", "status=401", "headers are required", NULL), 1);
    T_EQ_INT(log_count(log, "event=ozon_config_error", NULL), 2);
    T_EQ_INT(log_count(log, OZ_API_KEY, NULL), 0);
    T_EQ_INT(log_count(log, "another-key-0000", NULL), 0);
    free(log);
    /* and the right key works again */
    m = say(uid, "12345678-0005-1");
    expect_card(m, "12345678-0005-1", ORDER_DELIVERED);
    cJSON_Delete(m);
}

/* ---- push-back of our transitions --------------------------------------------------------------- */

T_CASE_TAGGED(push_back_follows_available_actions, "e2e")
{
    T_START();
    const long long uid = 71108;
    const char *p = "30000001-0001-1";      /* non_integrated, awaiting_deliver: non_int_delivering */
    const char *q = "30000002-0001-1";      /* non_integrated, actions pinned without it */
    const char *r = "30000003-0001-1";      /* FBS (Ozon delivers) */
    seed("[{\"posting_number\":\"30000001-0001-1\",\"status\":\"awaiting_deliver\",\"tpl_integration_type\":\"non_integrated\"},"
         "{\"posting_number\":\"30000002-0001-1\",\"status\":\"awaiting_deliver\",\"tpl_integration_type\":\"non_integrated\","
         "\"available_actions\":[\"cancel\",\"label_download\"]},"
         "{\"posting_number\":\"30000003-0001-1\",\"status\":\"awaiting_deliver\",\"tpl_integration_type\":\"ozon\"}]");
    person(uid, "+79001101108");
    for (int i = 0; i < 3; i++) {
        const char *x = i == 0 ? p : i == 1 ? q : r;
        cJSON *m = say(uid, x);
        expect_card(m, x, ORDER_CREATED);
        cJSON_Delete(m);
    }
    T_CHECK(strstr(e2e_sqls("SELECT available_actions FROM orders WHERE posting_number = $1", p, NULL),
                   "non_int_delivering") != NULL);
    double pushed = metric("plus7_ozon_pushes_total{result=\"ok\"}");

    /* the two without the action first: their moves must send nothing */
    T_EQ_INT(logistics_one(q, "in_transit"), 200);
    T_EQ_INT(logistics_one(r, "in_transit"), 200);
    T_CHECK(e2e_sql_until(DB_WAIT_S, "in_transit", "SELECT status FROM orders WHERE posting_number = $1", q, NULL));
    T_CHECK(e2e_sql_until(DB_WAIT_S, "in_transit", "SELECT status FROM orders WHERE posting_number = $1", r, NULL));
    /* then the one with it: Ozon gets /v2/fbs/posting/delivering for it */
    T_EQ_INT(logistics_one(p, "in_transit"), 200);
    T_CHECK(journal_until(DB_WAIT_S, "/v2/fbs/posting/delivering", p, 200, 1));
    cJSON *j = journal("/v2/fbs/posting/delivering");
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(j, "requests")) {
        if (!entry_has(e, p)) continue;
        const cJSON *pn = cJSON_GetObjectItem(cJSON_GetObjectItem(e, "json"), "posting_number");
        T_CHECK(cJSON_IsArray(pn) && cJSON_GetArraySize(pn) == 1);   /* {"posting_number":[p]} */
    }
    cJSON_Delete(j);
    cJSON *post = xs("GET", "/control/ozon/postings/30000001-0001-1", NULL);
    T_EQ_STR(cJSON_GetObjectItem(post, "status")->valuestring, "delivering");
    cJSON_Delete(post);
    /* nothing was sent for the other two, by any status method */
    T_EQ_INT(journal_count("/v2/fbs/posting/delivering", q, 0), 0);
    T_EQ_INT(journal_count("/v2/fbs/posting/delivering", r, 0), 0);
    /* the gateway read the posting again: the next action is known locally ... */
    T_CHECK(e2e_sql_until(DB_WAIT_S, "true",
                          "SELECT (available_actions LIKE '%non_int_last_mile%')::text FROM orders WHERE posting_number = $1",
                          p, NULL));
    /* ... so handing it to the courier is reported as last-mile */
    T_EQ_INT(logistics_one(p, "out_for_delivery"), 200);
    T_CHECK(journal_until(DB_WAIT_S, "/v2/fbs/posting/last-mile", p, 200, 1));
    post = xs("GET", "/control/ozon/postings/30000001-0001-1", NULL);
    T_EQ_STR(cJSON_GetObjectItem(post, "status")->valuestring, "driver_pickup");
    cJSON_Delete(post);
    T_CHECK(metric("plus7_ozon_pushes_total{result=\"ok\"}") >= pushed + 2);
    T_EQ_INT(journal_count("/v2/fbs/posting/last-mile", q, 0), 0);
}

/* Ozon refusing a transition (error as [] or a string) is logged, not retried. */
/* A self-delivered posting p (awaiting_deliver in extsim) tracked by uid. */
static void self_delivered_tracked(long long uid, const char *phone, const char *p)
{
    char json[256];
    snprintf(json, sizeof json,
             "{\"posting_number\":\"%s\",\"status\":\"awaiting_deliver\",\"tpl_integration_type\":\"non_integrated\"}", p);
    seed(json);
    person(uid, phone);
    cJSON *m = say(uid, p);
    expect_card(m, p, ORDER_CREATED);
    cJSON_Delete(m);
}

T_CASE_TAGGED(push_refusal_logged, "e2e")
{
    T_START();
    const char *p = "30000004-0001-1";
    self_delivered_tracked(71109, "+79001101109", p);
    /* Ozon moved it meanwhile (the action is gone there), error form: array */
    xs_do("POST", "/control/ozon/config", "{\"error_form\":\"array\"}");
    xs_do("POST", "/control/ozon/postings/30000004-0001-1/status", "{\"status\":\"cancelled\"}");
    double refused = metric("plus7_ozon_pushes_total{result=\"refused\"}");
    T_EQ_INT(logistics_one(p, "in_transit"), 200);
    T_CHECK(journal_until(DB_WAIT_S, "/v2/fbs/posting/delivering", p, 200, 1));
    double end = e2e_now() + DB_WAIT_S;
    while (metric("plus7_ozon_pushes_total{result=\"refused\"}") < refused + 1 && e2e_now() < end) e2e_sleep_ms(50);
    T_EQ_INT(metric("plus7_ozon_pushes_total{result=\"refused\"}"), refused + 1);
    xs_do("POST", "/control/ozon/config", "{\"error_form\":\"string\"}");
    T_EQ_INT(journal_count("/v2/fbs/posting/delivering", p, 0), 1);   /* a refusal is final */
    char *log = NULL;
    for (int i = 0; i < 40; i++) {
        free(log);
        log = p7_log();
        if (log_count(log, "event=ozon_push_refused", p, NULL) == 1) break;
        e2e_sleep_ms(50);
    }
    T_EQ_INT(log_count(log, "event=ozon_push_refused", p, "ACTION_NOT_AVAILABLE", NULL), 1);
    free(log);
}

/* A push Ozon has not taken yet survives kill -9: it waits in
 * ozon_push_outbox (written with the status change) and goes after the
 * restart — before, pushes lived in the gateway's memory only. */
T_CASE_TAGGED(push_survives_kill9, "e2e slow")
{
    T_START();
    const char *p = "30000005-0001-1";
    self_delivered_tracked(71110, "+79001101110", p);
    /* Ozon answers 503 to every push: the gateway keeps retrying */
    xs_do("POST", "/control/faults", "{\"path\":\"/v2/fbs/posting/delivering\",\"status\":503,\"count\":-1}");
    T_EQ_INT(logistics_one(p, "in_transit"), 200);
    T_CHECK(journal_until(DB_WAIT_S, "/v2/fbs/posting/delivering", p, 503, 1));
    e2e_p7_kill();
    T_EQ_STR(e2e_sqls("SELECT action || ':' || (done_at IS NULL) FROM ozon_push_outbox WHERE posting_number = $1",
                      p, NULL), "delivering:true");
    xs_do("DELETE", "/control/faults", NULL);
    T_EQ_INT(e2e_p7_start(), 0);
    T_CHECK(journal_until(DB_WAIT_S, "/v2/fbs/posting/delivering", p, 200, 1));
    T_CHECK(e2e_sql_until(DB_WAIT_S, "pushed", "SELECT outcome FROM ozon_push_outbox WHERE posting_number = $1",
                          p, NULL));
    cJSON *post = xs("GET", "/control/ozon/postings/30000005-0001-1", NULL);
    T_EQ_STR(cJSON_GetObjectItem(post, "status")->valuestring, "delivering");
    cJSON_Delete(post);
    T_EQ_INT(journal_count("/v2/fbs/posting/delivering", p, 200), 1);   /* once */
}

/* ---- the periodic import ------------------------------------------------------------------------ */

/* 230 postings the import must take (statuses of the configured list,
 * method METHOD_IN), plus 10 of a status and 5 of a method it must not. */
static void seed_import_set(void)
{
    static const struct { const char *status; int n; } plan[] = {
        {"awaiting_deliver", 200}, {"delivering", 10}, {"driver_pickup", 10}, {"delivered", 5}, {"cancelled", 5},
        {"awaiting_packaging", 10},
    };
    size_t cap = 1 << 20, len = 0;
    char *buf = malloc(cap);
    len += (size_t)snprintf(buf + len, cap - len, "[");
    int k = 0;
    for (size_t i = 0; i < sizeof plan / sizeof plan[0]; i++)
        for (int n = 0; n < plan[i].n; n++, k++)
            len += (size_t)snprintf(buf + len, cap - len,
                                    "%s{\"posting_number\":\"41%06d-0001-1\",\"status\":\"%s\","
                                    "\"tpl_integration_type\":\"non_integrated\","
                                    "\"delivery_method\":{\"id\":%s,\"name\":\"Своя доставка\",\"warehouse_id\":7,"
                                    "\"warehouse\":\"Донецк\",\"tpl_provider_id\":1,\"tpl_provider\":\"+7Доставки\"}}",
                                    k ? "," : "", k + 1, plan[i].status, METHOD_IN);
    for (int n = 0; n < 5; n++, k++)
        len += (size_t)snprintf(buf + len, cap - len,
                                ",{\"posting_number\":\"41%06d-0001-1\",\"status\":\"awaiting_deliver\","
                                "\"tpl_integration_type\":\"non_integrated\",\"delivery_method\":{\"id\":%s}}",
                                k + 1, METHOD_OUT);
    snprintf(buf + len, cap - len, "]");
    cJSON *j = xs("POST", "/control/ozon/postings", "%s", buf);
    T_EQ_INT(cJSON_GetObjectItem(j, "seeded")->valuedouble, 245);
    cJSON_Delete(j);
    free(buf);
}

static long long imported(void)
{
    return e2e_sql_int("SELECT count(*) FROM orders WHERE posting_number LIKE '41%'", NULL);
}

T_CASE_TAGGED(import_pages_across_the_cursor, "e2e slow")
{
    seed_import_set();
    if (e2e_p7_running()) T_CHECK(e2e_p7_stop(NULL) == 0);
    xs_do("DELETE", "/control/requests", NULL);
    e2e_p7_setenv("PLUS7_OZON_IMPORT_INTERVAL_S", "3600");
    e2e_p7_setenv("PLUS7_OZON_DELIVERY_METHODS", METHOD_IN "," METHOD_IN2);
    T_START();
    /* no import state yet: the first run starts at once */
    T_CHECK(e2e_sql_until(DB_WAIT_S, "230", "SELECT count(*)::text FROM orders WHERE posting_number LIKE '41%'", NULL));
    T_CHECK(e2e_sql_until(DB_WAIT_S, "230", "SELECT last_postings::text FROM ozon_import_state WHERE last_success_at IS NOT NULL",
                          NULL));
    /* statuses mapped (DESIGN.md: Ozon -> ours) */
    T_EQ_STR(e2e_sqls("SELECT string_agg(status || ':' || n, ',' ORDER BY status) FROM"
                      " (SELECT status, count(*) n FROM orders WHERE posting_number LIKE '41%' GROUP BY status) s", NULL),
             "cancelled:5,created:200,delivered:5,in_transit:10,out_for_delivery:10");
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM orders WHERE posting_number LIKE '41%' AND status_source <> 'ozon'", NULL), 0);
    /* three pages: 100 + 100 + 30, the later ones with the cursor of the one before */
    cJSON *j = journal("/v4/posting/fbs/list");
    const cJSON *reqs = cJSON_GetObjectItem(j, "requests");
    T_EQ_INT(cJSON_GetArraySize(reqs), 3);
    for (int i = 0; i < 3 && i < cJSON_GetArraySize(reqs); i++) {
        const cJSON *body = cJSON_GetObjectItem(cJSON_GetArrayItem(reqs, i), "json");
        const cJSON *f = cJSON_GetObjectItem(body, "filter");
        const char *cursor = cJSON_GetObjectItem(body, "cursor")->valuestring;
        T_CHECK(i == 0 ? cursor[0] == '\0' : cursor[0] != '\0');
        T_EQ_INT(cJSON_GetObjectItem(body, "limit")->valuedouble, 100);
        T_EQ_INT(cJSON_GetObjectItem(cJSON_GetArrayItem(reqs, i), "status")->valuedouble, 200);
        char *st = cJSON_PrintUnformatted(cJSON_GetObjectItem(f, "statuses"));
        T_EQ_STR(st, "[\"awaiting_deliver\",\"delivering\",\"driver_pickup\",\"delivered\",\"cancelled\"]");
        free(st);
        T_CHECK(strstr(cJSON_GetObjectItem(cJSON_GetArrayItem(reqs, i), "body")->valuestring,
                       "\"delivery_method_ids\":[" METHOD_IN "," METHOD_IN2 "]") != NULL);
        T_CHECK(cJSON_IsString(cJSON_GetObjectItem(f, "since")) && cJSON_IsString(cJSON_GetObjectItem(f, "to")));
        T_CHECK(cJSON_GetObjectItem(f, "last_changed_status_date") == NULL);   /* the first run: no such filter */
    }
    cJSON_Delete(j);
    T_EQ_INT(imported(), 230);
    T_CHECK(metric("plus7_ozon_imported_postings_total") >= 230);
    T_CHECK(metric("plus7_ozon_import_runs_total{result=\"ok\"}") >= 1);
}

T_CASE_TAGGED(import_after_restart_asks_only_for_changes, "e2e slow")
{
    if (e2e_p7_running()) T_CHECK(e2e_p7_stop(NULL) == 0);
    const char *first = e2e_sqls("SELECT (extract(epoch FROM last_success_at) * 1000)::bigint::text FROM ozon_import_state", NULL);
    T_CHECK(first != NULL);
    long long first_ms = first ? atoll(first) : 0;
    cJSON *last = xs("GET", "/control/requests?limit=1", NULL);
    const cJSON *seq = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(last, "requests"), 0), "seq");
    long long since = cJSON_IsNumber(seq) ? (long long)seq->valuedouble : 0;
    cJSON_Delete(last);
    e2e_p7_setenv("PLUS7_OZON_IMPORT_INTERVAL_S", "2");
    T_START();
    /* Ozon moves one posting; the next periodic run brings it */
    xs_do("POST", "/control/ozon/postings/41000201-0001-1/status", "{\"status\":\"delivered\"}");
    T_CHECK(e2e_sql_until(DB_WAIT_S, "delivered", "SELECT status FROM orders WHERE posting_number = '41000201-0001-1'", NULL));
    char path[128];
    snprintf(path, sizeof path, "/control/requests?path=/v4/posting/fbs/list&since=%lld&limit=0", since);
    cJSON *j = xs("GET", path, NULL);
    const cJSON *reqs = cJSON_GetObjectItem(j, "requests");
    T_CHECK(cJSON_GetArraySize(reqs) >= 1);
    const cJSON *e;
    cJSON_ArrayForEach(e, reqs) {
        const cJSON *lc = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(e, "json"), "filter"),
                                              "last_changed_status_date");
        T_CHECK(cJSON_IsObject(lc));
        int64_t from = 0;
        T_EQ_INT(timefmt_parse_rfc3339(cJSON_GetObjectItem(lc, "from")->valuestring, &from), 0);
        /* from the last successful run (minus the 10 minutes' overlap), not from scratch */
        T_CHECK(from >= first_ms - 11 * 60 * 1000 && from <= first_ms + 60 * 60 * 1000);
    }
    cJSON_Delete(j);
    T_EQ_STR(e2e_sqls("SELECT last_result FROM ozon_import_state", NULL), "ok");
    T_CHECK(e2e_p7_stop(NULL) == 0);
    e2e_p7_setenv("PLUS7_OZON_IMPORT_INTERVAL_S", "0");
    T_START();
}

/* ---- the rate ----------------------------------------------------------------------------------- */

T_CASE_TAGGED(burst_never_exceeds_the_rate, "e2e slow")
{
    T_START();
    if (imported() < 230) {                  /* run alone: import first */
        T_FAIL("needs the imported postings of import_pages_across_the_cursor");
    }
    xs_do("POST", "/control/ozon/config", "{\"rps\":50}");
    xs_do("DELETE", "/control/requests", NULL);
    double limited = metric("plus7_ozon_rate_limited_total");
    /* 200 self-delivered postings move to in_transit at once: 200 pushes and
     * 200 fetches (the gateway re-reads each pushed posting) */
    size_t cap = 1 << 18, len = 0;
    char *buf = malloc(cap), at[32];
    rfc3339_now(at, sizeof at);
    len += (size_t)snprintf(buf + len, cap - len, "{\"events\":[");
    for (int i = 1; i <= 200; i++)
        len += (size_t)snprintf(buf + len, cap - len,
                                "%s{\"id\":\"burst-%d-%d\",\"posting_number\":\"41%06d-0001-1\",\"status\":\"in_transit\","
                                "\"at\":\"%s\"}", i > 1 ? "," : "", (int)getpid(), i, i, at);
    snprintf(buf + len, cap - len, "]}");
    double t0 = e2e_now();
    T_EQ_INT(logistics(buf), 200);
    free(buf);
    T_CHECK(journal_until(120, "/v2/fbs/posting/delivering", NULL, 200, 200));
    T_CHECK(e2e_sql_until(120, "200",
                          "SELECT count(*)::text FROM orders WHERE posting_number BETWEEN '41000001-0001-1'"
                          " AND '41000200-0001-1' AND available_actions LIKE '%non_int_last_mile%'", NULL));
    double took = e2e_now() - t0;
    cJSON *j = xs("GET", "/control/requests?service=ozon&limit=0", NULL);
    const cJSON *reqs = cJSON_GetObjectItem(j, "requests");
    int n = cJSON_GetArraySize(reqs), n429 = 0;
    int64_t *t = calloc((size_t)(n ? n : 1), sizeof *t);
    int k = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, reqs) {
        if ((int)cJSON_GetObjectItem(e, "status")->valuedouble == 429) n429++;
        if (timefmt_parse_rfc3339(cJSON_GetObjectItem(e, "at")->valuestring, &t[k]) == 0) k++;
    }
    cJSON_Delete(j);
    printf("# extsim logged %d Ozon requests (%d with a time)\n", n, k);
    T_CHECK(n >= 400);
    T_EQ_INT(n429, 0);
    T_EQ_INT(metric("plus7_ozon_rate_limited_total"), limited);
    /* never more than 50 arrivals in any 1000 ms (the log is in arrival order) */
    int worst = 0;
    for (int a = 0, b = 0; b < k; b++) {
        while (t[b] - t[a] >= 1000) a++;
        if (b - a + 1 > worst) worst = b - a + 1;
    }
    free(t);
    printf("# %d requests in %.1f s, at most %d in any second\n", n, took, worst);
    T_CHECK(worst <= 50);
    T_CHECK(took >= (400 - 50) / 50.0);      /* it cannot have been faster than the limit */
    cJSON *post = xs("GET", "/control/ozon/postings/41000200-0001-1", NULL);
    T_EQ_STR(cJSON_GetObjectItem(post, "status")->valuestring, "delivering");
    cJSON_Delete(post);
}

/* ---- settings ------------------------------------------------------------------------------------ */

T_CASE_TAGGED(bad_settings_stop_the_start, "e2e")
{
    static const struct { const char *line, *name; } bad[] = {
        {"PLUS7_OZON_RPS=51", "PLUS7_OZON_RPS"},
        {"PLUS7_OZON_RPS=0", "PLUS7_OZON_RPS"},
        {"PLUS7_OZON_IMPORT_INTERVAL_S=-1", "PLUS7_OZON_IMPORT_INTERVAL_S"},
        {"PLUS7_OZON_DELIVERY_METHODS=123,abc", "PLUS7_OZON_DELIVERY_METHODS"},
        {"PLUS7_OZON_DELIVERY_METHODS=123,,4", "PLUS7_OZON_DELIVERY_METHODS"},
        {"PLUS7_OZON_IMPORT_STATUSES=delivering;cancelled", "PLUS7_OZON_IMPORT_STATUSES"},
    };
    char path[400];
    snprintf(path, sizeof path, "%s/bad.env", g_tmp);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        FILE *f = fopen(path, "w");
        T_CHECK(f != NULL);
        fprintf(f, "PLUS7_OZON_CLIENT_ID=%s\nPLUS7_OZON_API_KEY=secret-key-9999\n%s\n", OZ_CLIENT_ID, bad[i].line);
        fclose(f);
        const char *args[] = {"--config", path, "serve", NULL};
        char out[2048];
        int rc = e2e_p7_run(args, out, sizeof out);
        if (rc != 2) printf("# %s: exit %d\n", bad[i].line, rc);
        T_EQ_INT(rc, 2);
    }
    unlink(path);
}

int main(void)
{
    /* our own TMPDIR, so that plus7d's log (under the harness's directory) can be found */
    const char *tmp = getenv("TMPDIR");
    snprintf(g_tmp, sizeof g_tmp, "%s/plus7-ozon-test-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(g_tmp)) {
        printf("1..0 # cannot create a temporary directory\n");
        return 1;
    }
    setenv("TMPDIR", g_tmp, 1);
    if (sodium_init() < 0) return 1;
    if (e2e_init("ozon", E2E_POLLING) == 0) {
        if (e2e_xs_start(0) != 0) printf("# extsim did not start\n");
        long st = 0;
        cJSON_Delete(e2e_xs("POST", "/control/ozon/demo", &st, NULL));
        if (st != 200) printf("# extsim: seeding the demo postings: HTTP %ld\n", st);
        e2e_p7_setenv("PLUS7_OZON_API", e2e_xs_base());
        e2e_p7_setenv("PLUS7_OZON_CLIENT_ID", OZ_CLIENT_ID);
        e2e_p7_setenv("PLUS7_OZON_API_KEY", OZ_API_KEY);
        e2e_p7_setenv("PLUS7_OZON_IMPORT_INTERVAL_S", "0");
        e2e_p7_setenv("PLUS7_OZON_RPS", "50");
        e2e_p7_setenv("PLUS7_LOGISTICS_SECRET", LOGI_SECRET);
    }
    int rc = e2e_finish(t_run_all());
    rmdir(g_tmp);   /* empty unless a failed run kept its logs */
    return rc;
}
