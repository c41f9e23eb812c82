/* logi_load.c — load generator of the orders benchmark (bench/orders.sh).
 *
 * Purpose: sends the same logistics events either to plus7d's webhook or,
 * as the peer/ceiling, straight into a PostgreSQL table with the
 * statement the webhook itself uses, and prints one JSON object with the
 * rate and the per-request latency. Also creates tgsim users in bulk.
 *
 *   logi_load http URL SECRET PREFIX NPOST NEV BATCH CONC T0 [RATE]
 *   logi_load sql CONNINFO TABLE PREFIX NPOST NEV BATCH CONC T0 [RATE]
 *   logi_load tgusers TGSIM_BASE FIRST_ID COUNT
 *
 * Events: NPOST postings "<PREFIX>-NNNN-1" (PREFIX 8 digits), NEV events
 * each, walking created → accepted → in_transit → at_pickup_point →
 * delivered (at = T0 + posting + 60 s × step), ids "<PREFIX>-NNNN-E".
 * CONC sender threads; thread s owns the postings with index % CONC == s
 * and sends step 0 of all of them, then step 1, …, in requests of BATCH
 * events, one request at a time — so every posting's events arrive in
 * `at` order, as a logistics system that sends in order would. http: each
 * request is signed (X-Plus7-Signature: sha256=<hex HMAC-SHA256>) and must
 * answer 200; keep-alive connection per thread. sql: one libpq connection
 * per thread, the webhook's INSERT ... SELECT FROM unnest(...) ON CONFLICT
 * DO NOTHING RETURNING event_id, into TABLE. RATE (events/s over all
 * senders, default 0 = as fast as they can) paces the requests evenly.
 *
 * Output (stdout): {"events":N,"requests":R,"errors":E,"seconds":S,
 * "events_per_s":X,"req_p50_ms":A,"req_p99_ms":B}. Exit 1 on errors.
 * Threads: main + CONC senders.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <libpq-fe.h>
#include <sodium.h>

#include "bench_util.h"

static const char *const STATUSES[] = {"created", "accepted", "in_transit", "at_pickup_point", "delivered"};
#define NSTATUS 5

static struct {
    int http;
    const char *target, *secret_or_table, *prefix;
    int npost, nev, batch, conc;
    long long t0;
    double rate;              /* events/s over all senders; 0 = as fast as possible */
} g;

typedef struct sender {
    int id;
    uint64_t *lat_ns;
    int nlat, cap;
    int errors, events;
    pthread_t th;
} sender_t;

/* ---- the body ------------------------------------------------------------------------- */

typedef struct buf {
    char *p;
    size_t n, cap;
} buf_t;

static void put(buf_t *b, const char *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        b->cap = (b->n + n + 1) * 2;
        b->p = realloc(b->p, b->cap);
        if (!b->p) { fprintf(stderr, "logi_load: out of memory\n"); abort(); }
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}
static void puts_(buf_t *b, const char *s) { put(b, s, strlen(s)); }

static void rfc3339(long long t, char *out, size_t n)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The events of one request: postings idx[0..cnt) at step e. */
typedef struct ev {
    char id[48], posting[32], at[32], at_ms[24];
    const char *status, *pickup;
} ev_t;

static void make_event(int p, int e, ev_t *ev)
{
    snprintf(ev->posting, sizeof ev->posting, "%s-%04d-1", g.prefix, p + 1);
    snprintf(ev->id, sizeof ev->id, "%s-%04d-%d", g.prefix, p + 1, e);
    long long at = g.t0 + p + 60LL * e;
    rfc3339(at, ev->at, sizeof ev->at);
    snprintf(ev->at_ms, sizeof ev->at_ms, "%lld", at * 1000);
    ev->status = STATUSES[e % NSTATUS];
    ev->pickup = e % NSTATUS == 3 ? "ПВЗ Донецк, ул. Артёма, 120" : NULL;
}

static void json_body(const ev_t *evs, int n, buf_t *b)
{
    b->n = 0;
    puts_(b, "{\"events\":[");
    char one[512];
    for (int i = 0; i < n; i++) {
        int k = snprintf(one, sizeof one, "%s{\"id\":\"%s\",\"posting_number\":\"%s\",\"status\":\"%s\",\"at\":\"%s\"",
                         i ? "," : "", evs[i].id, evs[i].posting, evs[i].status, evs[i].at);
        if (evs[i].pickup) k += snprintf(one + k, sizeof one - (size_t)k, ",\"pickup_point\":\"%s\"", evs[i].pickup);
        snprintf(one + k, sizeof one - (size_t)k, "}");
        puts_(b, one);
    }
    puts_(b, "]}");
}

