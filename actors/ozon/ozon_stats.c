/* ozon_stats.c — the gateway's counters (see ozon_stats.h).
 *
 * Every counter is a relaxed atomic: each is an independent monotonic
 * count (or a gauge) read for display; no reader infers anything about
 * other memory from a value, so no ordering is needed.
 *
 * Exports: ozon_stats_get, the bumpers, ozon_metrics_render. Threads: any.
 */
#include "ozon_stats.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

static struct {
    _Atomic uint64_t requests[OZON_M_N];
    _Atomic uint64_t answers[OZON_CLASS_N];
    _Atomic uint64_t config_errors, rate_limited, retries;
    _Atomic uint64_t fetch[3], push[3];
    _Atomic uint64_t import_ok, import_failed, imported;
    _Atomic int64_t queued, inflight;
} g_oz;

/* relaxed: independent counters, see the file header */
#define OZ_ADD(x, v) atomic_fetch_add_explicit(&(x), (v), memory_order_relaxed)
#define OZ_GET(x) atomic_load_explicit(&(x), memory_order_relaxed)

void ozon_stats_request(ozon_method_t m)
{
    if (m >= 0 && m < OZON_M_N) OZ_ADD(g_oz.requests[m], 1);
}

void ozon_stats_answer(ozon_class_t c)
{
    if (c >= 0 && c < OZON_CLASS_N) OZ_ADD(g_oz.answers[c], 1);
    if (c == OZON_RATE) OZ_ADD(g_oz.rate_limited, 1);
}

void ozon_stats_config_error(void) { OZ_ADD(g_oz.config_errors, 1); }
void ozon_stats_retry(void) { OZ_ADD(g_oz.retries, 1); }

void ozon_stats_fetch(int outcome)
{
    if (outcome >= 0 && outcome < 3) OZ_ADD(g_oz.fetch[outcome], 1);
}

void ozon_stats_push(int outcome)
{
    if (outcome >= 0 && outcome < 3) OZ_ADD(g_oz.push[outcome], 1);
}

void ozon_stats_import(int ok, int64_t postings)
{
    if (ok) OZ_ADD(g_oz.import_ok, 1);
    else OZ_ADD(g_oz.import_failed, 1);
    if (postings > 0) OZ_ADD(g_oz.imported, (uint64_t)postings);
}

void ozon_stats_gauges(int64_t queued, int64_t inflight)
{
    /* relaxed: display-only gauges */
    atomic_store_explicit(&g_oz.queued, queued, memory_order_relaxed);
    atomic_store_explicit(&g_oz.inflight, inflight, memory_order_relaxed);
}

void ozon_stats_get(ozon_stats_t *o)
{
    memset(o, 0, sizeof *o);
    for (int i = 0; i < OZON_M_N; i++) o->requests[i] = OZ_GET(g_oz.requests[i]);
    for (int i = 0; i < OZON_CLASS_N; i++) o->errors[i] = OZ_GET(g_oz.answers[i]);
    o->config_errors = OZ_GET(g_oz.config_errors);
    o->rate_limited = OZ_GET(g_oz.rate_limited);
    o->retries = OZ_GET(g_oz.retries);
    o->fetch_ok = OZ_GET(g_oz.fetch[0]);
    o->fetch_not_found = OZ_GET(g_oz.fetch[1]);
    o->fetch_failed = OZ_GET(g_oz.fetch[2]);
    o->push_ok = OZ_GET(g_oz.push[0]);
    o->push_refused = OZ_GET(g_oz.push[1]);
    o->push_failed = OZ_GET(g_oz.push[2]);
    o->import_ok = OZ_GET(g_oz.import_ok);
    o->import_failed = OZ_GET(g_oz.import_failed);
    o->imported_postings = OZ_GET(g_oz.imported);
    o->queued = OZ_GET(g_oz.queued);
    o->inflight = OZ_GET(g_oz.inflight);
}

typedef struct oz_out {
    char *buf;
    size_t cap, len;
} oz_out_t;

