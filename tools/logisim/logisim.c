/* logisim.c — an emulated logistics system for demos and manual testing.
 *
 * Purpose: moves postings along a delivery route, one step every --step-s
 * seconds, by POSTing signed events to plus7d's logistics webhook exactly as
 * the company's logistics system would (DESIGN.md: X-Plus7-Signature:
 * sha256=<hex HMAC-SHA256 of the body>). Event ids are derived from
 * posting and status, so restarting logisim repeats nothing.
 *
 * Two modes:
 *   --postings P1,P2,...  a fixed list, each along created → accepted →
 *       in_transit → at_pickup_point (odd order number) or out_for_delivery
 *       (even) → delivered;
 *   --db CONNINFO  what people do in the demo: a posting with a courier
 *       delivery ordered moves accepted → in_transit and waits there for its
 *       courier (the courier's steps in the bot move it on; tools/couriersim
 *       does that in the demo); a posting somebody tracks moves accepted →
 *       in_transit → at_pickup_point and waits there to be collected (so
 *       pickup reminders and their buttons can be tried). With --listen the
 *       courier deliveries are the ones plus7d's signed outbound events
 *       booked (and did not cancel) — as the real system learns of them;
 *       without it they are read from plus7's deliveries table.
 *
 * usage: logisim --plus7 http://127.0.0.1:8080 --secret S
 *                (--postings P1,P2,... | --db CONNINFO) [--step-s 45] [--once]
 *        logisim --listen HOST:PORT --secret S [--status N] [--delay-ms N]
 *                (the receiving side: plus7d's outbound events, logisim_recv.c)
 * Exits 0 when every listed posting is delivered (list mode) or on SIGTERM
 * (db mode), 2 on bad arguments, 1 when plus7d keeps refusing.
 *
 * Exports: main. Threads: main only (a tool, not part of the service).
 */
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <libpq-fe.h>
#include <sodium.h>

#include "logisim.h"

#define LOGISIM_MAX 64

static const char *const logisim_route_pickup[] = {"created", "accepted", "in_transit", "at_pickup_point", "delivered"};
static const char *const logisim_route_courier[] = {"created", "accepted", "in_transit", "out_for_delivery", "delivered"};
static volatile sig_atomic_t logisim_stop;

static void logisim_on_signal(int sig) { (void)sig; logisim_stop = 1; }

static int logisim_post(const char *url, const char *secret, const char *body)
{
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, strlen(secret));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, strlen(body));
    crypto_auth_hmacsha256_final(&st, mac);
    char hex[2 * sizeof mac + 1], hdr[128];
    sodium_bin2hex(hex, sizeof hex, mac, sizeof mac);
    snprintf(hdr, sizeof hdr, "X-Plus7-Signature: sha256=%s", hex);
    CURL *c = curl_easy_init();
    if (!c) return -1;
    struct curl_slist *h = curl_slist_append(NULL, hdr);
    h = curl_slist_append(h, "Content-Type: application/json");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    if (rc != CURLE_OK) {
        fprintf(stderr, "logisim: %s\n", curl_easy_strerror(rc));
        return -1;
    }
    return status == 200 ? 0 : (int)status;
}

/* The next status of a posting in db mode, or NULL when it rests. */
static const char *logisim_next(const char *status, int courier)
{
    static const char *const courier_route[] = {"created", "accepted", "in_transit", NULL};
    static const char *const pickup_route[] = {"created", "accepted", "in_transit", "at_pickup_point", NULL};
    const char *const *route = courier ? courier_route : pickup_route;
    for (int i = 0; route[i]; i++)
        if (strcmp(route[i], status) == 0) return route[i + 1];
    return NULL;
}

/* One db-mode step: build a batch from the database; returns events added.
 * couriers: the postings booked through outbound events ("{…}" array
 * literal), or NULL to read plus7's deliveries table. */
