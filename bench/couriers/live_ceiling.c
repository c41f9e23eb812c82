/* live_ceiling.c — the ceiling of bench "couriers" live points: plain libpq + bare civetweb.
 *
 * Purpose: what the live-location path costs with nothing of plus7 in it.
 * A civetweb server on 127.0.0.1:PORT takes the same Telegram updates
 * live_load.c POSTs to /telegram/webhook, parses them (cJSON), and runs ONE
 * autocommit statement per point on its thread's own libpq connection:
 *   INSERT INTO courier_points … (the courier found by tg_user_id)
 *   + pg_notify(CHANNEL, {"type":"courier","courier":{"id","lat","lon","at"}})
 * then answers 200. One more connection LISTENs on CHANNEL (a thread of its
 * own, poll) and writes every payload as a text frame to every websocket
 * open on /api/live (no session check: a bare broadcaster). No inbox, no
 * actors, no thinning, no courier row update: the floor under plus7d's path.
 *
 * Usage: live_ceiling PORT THREADS CHANNEL CONNINFO — prints "ready" on
 * stdout once serving; runs until SIGTERM/SIGINT.
 * Threads: main (start, wait for the signal, stop); civetweb workers
 * (requests, websocket callbacks); the listener. g_mu guards the socket list;
 * frames are written under it so no socket is written after its close.
 */
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <civetweb.h>
#include <cjson/cJSON.h>
#include <libpq-fe.h>

#define MAX_SOCKS 256

static const char *g_conninfo, *g_channel;
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static struct mg_connection *g_socks[MAX_SOCKS];
static int g_nsocks;
/* relaxed: flags that only ask loops to end; joins order the rest */
static atomic_bool g_stop;
static volatile sig_atomic_t g_signal;
static pthread_key_t g_conn_key;

static const char insert_sql[] =
    "WITH p AS (INSERT INTO courier_points (courier_id, at, lat, lon, accuracy, heading)"
    "           SELECT c.id, to_timestamp($2::bigint), $3::float8, $4::float8, $5::float8, $6::int"
    "             FROM couriers c WHERE c.tg_user_id = $1::bigint"
    "           RETURNING courier_id, at, lat, lon)"
    " SELECT pg_notify($7, json_build_object('type', 'courier', 'courier',"
    "        json_build_object('id', courier_id, 'lat', lat, 'lon', lon, 'at', at))::text) FROM p";

static void conn_free(void *p) { PQfinish(p); }

static PGconn *thread_conn(void)
{
    PGconn *db = pthread_getspecific(g_conn_key);
    if (db && PQstatus(db) == CONNECTION_OK) return db;
    if (db) PQfinish(db);
    db = PQconnectdb(g_conninfo);
    if (PQstatus(db) != CONNECTION_OK) {
        fprintf(stderr, "live_ceiling: %s", PQerrorMessage(db));
        PQfinish(db);
        db = NULL;
    }
    pthread_setspecific(g_conn_key, db);
    return db;
}

static int reply(struct mg_connection *c, int status, const char *body)
{
    mg_printf(c, "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s", status,
              status == 200 ? "OK" : "Error", strlen(body), body);
    return status;
}

static int on_webhook(struct mg_connection *c, void *arg)
{
    (void)arg;
    char body[4096];
    int len = 0, r;
    while (len < (int)sizeof body - 1 && (r = mg_read(c, body + len, sizeof body - 1 - (size_t)len)) > 0) len += r;
    body[len] = '\0';
    cJSON *root = cJSON_ParseWithLength(body, (size_t)len);
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(root, "edited_message");
    const cJSON *from = cJSON_GetObjectItemCaseSensitive(m, "from");
    const cJSON *loc = cJSON_GetObjectItemCaseSensitive(m, "location");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(from, "id");
    const cJSON *at = cJSON_GetObjectItemCaseSensitive(m, "edit_date");
    const cJSON *lat = cJSON_GetObjectItemCaseSensitive(loc, "latitude");
    const cJSON *lon = cJSON_GetObjectItemCaseSensitive(loc, "longitude");
    if (!cJSON_IsNumber(id) || !cJSON_IsNumber(at) || !cJSON_IsNumber(lat) || !cJSON_IsNumber(lon)) {
        cJSON_Delete(root);
        return reply(c, 400, "{\"error\":\"not a live location\",\"field\":\"edited_message\"}");
    }
    const cJSON *acc = cJSON_GetObjectItemCaseSensitive(loc, "horizontal_accuracy");
    const cJSON *head = cJSON_GetObjectItemCaseSensitive(loc, "heading");
    char p[6][32];
    snprintf(p[0], sizeof p[0], "%.0f", id->valuedouble);
    snprintf(p[1], sizeof p[1], "%.0f", at->valuedouble);
    snprintf(p[2], sizeof p[2], "%.7f", lat->valuedouble);
    snprintf(p[3], sizeof p[3], "%.7f", lon->valuedouble);
    snprintf(p[4], sizeof p[4], "%.1f", cJSON_IsNumber(acc) ? acc->valuedouble : 0.0);
    snprintf(p[5], sizeof p[5], "%d", cJSON_IsNumber(head) ? head->valueint : 0);
    cJSON_Delete(root);
    const char *params[] = {p[0], p[1], p[2], p[3], p[4], p[5], g_channel};
    PGconn *db = thread_conn();
    if (!db) return reply(c, 503, "{\"error\":\"database\"}");
    PGresult *res = PQexecParams(db, insert_sql, 7, NULL, params, NULL, NULL, 0);
    int ok = PQresultStatus(res) == PGRES_TUPLES_OK;
    if (!ok) fprintf(stderr, "live_ceiling: %s", PQresultErrorMessage(res));
    PQclear(res);
    return reply(c, ok ? 200 : 500, ok ? "{}" : "{\"error\":\"insert\"}");
}