static void oz_printf(oz_out_t *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void oz_printf(oz_out_t *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t room = o->len < o->cap ? o->cap - o->len : 0;
    int n = vsnprintf(room ? o->buf + o->len : NULL, room, fmt, ap);
    va_end(ap);
    if (n > 0) o->len += (size_t)n;
}

static void oz_family(oz_out_t *o, const char *name, const char *type, const char *help)
{
    oz_printf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

size_t ozon_metrics_render(char *buf, size_t cap)
{
    ozon_stats_t s;
    ozon_stats_get(&s);
    oz_out_t o = {buf, cap, 0};
    if (cap) buf[0] = '\0';
    static const char *const methods[OZON_M_N] = {"fetch", "list", "push"};
    oz_family(&o, "plus7_ozon_requests_total", "counter", "Ozon Seller API requests sent, by method.");
    for (int i = 0; i < OZON_M_N; i++)
        oz_printf(&o, "plus7_ozon_requests_total{method=\"%s\"} %llu\n", methods[i],
                  (unsigned long long)s.requests[i]);
    oz_family(&o, "plus7_ozon_errors_total", "counter", "Ozon Seller API exchanges that failed, by class.");
    for (int i = 1; i < OZON_CLASS_N; i++)
        oz_printf(&o, "plus7_ozon_errors_total{class=\"%s\"} %llu\n", ozon_class_name((ozon_class_t)i),
                  (unsigned long long)s.errors[i]);
    oz_family(&o, "plus7_ozon_config_errors_total", "counter",
              "Ozon answers 401/403: PLUS7_OZON_CLIENT_ID / PLUS7_OZON_API_KEY wrong or the key deactivated.");
    oz_printf(&o, "plus7_ozon_config_errors_total %llu\n", (unsigned long long)s.config_errors);
    oz_family(&o, "plus7_ozon_rate_limited_total", "counter", "Ozon answers 429 (request rate limit).");
    oz_printf(&o, "plus7_ozon_rate_limited_total %llu\n", (unsigned long long)s.rate_limited);
    oz_family(&o, "plus7_ozon_retries_total", "counter", "Ozon requests repeated after a transient error.");
    oz_printf(&o, "plus7_ozon_retries_total %llu\n", (unsigned long long)s.retries);
    oz_family(&o, "plus7_ozon_fetches_total", "counter", "Postings fetched by number, by result.");
    oz_printf(&o, "plus7_ozon_fetches_total{result=\"ok\"} %llu\nplus7_ozon_fetches_total{result=\"not_found\"} %llu\n"
                  "plus7_ozon_fetches_total{result=\"failed\"} %llu\n",
              (unsigned long long)s.fetch_ok, (unsigned long long)s.fetch_not_found,
              (unsigned long long)s.fetch_failed);
    oz_family(&o, "plus7_ozon_pushes_total", "counter",
              "Status transitions reported to Ozon, by result (refused: Ozon answered the posting with an error).");
    oz_printf(&o, "plus7_ozon_pushes_total{result=\"ok\"} %llu\nplus7_ozon_pushes_total{result=\"refused\"} %llu\n"
                  "plus7_ozon_pushes_total{result=\"failed\"} %llu\n",
              (unsigned long long)s.push_ok, (unsigned long long)s.push_refused, (unsigned long long)s.push_failed);
    oz_family(&o, "plus7_ozon_import_runs_total", "counter", "Periodic imports (/v4/posting/fbs/list), by result.");
    oz_printf(&o, "plus7_ozon_import_runs_total{result=\"ok\"} %llu\nplus7_ozon_import_runs_total{result=\"failed\"} %llu\n",
              (unsigned long long)s.import_ok, (unsigned long long)s.import_failed);
    oz_family(&o, "plus7_ozon_imported_postings_total", "counter", "Postings handed to order actors by imports.");
    oz_printf(&o, "plus7_ozon_imported_postings_total %llu\n", (unsigned long long)s.imported_postings);
    oz_family(&o, "plus7_ozon_queue", "gauge", "Ozon requests waiting (rate limit, back-off).");
    oz_printf(&o, "plus7_ozon_queue %lld\n", (long long)s.queued);
    oz_family(&o, "plus7_ozon_inflight", "gauge", "Ozon requests in flight.");
    oz_printf(&o, "plus7_ozon_inflight %lld\n", (long long)s.inflight);
    return o.len;
}
