/* web_metrics.c — GET /metrics in the Prometheus text exposition format.
 *
 * Purpose: one scrape renders, in one response: the runtime's counters
 * (rt_stats_get: live actors, activations, passivations, failures and
 * quarantines per kind, messages delivered, deepest mailbox), a messages
 * per second gauge computed here from successive snapshots, the async
 * PostgreSQL and HTTP client counters, the web layer's requests by route
 * and status, the lines of modules' own sources (web_metrics_source_add,
 * e.g. plus7_ozon_*), and the log lines dropped by the async logger.
 *
 * Rate: the delivered-message counter is sampled at each scrape; when the
 * previous sample is at least 1 s old the gauge becomes
 * (messages - previous) / elapsed and the sample is replaced, otherwise the
 * last computed value is repeated. The first scrape measures since
 * registration. Prometheus users may prefer rate(plus7_messages_total[1m]).
 *
 * Exports: web_metrics_register, web_metrics_source_add.
 * Threads: registration on the main thread; the handler on civetweb
 * threads (a mutex guards the rate sample).
 */
#include "web_builtin.h"
#include "web_buf.h"
#include "web_server.h"

#include "rt.h"
#include "rt_http.h"
#include "rt_log.h"
#include "rt_pg.h"

#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static rt_runtime_t *g_rt;   /* written before the server starts */
static web_metrics_source_fn g_sources[8];   /* idem (web_metrics_source_add) */
static int g_nsources;
static time_t g_start_time;

static struct {
    pthread_mutex_t mu;
    uint64_t t_ms, messages;  /* last sample */
    double rate;
} g_rate = {.mu = PTHREAD_MUTEX_INITIALIZER};

/* Append v as a label value: backslash, double quote and newline escaped. */
static void metrics_label(web_buf_t *b, const char *v)
{
    for (const char *p = v ? v : ""; *p; p++) {
        if (*p == '\\') web_buf_append(b, "\\\\", 2);
        else if (*p == '"') web_buf_append(b, "\\\"", 2);
        else if (*p == '\n') web_buf_append(b, "\\n", 2);
        else web_buf_append(b, p, 1);
    }
}

