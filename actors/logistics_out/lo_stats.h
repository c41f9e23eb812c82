/* lo_stats.h — counters of the outbound logistics events sender, for /metrics.
 *
 * Exports: lo_stats_sent, lo_stats_failed, lo_metrics_render.
 * Threads: the bumpers on the sender's worker; the render on civetweb
 * threads (independent relaxed counters).
 */
#ifndef PLUS7_LO_STATS_H
#define PLUS7_LO_STATS_H

#include <stddef.h>

/* A request was answered 2xx with `events` events in it. */
void lo_stats_sent(int events);
/* A request failed (no answer, or not 2xx). */
void lo_stats_failed(void);

/* The plus7_logistics_out_* families as Prometheus text into buf (cap
 * bytes); returns the length the whole text needs, like snprintf (a
 * web_metrics_source_fn). */
size_t lo_metrics_render(char *buf, size_t cap);

#endif