static int logisim_db_batch(PGconn *db, char *body, size_t cap, const char *at, const char *couriers)
{
    const char *params[] = {couriers};
    PGresult *r = couriers
        ? PQexecParams(db,
            "SELECT o.posting_number, o.status, o.posting_number = ANY($1::text[]) AS courier"
            "  FROM orders o"
            " WHERE o.status NOT IN ('delivered', 'returned', 'cancelled')"
            "   AND (o.posting_number = ANY($1::text[])"
            "        OR EXISTS (SELECT 1 FROM order_subscribers s WHERE s.posting_number = o.posting_number))"
            " ORDER BY o.posting_number LIMIT 200", 1, NULL, params, NULL, NULL, 0)
        : PQexec(db,
            "SELECT o.posting_number, o.status, d.posting_number IS NOT NULL AS courier"
            "  FROM orders o"
            "  LEFT JOIN deliveries d ON d.posting_number = o.posting_number AND d.status = 'ordered'"
            " WHERE o.status NOT IN ('delivered', 'returned', 'cancelled')"
            "   AND (d.posting_number IS NOT NULL"
            "        OR EXISTS (SELECT 1 FROM order_subscribers s WHERE s.posting_number = o.posting_number))"
            " ORDER BY o.posting_number LIMIT 200");
    int events = 0;
    size_t len = (size_t)snprintf(body, cap, "{\"events\":[");
    if (PQresultStatus(r) == PGRES_TUPLES_OK) {
        for (int i = 0; i < PQntuples(r); i++) {
            const char *posting = PQgetvalue(r, i, 0);
            const char *next = logisim_next(PQgetvalue(r, i, 1), PQgetvalue(r, i, 2)[0] == 't');
            if (!next || len + 512 > cap) continue;
            len += (size_t)snprintf(body + len, cap - len,
                                    "%s{\"id\":\"logisim-%s-%s\",\"posting_number\":\"%s\",\"status\":\"%s\",\"at\":\"%s\"%s}",
                                    events ? "," : "", posting, next, posting, next, at,
                                    strcmp(next, "at_pickup_point") == 0
                                        ? ",\"pickup_point\":\"ПВЗ «+7Доставки», Донецк, ул. Артёма, 1\"" : "");
            events++;
        }
    } else {
        fprintf(stderr, "logisim: %s", PQerrorMessage(db));
    }
    PQclear(r);
    snprintf(body + len, cap - len, "]}");
    return events;
}

