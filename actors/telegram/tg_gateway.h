/* tg_gateway.h — counters of the Telegram gateway actor (tg_gateway.c).
 * Exports: tg_gateway_stats_t, tg_gateway_stats, tg_gateway_metrics_render.
 * Threads: any.
 */
#ifndef PLUS7_TG_GATEWAY_H
#define PLUS7_TG_GATEWAY_H

#include <stdatomic.h>
#include <stdint.h>

typedef struct tg_gateway_stats {
    uint64_t sent, rate_limited, blocked, failed, retried;
} tg_gateway_stats_t;

/* Snapshot of the process-wide gateway counters. */
void tg_gateway_stats(tg_gateway_stats_t *out);

/* Prometheus lines of those counters (plus7_tg_*) into buf; returns the
 * length written (at most cap - 1). Fits web_metrics_source_fn. */
#include <stddef.h>
size_t tg_gateway_metrics_render(char *buf, size_t cap);

#endif
