/* tg_gateway.h — counters of the Telegram gateway actor (tg_gateway.c).
 * Exports: tg_gateway_stats_t, tg_gateway_stats. Threads: any.
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

#endif