int main(int argc, char **argv)
{
    const char *plus7 = NULL, *secret = NULL, *dbinfo = NULL, *listen = NULL;
    char postings_buf[4096] = "12345678-0001-1,12345678-0002-1,12345678-0003-1,12345678-0004-1,"
                              "12345678-0006-1,12345678-0009-1";
    int step_s = 45, once = 0;
    bool sending = false;
    for (int i = 1; i < argc; i++) sending = sending || !strcmp(argv[i], "--plus7");
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--listen") && !sending) return logisim_recv_main(argc, argv);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--plus7") && i + 1 < argc) plus7 = argv[++i];
        else if (!strcmp(argv[i], "--secret") && i + 1 < argc) secret = argv[++i];
        else if (!strcmp(argv[i], "--postings") && i + 1 < argc) snprintf(postings_buf, sizeof postings_buf, "%s", argv[++i]);
        else if (!strcmp(argv[i], "--step-s") && i + 1 < argc) step_s = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--db") && i + 1 < argc) dbinfo = argv[++i];
        else if (!strcmp(argv[i], "--once")) once = 1;
        else if (!strcmp(argv[i], "--listen") && i + 1 < argc) listen = argv[++i];
        else {
            fprintf(stderr, "usage: logisim --plus7 URL --secret S (--postings P,... | --db CONNINFO) [--step-s N] [--once]"
                            " [--listen HOST:PORT]\n");
            return 2;
        }
    }
    if (!plus7 || !secret || step_s < 1) {
        fprintf(stderr, "logisim: --plus7 and --secret are required, --step-s must be >= 1\n");
        return 2;
    }
    if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != 0) return 1;
    signal(SIGTERM, logisim_on_signal);
    signal(SIGINT, logisim_on_signal);

    char *postings[LOGISIM_MAX];
    int n = 0, stage[LOGISIM_MAX] = {0};
    for (char *save = NULL, *p = strtok_r(postings_buf, ",", &save); p && n < LOGISIM_MAX; p = strtok_r(NULL, ",", &save))
        postings[n++] = p;
    char url[1024];
    snprintf(url, sizeof url, "%s/api/logistics/events", plus7);
    PGconn *db = NULL;
    if (dbinfo) {
        db = PQconnectdb(dbinfo);
        if (PQstatus(db) != CONNECTION_OK) {
            fprintf(stderr, "logisim: database: %s", PQerrorMessage(db));
            PQfinish(db);
            return 1;
        }
        printf("logisim: moving tracked postings and ordered deliveries every %d s\n", step_s);
        char bound[160];
        if (listen && logisim_recv_start(listen, secret, bound, sizeof bound) != 0) {
            fprintf(stderr, "logisim: cannot listen on %s\n", listen);
            PQfinish(db);
            return 1;
        }
        if (listen) printf("logisim listening on http://%s (outbound events of plus7d)\n", bound);
    } else {
        printf("logisim: moving %d postings every %d s\n", n, step_s);
    }
    fflush(stdout);
    int failures = 0;
    while (!logisim_stop) {
        char body[32768];
        size_t len = (size_t)snprintf(body, sizeof body, "{\"events\":[");
        int events = 0;
        time_t now = time(NULL);
        char at[32];
        strftime(at, sizeof at, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
        if (db) {
            if (PQstatus(db) != CONNECTION_OK) PQreset(db);
            char couriers[16384];
            if (listen) logisim_recv_couriers(couriers, sizeof couriers);
            events = logisim_db_batch(db, body, sizeof body, at, listen ? couriers : NULL);
            if (events > 0 && logisim_post(url, secret, body) == 0) {
                printf("logisim: sent %d events (%s)\n", events, at);
                fflush(stdout);
            }
            if (once) break;
            for (int s = 0; s < step_s && !logisim_stop; s++) sleep(1);
            continue;
        }
        for (int i = 0; i < n; i++) {
            int order_no = atoi(postings[i] + strcspn(postings[i], "-") + 1);
            const char *const *route = order_no % 2 ? logisim_route_pickup : logisim_route_courier;
            if (stage[i] >= 5) continue;
            const char *status = route[stage[i]];
            len += (size_t)snprintf(body + len, sizeof body - len,
                                    "%s{\"id\":\"logisim-%s-%s\",\"posting_number\":\"%s\",\"status\":\"%s\",\"at\":\"%s\"%s}",
                                    events ? "," : "", postings[i], status, postings[i], status, at,
                                    strcmp(status, "at_pickup_point") == 0
                                        ? ",\"pickup_point\":\"ПВЗ «+7Доставки», Донецк, ул. Артёма, 1\"" : "");
            events++;
        }
        snprintf(body + len, sizeof body - len, "]}");
        if (events == 0) break;
        int rc = logisim_post(url, secret, body);
        if (rc == 0) {
            for (int i = 0; i < n; i++) if (stage[i] < 5) stage[i]++;
            printf("logisim: sent %d events (%s)\n", events, at);
            fflush(stdout);
            failures = 0;
        } else if (++failures >= 20) {
            fprintf(stderr, "logisim: plus7d keeps refusing (last status %d)\n", rc);
            return 1;
        }
        if (once) break;
        for (int s = 0; s < step_s && !logisim_stop; s++) sleep(1);
    }
    if (listen && db) logisim_recv_stop();
    PQfinish(db);
    curl_global_cleanup();
    return 0;
}