static void metrics_family(web_buf_t *b, const char *name, const char *type, const char *help)
{
    web_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static double metrics_rate(uint64_t messages)
{
    pthread_mutex_lock(&g_rate.mu);
    uint64_t now = rt_now_ms();
    if (now >= g_rate.t_ms + 1000) {
        uint64_t dm = messages >= g_rate.messages ? messages - g_rate.messages : 0;
        g_rate.rate = (double)dm * 1000.0 / (double)(now - g_rate.t_ms);
        g_rate.t_ms = now;
        g_rate.messages = messages;
    }
    double r = g_rate.rate;
    pthread_mutex_unlock(&g_rate.mu);
    return r;
}

static void metrics_route_line(const char *route, const char *method, int status,
                               uint64_t count, void *arg)
{
    web_buf_t *b = arg;
    web_buf_append(b, "plus7_http_requests_total{route=\"", 33);
    metrics_label(b, route);
    web_buf_append(b, "\",method=\"", 10);
    metrics_label(b, method);
    web_buf_printf(b, "\",status=\"%d\"} %llu\n", status, (unsigned long long)count);
}

static void metrics_kinds(web_buf_t *b, const rt_stats_t *st, const char *name, const char *type,
                          const char *help, size_t off)
{
    metrics_family(b, name, type, help);
    for (int i = 0; i < st->nkinds && i < (int)(sizeof st->kinds / sizeof st->kinds[0]); i++) {
        const rt_kind_stats_t *k = &st->kinds[i];
        uint64_t v;
        memcpy(&v, (const char *)k + off, sizeof v);
        web_buf_printf(b, "%s{kind=\"", name);
        metrics_label(b, k->name);
        web_buf_printf(b, "\"} %llu\n", (unsigned long long)v);
    }
}

static int web_metrics_get(web_req_t *req)
{
    web_buf_t b = WEB_BUF_INIT;
    rt_stats_t st;
    memset(&st, 0, sizeof st);
    if (g_rt) rt_stats_get(g_rt, &st);

    metrics_family(&b, "plus7_build_info", "gauge", "Build of the running plus7d.");
    web_buf_printf(&b, "plus7_build_info{version=\"%s\"} 1\n", PLUS7_VERSION);
    metrics_family(&b, "plus7_start_time_seconds", "gauge", "Process start, Unix time.");
    web_buf_printf(&b, "plus7_start_time_seconds %lld\n", (long long)g_start_time);

    metrics_kinds(&b, &st, "plus7_actors_live", "gauge", "Live (activated) actors by kind.",
                  offsetof(rt_kind_stats_t, live));
    metrics_kinds(&b, &st, "plus7_actor_activations_total", "counter",
                  "Actor activations by kind.", offsetof(rt_kind_stats_t, activations));
    metrics_kinds(&b, &st, "plus7_actor_passivations_total", "counter",
                  "Actor passivations by kind.", offsetof(rt_kind_stats_t, passivations));
    metrics_kinds(&b, &st, "plus7_actor_failures_total", "counter",
                  "Handler failures (state dropped, reloaded later) by kind.",
                  offsetof(rt_kind_stats_t, failures));
    metrics_kinds(&b, &st, "plus7_actor_quarantines_total", "counter",
                  "Keys quarantined after repeated failures, by kind.",
                  offsetof(rt_kind_stats_t, quarantines));

    metrics_family(&b, "plus7_messages_total", "counter", "Messages delivered to actor handlers.");
    web_buf_printf(&b, "plus7_messages_total %llu\n", (unsigned long long)st.messages);
    metrics_family(&b, "plus7_messages_per_second", "gauge",
                   "Messages delivered per second between the last two samples (>= 1 s apart).");
    web_buf_printf(&b, "plus7_messages_per_second %.3f\n", metrics_rate(st.messages));
    metrics_family(&b, "plus7_mailbox_deepest", "gauge", "Depth of the deepest mailbox (approximate).");
    web_buf_printf(&b, "plus7_mailbox_deepest %llu\n", (unsigned long long)st.deepest_mailbox);
    metrics_family(&b, "plus7_messages_dropped_quarantined_total", "counter",
                   "Messages dropped because their target was quarantined.");
    web_buf_printf(&b, "plus7_messages_dropped_quarantined_total %llu\n",
                   (unsigned long long)st.dropped_quarantined);

    metrics_family(&b, "plus7_db_inflight", "gauge", "Asynchronous PostgreSQL requests queued or in flight.");
    web_buf_printf(&b, "plus7_db_inflight %lld\n", (long long)rt_pg_stats_inflight());
    metrics_family(&b, "plus7_db_queries_total", "counter", "Asynchronous PostgreSQL requests completed.");
    web_buf_printf(&b, "plus7_db_queries_total %llu\n", (unsigned long long)rt_pg_stats_queries());
    metrics_family(&b, "plus7_db_errors_total", "counter",
                   "Asynchronous PostgreSQL requests completed with an error.");
    web_buf_printf(&b, "plus7_db_errors_total %llu\n", (unsigned long long)rt_pg_stats_errors());
    metrics_family(&b, "plus7_db_connections", "gauge", "Asynchronous PostgreSQL connections up.");
    web_buf_printf(&b, "plus7_db_connections %d\n", rt_pg_stats_connected());

    metrics_family(&b, "plus7_http_client_inflight", "gauge", "Outgoing HTTP requests in flight.");
    web_buf_printf(&b, "plus7_http_client_inflight %lld\n", (long long)rt_http_stats_inflight());
    metrics_family(&b, "plus7_http_client_requests_total", "counter", "Outgoing HTTP requests started.");
    web_buf_printf(&b, "plus7_http_client_requests_total %llu\n",
                   (unsigned long long)rt_http_stats_requests());
    metrics_family(&b, "plus7_http_client_errors_total", "counter",
                   "Outgoing HTTP requests that got no response (timeout, refused, ...).");
    web_buf_printf(&b, "plus7_http_client_errors_total %llu\n",
                   (unsigned long long)rt_http_stats_errors());

    metrics_family(&b, "plus7_http_requests_inflight", "gauge", "Incoming HTTP requests inside a handler.");
    web_buf_printf(&b, "plus7_http_requests_inflight %llu\n",
                   (unsigned long long)web_server_inflight());
    metrics_family(&b, "plus7_http_requests_total", "counter",
                   "Incoming HTTP requests by route prefix, route method and status.");
    web_server_stats_each(metrics_route_line, &b);

    for (int i = 0; i < g_nsources; i++) {   /* modules' own lines (web_metrics_source_add) */
        char small[4096];
        size_t n = g_sources[i](small, sizeof small);
        if (n < sizeof small) {
            web_buf_append(&b, small, n);
        } else {
            size_t cap = n + 1024;   /* room for counters that grew meanwhile */
            char *big = malloc(cap);
            size_t m = big ? g_sources[i](big, cap) : cap;
            if (m < cap) web_buf_append(&b, big, m);
            else b.oom = true;
            free(big);
        }
    }

    metrics_family(&b, "plus7_log_lines_dropped_total", "counter",
                   "Log lines dropped because the log ring was full.");
    web_buf_printf(&b, "plus7_log_lines_dropped_total %lu\n", rt_log_dropped());

    int rc;
    if (b.oom) rc = web_reply_error(req, 500, "out of memory", NULL);
    else rc = web_reply(req, 200, "text/plain; version=0.0.4; charset=utf-8",
                        "Cache-Control: no-store\r\n", b.p, b.len);
    web_buf_free(&b);
    return rc;
}

/* Contract: see web_builtin.h. */
int web_metrics_source_add(web_metrics_source_fn fn)
{
    if (!fn) return RT_EINVAL;
    if (g_nsources >= (int)(sizeof g_sources / sizeof g_sources[0])) return RT_EFULL;
    g_sources[g_nsources++] = fn;
    return RT_OK;
}

/* Contract: see web_builtin.h. */
int web_metrics_register(rt_runtime_t *rt)
{
    g_rt = rt;
    g_start_time = time(NULL);
    pthread_mutex_lock(&g_rate.mu);
    g_rate.t_ms = rt_now_ms();
    g_rate.messages = 0;
    g_rate.rate = 0;
    pthread_mutex_unlock(&g_rate.mu);
    return web_route_add("GET", "/metrics", web_metrics_get);
}