/* A text[] literal: every element double-quoted, NULL for a missing value. */
static void pg_array(buf_t *b, const ev_t *evs, int n, int field)
{
    b->n = 0;
    puts_(b, "{");
    for (int i = 0; i < n; i++) {
        const char *v = field == 0 ? evs[i].id : field == 1 ? evs[i].posting : field == 2 ? evs[i].status
                      : field == 3 ? evs[i].at_ms : field == 4 ? evs[i].pickup : NULL;
        if (i) puts_(b, ",");
        if (!v) { puts_(b, "NULL"); continue; }
        puts_(b, "\"");
        for (const char *c = v; *c; c++) {
            if (*c == '"' || *c == '\\') put(b, "\\", 1);
            put(b, c, 1);
        }
        puts_(b, "\"");
    }
    puts_(b, "}");
}

/* ---- senders ---------------------------------------------------------------------------- */

static size_t sink(char *d, size_t s, size_t n, void *arg)
{
    buf_t *b = arg;
    put(b, d, s * n);
    return s * n;
}

static void record(sender_t *s, uint64_t ns)
{
    if (s->nlat == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 256;
        s->lat_ns = realloc(s->lat_ns, (size_t)s->cap * sizeof *s->lat_ns);
        if (!s->lat_ns) abort();
    }
    s->lat_ns[s->nlat++] = ns;
}

static int send_http(CURL *h, sender_t *s, const ev_t *evs, int n, buf_t *body, buf_t *resp)
{
    json_body(evs, n, body);
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state st;   /* the streaming API takes a key of any length */
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)g.secret_or_table, strlen(g.secret_or_table));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)body->p, body->n);
    crypto_auth_hmacsha256_final(&st, mac);
    char hdr[128] = "X-Plus7-Signature: sha256=";
    sodium_bin2hex(hdr + strlen(hdr), 2 * sizeof mac + 1, mac, sizeof mac);
    struct curl_slist *hl = curl_slist_append(NULL, "Content-Type: application/json");
    hl = curl_slist_append(hl, "Expect:");
    hl = curl_slist_append(hl, hdr);
    resp->n = 0;
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body->p);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)body->n);
    uint64_t t = bench_now_ns();
    CURLcode rc = curl_easy_perform(h);
    uint64_t dt = bench_now_ns() - t;
    long code = 0;
    if (rc == CURLE_OK) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    curl_slist_free_all(hl);
    if (code != 200) {
        if (s->errors < 3)
            fprintf(stderr, "logi_load: HTTP %ld (%s) %.200s\n", code, curl_easy_strerror(rc), resp->p ? resp->p : "");
        s->errors++;
        return -1;
    }
    record(s, dt);
    return 0;
}

static const char *const INSERT_SQL_FMT =
    "INSERT INTO %s (event_id, posting_number, status, at, pickup_point, comment)"
    " SELECT e.id, e.posting, e.status, to_timestamp(e.at::bigint / 1000.0), e.pickup, e.comment"
    "   FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])"
    "        AS e(id, posting, status, at, pickup, comment)"
    " ON CONFLICT (event_id) DO NOTHING RETURNING event_id";

static int send_sql(PGconn *c, const char *sql, sender_t *s, const ev_t *evs, int n, buf_t arr[6])
{
    for (int f = 0; f < 6; f++) pg_array(&arr[f], evs, n, f);
    const char *params[6] = {arr[0].p, arr[1].p, arr[2].p, arr[3].p, arr[4].p, arr[5].p};
    uint64_t t = bench_now_ns();
    PGresult *r = PQexecParams(c, sql, 6, NULL, params, NULL, NULL, 0);
    uint64_t dt = bench_now_ns() - t;
    int ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == n;
    if (!ok) {
        fprintf(stderr, "logi_load: %s (%d rows)\n", PQresultErrorMessage(r), PQntuples(r));
        s->errors++;
    }
    PQclear(r);
    if (ok) record(s, dt);
    return ok ? 0 : -1;
}

static void *sender_main(void *arg)
{
    sender_t *s = arg;
    CURL *h = NULL;
    PGconn *c = NULL;
    char sql[1024];
    if (g.http) {
        h = curl_easy_init();
        curl_easy_setopt(h, CURLOPT_URL, g.target);
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
        curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
        curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
    } else {
        c = PQconnectdb(g.target);
        if (PQstatus(c) != CONNECTION_OK) {
            fprintf(stderr, "logi_load: %s", PQerrorMessage(c));
            s->errors++;
            PQfinish(c);
            return NULL;
        }
        snprintf(sql, sizeof sql, INSERT_SQL_FMT, g.secret_or_table);
    }
    buf_t body = {0}, resp = {0}, arr[6] = {{0}};
    if (h) curl_easy_setopt(h, CURLOPT_WRITEDATA, &resp);
    ev_t *evs = calloc((size_t)g.batch, sizeof *evs);
    uint64_t next = bench_now_ns();
    for (int e = 0; e < g.nev && evs; e++) {
        int n = 0;
        for (int p = s->id; p < g.npost; p += g.conc) {
            make_event(p, e, &evs[n++]);
            if (n == g.batch || p + g.conc >= g.npost) {
                if (g.rate > 0) {   /* paced: this sender's share of the rate */
                    next += (uint64_t)(1e9 * n * g.conc / g.rate);
                    uint64_t now = bench_now_ns();
                    if (next > now) {
                        struct timespec ts = {(time_t)((next - now) / 1000000000u), (long)((next - now) % 1000000000u)};
                        nanosleep(&ts, NULL);
                    }
                }
                int rc = g.http ? send_http(h, s, evs, n, &body, &resp) : send_sql(c, sql, s, evs, n, arr);
                if (rc == 0) s->events += n;
                n = 0;
            }
        }
    }
    free(evs);
    free(body.p);
    free(resp.p);
    for (int f = 0; f < 6; f++) free(arr[f].p);
    if (h) curl_easy_cleanup(h);
    if (c) PQfinish(c);
    return NULL;
}

