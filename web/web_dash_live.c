/* web_dash_live.c — the websocket /api/live: committed changes to open pages.
 *
 * Purpose: anything that changes (an order's status, later a courier, a
 * ticket, a payment) runs, in the SAME transaction,
 *   SELECT pg_notify('plus7_live', '<the whole JSON frame>')
 * so only committed changes are published. This file keeps one connection
 * of its own LISTENing on plus7_live (a thread of its own: it blocks in
 * poll, never on a runtime worker) and writes every payload as a text
 * frame to every open websocket. Opening /api/live needs a session cookie
 * (any role): without one the upgrade is answered 401 with the JSON error
 * and closed. Every WEB_DASH_LIVE_PING_MS the thread pings every socket, so
 * idle pages are not timed out and dead peers are noticed. The listener
 * reconnects with a growing pause (up to 5 s) when the database goes away;
 * notifications sent while it was away are lost, which pages tolerate (a
 * reconnecting page reloads what it shows).
 *
 * Exports: web_dash_live_register, web_dash_live_start, web_dash_live_stop.
 * Threads: start/stop on the main thread (after web_server_start / before
 * web_server_stop); websocket callbacks on civetweb threads; the listener
 * on its own thread. g_live.mu guards the socket list; frames are written
 * under it, so a socket is never written after its close callback ran.
 */
#include "web_dash.h"
#include "web_dash_live.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <civetweb.h>

#include "rt.h"
#include "rt_log.h"
#include "texts.h"

#define WEB_DASH_LIVE_MAX 1024
#define WEB_DASH_LIVE_PING_MS 5000

static struct {
    pthread_mutex_t mu;
    struct mg_connection *socks[WEB_DASH_LIVE_MAX];
    int n;
    pthread_t thread;
    bool started;
    /* relaxed is enough: the flag only asks the listener to leave its loop;
     * pthread_join orders everything it did before the stop returns */
    atomic_bool stop;
    char *conninfo;
} g_live = {.mu = PTHREAD_MUTEX_INITIALIZER};

static int live_connect(const struct mg_connection *cc, void *arg)
{
    (void)arg;
    struct mg_connection *c = (struct mg_connection *)cc;
    const struct mg_request_info *ri = mg_get_request_info(c);
    web_req_t req = {.conn = c, .ri = ri, .method = "GET", .path = ri->local_uri, .query = ri->query_string,
                     .deadline_ms = rt_now_ms() + 5000};
    web_dash_ctx_t ctx;
    if (web_dash_begin(&req, WEB_DASH_ANY, &ctx) != RT_OK) return 1;   /* answered 401/403/503 */
    web_dash_end(&ctx);
    pthread_mutex_lock(&g_live.mu);
    bool full = g_live.n >= WEB_DASH_LIVE_MAX;
    pthread_mutex_unlock(&g_live.mu);
    if (full) {
        web_dash_error(&req, 503, "too many live pages", NULL);
        return 1;
    }
    return 0;
}

static void live_ready(struct mg_connection *c, void *arg)
{
    (void)arg;
    pthread_mutex_lock(&g_live.mu);
    if (g_live.n < WEB_DASH_LIVE_MAX) g_live.socks[g_live.n++] = c;
    pthread_mutex_unlock(&g_live.mu);
}

static int live_data(struct mg_connection *c, int bits, char *data, size_t len, void *arg)
{
    (void)c, (void)data, (void)len, (void)arg;
    return (bits & 0x0F) == MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE ? 0 : 1;   /* pages only listen */
}

static void live_close(const struct mg_connection *c, void *arg)
{
    (void)arg;
    pthread_mutex_lock(&g_live.mu);
    for (int i = 0; i < g_live.n; i++) {
        if (g_live.socks[i] == c) {
            g_live.socks[i] = g_live.socks[--g_live.n];
            break;
        }
    }
    pthread_mutex_unlock(&g_live.mu);
}

static void live_send_all(int opcode, const char *data, size_t len)
{
    pthread_mutex_lock(&g_live.mu);
    for (int i = 0; i < g_live.n; i++) mg_websocket_write(g_live.socks[i], opcode, data, len);
    pthread_mutex_unlock(&g_live.mu);
}

