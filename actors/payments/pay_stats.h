/* pay_stats.h — payments' counters for /metrics (plus7_pay_*).
 *
 * Exports: pay_stat_t, pay_stat_add, pay_stat_get, pay_metrics_render.
 * Threads: any (relaxed atomics: independent statistics).
 */
#ifndef PLUS7_PAY_STATS_H
#define PLUS7_PAY_STATS_H

#include <stddef.h>
#include <stdint.h>

typedef enum pay_stat {
    PAY_STAT_CREATED = 0,       /* YooKassa payments created (a QR sent) */
    PAY_STAT_SUCCEEDED,         /* attempts settled as paid (any method) */
    PAY_STAT_ENDED,             /* attempts canceled or expired */
    PAY_STAT_PROVIDER_RETRY,    /* provider calls to repeat (5xx, timeout, refused) */
    PAY_STAT_REFUNDED,          /* refunds accepted */
    PAY_STAT_NOTIFY_OK,         /* notifications stored (200) */
    PAY_STAT_NOTIFY_UNKNOWN,    /* of those: an id no attempt knows */
    PAY_STAT_NOTIFY_FORBIDDEN,  /* 403: outside PLUS7_YOOKASSA_NOTIFY_FROM */
    PAY_STAT_NOTIFY_BAD,        /* 400: not a notification */
    PAY_STAT__COUNT
} pay_stat_t;

void pay_stat_add(pay_stat_t which);
uint64_t pay_stat_get(pay_stat_t which);
/* Prometheus text of the counters (web_metrics_source_fn). */
size_t pay_metrics_render(char *buf, size_t cap);

#endif
