/* notify_stats.h — counters of the notifier and its SMS connector.
 *
 * Purpose: process-wide counters (relaxed atomics: statistics only) that
 * the notifier bumps and /metrics renders through notify_metrics, a
 * metrics source registered by app/wire.c (web/web_metrics.h), so the web
 * layer never includes actors/.
 *
 * Exports: notify_stat_t, notify_stat_add, notify_stat_get,
 * notify_stat_set_last_sms_code, notify_metrics_render.
 * Threads: any.
 */
#ifndef PLUS7_NOTIFY_STATS_H
#define PLUS7_NOTIFY_STATS_H

#include <stddef.h>
#include <stdint.h>

typedef enum notify_stat {
    NOTIFY_STAT_TG_QUEUED = 0,      /* Telegram messages handed to the gateway */
    NOTIFY_STAT_FALLBACK,           /* Telegram notifications switched to SMS */
    NOTIFY_STAT_TG_FAILED,          /* Telegram notifications failed (no fallback possible) */
    NOTIFY_STAT_SKIPPED,            /* pickup reminders no longer true when their turn came */
    NOTIFY_STAT_TPL_MISSING,        /* rendered with the built-in text (no usable template) */
    NOTIFY_STAT_SMS_SENT,
    NOTIFY_STAT_SMS_RETRIED,
    NOTIFY_STAT_SMS_FAILED,
    NOTIFY_STAT__COUNT
} notify_stat_t;

/* Add n to a counter. Any thread. */
void notify_stat_add(notify_stat_t which, uint64_t n);

/* Current value of a counter. Any thread. */
uint64_t notify_stat_get(notify_stat_t which);

/* Remember the last SMS.ru error code (a gauge). Any thread. */
void notify_stat_set_last_sms_code(int code);

/* Write the counters as Prometheus text into buf (cap bytes, NUL-terminated
 * when cap > 0) and return the length the whole text needs, like snprintf
 * (the signature of web_metrics_source_fn). Any thread. */
size_t notify_metrics_render(char *buf, size_t cap);

#endif