static PGconn *live_listen_conn(void)
{
    const char *keys[] = {"connect_timeout", "application_name", "dbname", NULL};
    const char *vals[] = {"5", "plus7d-live", g_live.conninfo, NULL};
    PGconn *db = PQconnectdbParams(keys, vals, 1);
    if (PQstatus(db) == CONNECTION_OK) {
        PGresult *r = PQexec(db, "LISTEN plus7_live");
        bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        PQclear(r);
        if (ok) return db;
    }
    PQfinish(db);
    return NULL;
}

static void *live_thread(void *arg)
{
    (void)arg;
    PGconn *db = NULL;
    int pause_ms = 100;
    uint64_t next_ping = rt_now_ms() + WEB_DASH_LIVE_PING_MS;
    while (!atomic_load_explicit(&g_live.stop, memory_order_relaxed)) {
        if (!db) {
            db = live_listen_conn();
            if (!db) {
                LOG_WARN("dash_live_listen_failed", "retry_ms=%d", pause_ms);
                struct pollfd none = {.fd = -1};
                poll(&none, 0, pause_ms);
                pause_ms = pause_ms * 2 > 5000 ? 5000 : pause_ms * 2;
                continue;
            }
            pause_ms = 100;
            LOG_INFO("dash_live_listening", "channel=plus7_live");
        }
        struct pollfd p = {.fd = PQsocket(db), .events = POLLIN};
        int pr = poll(&p, 1, 250);
        if (pr < 0 && errno != EINTR) break;
        if (pr > 0 && !PQconsumeInput(db)) {
            LOG_WARN("dash_live_connection_lost", "error=\"%s\"", "consume failed");
            PQfinish(db);
            db = NULL;
            continue;
        }
        for (PGnotify *n; (n = PQnotifies(db)); PQfreemem(n))
            live_send_all(MG_WEBSOCKET_OPCODE_TEXT, n->extra, strlen(n->extra));
        if (rt_now_ms() >= next_ping) {
            live_send_all(MG_WEBSOCKET_OPCODE_PING, "", 0);
            next_ping = rt_now_ms() + WEB_DASH_LIVE_PING_MS;
        }
    }
    PQfinish(db);
    return NULL;
}

/* GET /api/live without an Upgrade (civetweb hands upgrades to the
 * websocket handler before any route): 401 without a session, else 426. */
static int live_plain(web_req_t *req)
{
    web_dash_ctx_t c;
    if (web_dash_begin(req, WEB_DASH_ANY, &c) != RT_OK) return RT_OK;
    web_dash_end(&c);
    return web_dash_error(req, 426, text_get(T_DASH_E_WEBSOCKET), NULL);
}

/* Contract: see web_dash.h. */
int web_dash_live_register(void)
{
    int rc = web_ws_route_add("/api/live", live_connect, live_ready, live_data, live_close, NULL);
    return rc == RT_OK ? web_route_add("GET", "/api/live", live_plain) : rc;
}

/* Contract: see web_dash_live.h. */
int web_dash_live_start(const char *conninfo)
{
    if (!conninfo || g_live.started) return RT_EINVAL;
    g_live.conninfo = strdup(conninfo);
    if (!g_live.conninfo) return RT_ENOMEM;
    atomic_store_explicit(&g_live.stop, false, memory_order_relaxed);
    if (pthread_create(&g_live.thread, NULL, live_thread, NULL) != 0) {
        free(g_live.conninfo);
        g_live.conninfo = NULL;
        return RT_ENOMEM;
    }
    g_live.started = true;
    return RT_OK;
}

/* Contract: see web_dash_live.h. */
void web_dash_live_stop(void)
{
    if (!g_live.started) return;
    atomic_store_explicit(&g_live.stop, true, memory_order_relaxed);
    pthread_join(g_live.thread, NULL);
    g_live.started = false;
    free(g_live.conninfo);
    g_live.conninfo = NULL;
}
