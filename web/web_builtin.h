/* web_builtin.h — the routes the web layer itself provides.
 *
 * Purpose: GET /healthz (database reachability), GET /metrics (Prometheus
 * text) and the static dashboard root. Each lives in its own file
 * (web_health.c, web_metrics.c, web_static.c) and registers itself through
 * web_route_add like any other module.
 *
 * Exports: web_health_register, web_health_shutdown, web_metrics_register,
 * web_metrics_source_add, web_static_register.
 * Threads: the register functions on the main thread before
 * web_server_start; the handlers on civetweb threads.
 */
#ifndef PLUS7_WEB_BUILTIN_H
#define PLUS7_WEB_BUILTIN_H

#include <stddef.h>

#include "rt.h"

/* GET /healthz: 200 {"status":"ok"} when SELECT 1 succeeds within 2 s on
 * health's own connection to `conninfo` (copied), else 503
 * {"status":"unavailable","database":"down"}; the answer is cached for one
 * second. Returns RT_EINVAL, RT_ENOMEM or web_route_add's result. */
int web_health_register(const char *conninfo);

/* Close health's connection (after web_server_stop). Main thread. */
void web_health_shutdown(void);

/* GET /metrics: Prometheus text exposition 0.0.4 of the runtime counters
 * (rt_stats_get on `rt`, which may be NULL), the async PostgreSQL and HTTP
 * client counters, HTTP requests by route and status, log lines dropped.
 * `rt` must outlive the web server. Returns web_route_add's result. */
int web_metrics_register(rt_runtime_t *rt);

/* A module's own /metrics lines (e.g. the Ozon gateway's plus7_ozon_*):
 * writes Prometheus text into buf (cap bytes, NUL-terminated when cap > 0)
 * and returns the length the whole text needs, like snprintf. Called on
 * civetweb threads at every scrape. Lets app/ plug actors' counters in
 * without web/ knowing actors/. */
typedef size_t (*web_metrics_source_fn)(char *buf, size_t cap);

/* Add a source to GET /metrics (main thread, before web_server_start; at
 * most 8). RT_OK, RT_EINVAL (NULL) or RT_EFULL. */
int web_metrics_source_add(web_metrics_source_fn fn);

/* GET / (everything not taken by a longer prefix): files under `dir`
 * (resolved with realpath; must exist) with content types by extension,
 * "index.html" for directories, no listings, no dot-files, nothing outside
 * `dir` (".." segments answer 403, symlinks leading out 404). Returns
 * RT_OK, RT_EINVAL (dir missing) or web_route_add's error. */
int web_static_register(const char *dir);

#endif