static int run_load(void)
{
    sender_t *ss = calloc((size_t)g.conc, sizeof *ss);
    if (!ss) return 1;
    uint64_t t = bench_now_ns();
    for (int i = 0; i < g.conc; i++) {
        ss[i].id = i;
        if (pthread_create(&ss[i].th, NULL, sender_main, &ss[i]) != 0) return 1;
    }
    for (int i = 0; i < g.conc; i++) pthread_join(ss[i].th, NULL);
    double secs = (double)(bench_now_ns() - t) / 1e9;
    int nlat = 0, errors = 0, events = 0;
    for (int i = 0; i < g.conc; i++) {
        nlat += ss[i].nlat;
        errors += ss[i].errors;
        events += ss[i].events;
    }
    uint64_t *all = malloc((size_t)(nlat ? nlat : 1) * sizeof *all);
    int k = 0;
    for (int i = 0; i < g.conc; i++) {
        if (ss[i].nlat) memcpy(all + k, ss[i].lat_ns, (size_t)ss[i].nlat * sizeof *all);
        k += ss[i].nlat;
        free(ss[i].lat_ns);
    }
    bench_sort_u64(all, (size_t)nlat);
    printf("{\"events\":%d,\"requests\":%d,\"errors\":%d,\"seconds\":%.3f,\"events_per_s\":%.1f,"
           "\"req_p50_ms\":%.3f,\"req_p99_ms\":%.3f}\n",
           events, nlat, errors, secs, events / secs, bench_pct_u64(all, (size_t)nlat, 50) / 1e6,
           bench_pct_u64(all, (size_t)nlat, 99) / 1e6);
    free(all);
    free(ss);
    return errors ? 1 : 0;
}

/* ---- tgsim users --------------------------------------------------------------------------- */

static int tg_users(const char *base, long long first, int count)
{
    CURL *h = curl_easy_init();
    char url[512], body[256];
    snprintf(url, sizeof url, "%s/control/users", base);
    struct curl_slist *hl = curl_slist_append(NULL, "Content-Type: application/json");
    buf_t resp = {0};
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &resp);
    int errors = 0;
    for (int i = 0; i < count; i++) {
        snprintf(body, sizeof body, "{\"id\":%lld,\"first_name\":\"Клиент %d\",\"language_code\":\"ru\",\"started\":true}",
                 first + i, i);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        long code = 0;
        if (curl_easy_perform(h) == CURLE_OK) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
        if (code != 200) errors++;
    }
    curl_slist_free_all(hl);
    curl_easy_cleanup(h);
    free(resp.p);
    if (errors) fprintf(stderr, "logi_load: %d tgsim users failed\n", errors);
    return errors ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (sodium_init() < 0) return 1;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (argc == 5 && strcmp(argv[1], "tgusers") == 0) return tg_users(argv[2], atoll(argv[3]), atoi(argv[4]));
    if ((argc != 10 && argc != 11) || (strcmp(argv[1], "http") != 0 && strcmp(argv[1], "sql") != 0)) {
        fprintf(stderr, "usage: logi_load http|sql URL|CONNINFO SECRET|TABLE PREFIX NPOST NEV BATCH CONC T0 [RATE]\n"
                        "       logi_load tgusers TGSIM_BASE FIRST_ID COUNT\n");
        return 2;
    }
    g.http = strcmp(argv[1], "http") == 0;
    g.target = argv[2];
    g.secret_or_table = argv[3];
    g.prefix = argv[4];
    g.npost = atoi(argv[5]);
    g.nev = atoi(argv[6]);
    g.batch = atoi(argv[7]);
    g.conc = atoi(argv[8]);
    g.t0 = atoll(argv[9]);
    g.rate = argc == 11 ? atof(argv[10]) : 0;
    if (g.npost < 1 || g.npost > 9999 || g.nev < 1 || g.batch < 1 || g.batch > 1000 || g.conc < 1 || strlen(g.prefix) != 8)
        return 2;
    int rc = run_load();
    curl_global_cleanup();
    return rc;
}
