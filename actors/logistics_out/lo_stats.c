/* lo_stats.c — counters of the outbound logistics events sender (see lo_stats.h).
 * Exports: lo_stats_sent, lo_stats_failed, lo_metrics_render. Threads: any.
 */
#include "lo_stats.h"

#include <stdatomic.h>
#include <stdio.h>

static _Atomic unsigned long long lo_events, lo_ok, lo_failed;

void lo_stats_sent(int events)
{
    /* relaxed: independent statistics, nothing is published through them */
    atomic_fetch_add_explicit(&lo_events, (unsigned long long)(events > 0 ? events : 0), memory_order_relaxed);
    atomic_fetch_add_explicit(&lo_ok, 1, memory_order_relaxed);
}

void lo_stats_failed(void)
{
    atomic_fetch_add_explicit(&lo_failed, 1, memory_order_relaxed);   /* relaxed: a statistic */
}

size_t lo_metrics_render(char *buf, size_t cap)
{
    /* relaxed: display only; the three may be from slightly different instants */
    int n = snprintf(buf, cap,
        "# HELP plus7_logistics_out_events_total Outbound logistics events the logistics system accepted.\n"
        "# TYPE plus7_logistics_out_events_total counter\n"
        "plus7_logistics_out_events_total %llu\n"
        "# HELP plus7_logistics_out_requests_total Requests to PLUS7_LOGISTICS_OUT_URL, by result.\n"
        "# TYPE plus7_logistics_out_requests_total counter\n"
        "plus7_logistics_out_requests_total{result=\"ok\"} %llu\n"
        "plus7_logistics_out_requests_total{result=\"failed\"} %llu\n",
        atomic_load_explicit(&lo_events, memory_order_relaxed), atomic_load_explicit(&lo_ok, memory_order_relaxed),
        atomic_load_explicit(&lo_failed, memory_order_relaxed));
    return n < 0 ? 0 : (size_t)n;
}
