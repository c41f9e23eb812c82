/* web_health.c — GET /healthz.
 *
 * Purpose: a load balancer's and ./dev's liveness probe: 200 when the
 * database answers a SELECT 1, 503 otherwise, both as JSON
 * (docs/openapi.yaml). Probes must never compete with intake, so health
 * has its own connection (application_name plus7d-health), never one of
 * the web_db pool's, and the answer is cached for a second: a flood of
 * probes costs at most one SELECT per second on one connection. One probe
 * at a time talks to the database (g_health.mu, held for at most the 2 s
 * probe deadline); probes arriving meanwhile wait for its answer.
 *
 * Exports: web_health_register, web_health_shutdown.
 * Threads: registration on the main thread; the handler on civetweb threads.
 */
#include "web_builtin.h"
#include "web_pq.h"
#include "web_server.h"

#include "rt_log.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define WEB_HEALTH_TIMEOUT_MS 2000
#define WEB_HEALTH_CACHE_MS 1000

static struct {
    pthread_mutex_t mu;
    char *conninfo;     /* set at registration, read-only afterwards */
    PGconn *conn;       /* guarded by mu */
    uint64_t at;        /* rt_now_ms() of the cached answer, 0 = none; guarded by mu */
    bool ok;            /* guarded by mu */
} g_health = {.mu = PTHREAD_MUTEX_INITIALIZER};

/* SELECT 1 on health's own connection within the probe deadline; the
 * connection is dropped after any failure and made again next time. */
static bool web_health_probe(void)
{
    uint64_t deadline = rt_now_ms() + WEB_HEALTH_TIMEOUT_MS;
    if (!g_health.conn) {
        char err[256];
        g_health.conn = web_pq_connect(g_health.conninfo, "plus7d-health", WEB_HEALTH_TIMEOUT_MS,
                                       err, sizeof err);
        if (!g_health.conn) {
            LOG_WARN("health_db_down", "error=\"%s\"", err);
            return false;
        }
    }
    uint64_t now = rt_now_ms();
    PGresult *r = NULL;
    int rc = now < deadline ? web_pq_exec(g_health.conn, "SELECT 1", 0, NULL, (int)(deadline - now), &r)
                            : RT_ETIMEDOUT;
    bool ok = rc == RT_OK && PQresultStatus(r) == PGRES_TUPLES_OK;
    PQclear(r);
    if (!ok) {
        LOG_WARN("health_db_down", "error=\"%s\"", rt_strerror(rc == RT_OK ? RT_EIO : rc));
        PQfinish(g_health.conn);
        g_health.conn = NULL;
    }
    return ok;
}

static int web_health_get(web_req_t *req)
{
    pthread_mutex_lock(&g_health.mu);
    uint64_t now = rt_now_ms();
    if (!g_health.at || now - g_health.at >= WEB_HEALTH_CACHE_MS) {
        g_health.ok = web_health_probe();
        g_health.at = rt_now_ms();
    }
    bool ok = g_health.ok;
    pthread_mutex_unlock(&g_health.mu);
    if (ok) return web_reply_json(req, 200, "{\"status\":\"ok\"}");
    return web_reply_json(req, 503, "{\"status\":\"unavailable\",\"database\":\"down\"}");
}

/* Contract: see web_builtin.h. */
int web_health_register(const char *conninfo)
{
    if (!conninfo) return RT_EINVAL;
    free(g_health.conninfo);
    if (!(g_health.conninfo = strdup(conninfo))) return RT_ENOMEM;
    return web_route_add("GET", "/healthz", web_health_get);
}

/* Contract: see web_builtin.h. */
void web_health_shutdown(void)
{
    pthread_mutex_lock(&g_health.mu);
    PQfinish(g_health.conn);
    g_health.conn = NULL;
    g_health.at = 0;
    pthread_mutex_unlock(&g_health.mu);
    free(g_health.conninfo);
    g_health.conninfo = NULL;
}