static int ws_connect(const struct mg_connection *c, void *arg)
{
    (void)c, (void)arg;
    return 0;
}

static void ws_ready(struct mg_connection *c, void *arg)
{
    (void)arg;
    pthread_mutex_lock(&g_mu);
    if (g_nsocks < MAX_SOCKS) g_socks[g_nsocks++] = c;
    pthread_mutex_unlock(&g_mu);
}

static int ws_data(struct mg_connection *c, int bits, char *data, size_t len, void *arg)
{
    (void)c, (void)data, (void)len, (void)arg;
    return (bits & 0x0F) == MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE ? 0 : 1;
}

static void ws_close(const struct mg_connection *c, void *arg)
{
    (void)arg;
    pthread_mutex_lock(&g_mu);
    for (int i = 0; i < g_nsocks; i++)
        if (g_socks[i] == c) {
            g_socks[i] = g_socks[--g_nsocks];
            break;
        }
    pthread_mutex_unlock(&g_mu);
}

static void *listener(void *arg)
{
    (void)arg;
    PGconn *db = PQconnectdb(g_conninfo);
    char listen[128];
    snprintf(listen, sizeof listen, "LISTEN %s", g_channel);
    PGresult *r = PQexec(db, listen);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) fprintf(stderr, "live_ceiling: LISTEN: %s", PQerrorMessage(db));
    PQclear(r);
    while (!atomic_load_explicit(&g_stop, memory_order_relaxed)) {
        struct pollfd p = {.fd = PQsocket(db), .events = POLLIN};
        if (poll(&p, 1, 250) > 0 && !PQconsumeInput(db)) break;
        for (PGnotify *n; (n = PQnotifies(db)); PQfreemem(n)) {
            pthread_mutex_lock(&g_mu);
            for (int i = 0; i < g_nsocks; i++)
                mg_websocket_write(g_socks[i], MG_WEBSOCKET_OPCODE_TEXT, n->extra, strlen(n->extra));
            pthread_mutex_unlock(&g_mu);
        }
    }
    PQfinish(db);
    return NULL;
}

static void on_signal(int s) { g_signal = s; }

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: live_ceiling PORT THREADS CHANNEL CONNINFO\n");
        return 2;
    }
    char ports[64];
    snprintf(ports, sizeof ports, "127.0.0.1:%s", argv[1]);
    g_channel = argv[3];
    g_conninfo = argv[4];
    pthread_key_create(&g_conn_key, conn_free);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    const char *opts[] = {"listening_ports", ports, "num_threads", argv[2], "enable_keep_alive", "yes",
                          "websocket_timeout_ms", "3600000", "request_timeout_ms", "30000", NULL};
    struct mg_callbacks cb = {0};
    mg_init_library(0);
    struct mg_context *ctx = mg_start(&cb, NULL, opts);
    if (!ctx) {
        fprintf(stderr, "live_ceiling: civetweb did not start on %s\n", ports);
        return 1;
    }
    mg_set_request_handler(ctx, "/telegram/webhook", on_webhook, NULL);
    mg_set_websocket_handler(ctx, "/api/live", ws_connect, ws_ready, ws_data, ws_close, NULL);
    pthread_t th;
    pthread_create(&th, NULL, listener, NULL);
    printf("ready\n");
    fflush(stdout);
    while (!g_signal) pause();
    atomic_store_explicit(&g_stop, true, memory_order_relaxed);
    pthread_join(th, NULL);
    mg_stop(ctx);
    mg_exit_library();
    return 0;
}
