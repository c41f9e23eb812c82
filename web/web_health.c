/* web_health.c — GET /healthz.
 *
 * Purpose: a load balancer's and ./dev's liveness probe: 200 when the
 * database answers a SELECT 1 through the web layer's synchronous pool,
 * 503 otherwise, both as JSON (docs/openapi.yaml).
 *
 * Exports: web_health_register.
 * Threads: registration on the main thread; the handler on civetweb threads.
 */
#include "web_builtin.h"
#include "web_db.h"
#include "web_server.h"

#define WEB_HEALTH_TIMEOUT_MS 2000

static int web_health_get(web_req_t *req)
{
    if (web_db_ping(WEB_HEALTH_TIMEOUT_MS) == RT_OK)
        return web_reply_json(req, 200, "{\"status\":\"ok\"}");
    return web_reply_json(req, 503, "{\"status\":\"unavailable\",\"database\":\"down\"}");
}

/* Contract: see web_builtin.h. */
int web_health_register(void)
{
    return web_route_add("GET", "/healthz", web_health_get);
}
