/* notify_stats.c — counters of the notifier (see notify_stats.h).
 * Exports: notify_stat_add, notify_stat_get, notify_stat_set_last_sms_code,
 * notify_metrics_render. Threads: any.
 */
#include "notify_stats.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>

static _Atomic uint64_t nst_counters[NOTIFY_STAT__COUNT];
static _Atomic int nst_last_sms_code;

void notify_stat_add(notify_stat_t which, uint64_t n)
{
    /* relaxed: independent statistics, no ordering with other data */
    if ((unsigned)which < NOTIFY_STAT__COUNT) atomic_fetch_add_explicit(&nst_counters[which], n, memory_order_relaxed);
}

uint64_t notify_stat_get(notify_stat_t which)
{
    /* relaxed: a snapshot of a statistic */
    return (unsigned)which < NOTIFY_STAT__COUNT ? atomic_load_explicit(&nst_counters[which], memory_order_relaxed) : 0;
}

void notify_stat_set_last_sms_code(int code)
{
    /* relaxed: a gauge read on its own */
    atomic_store_explicit(&nst_last_sms_code, code, memory_order_relaxed);
}

/* Append to buf like snprintf, tracking the length needed. */
static void nst_put(char *buf, size_t cap, size_t *len, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void nst_put(char *buf, size_t cap, size_t *len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(*len < cap ? buf + *len : NULL, *len < cap ? cap - *len : 0, fmt, ap);
    va_end(ap);
    if (n > 0) *len += (size_t)n;
}

size_t notify_metrics_render(char *buf, size_t cap)
{
    static const struct { notify_stat_t id; const char *name, *help, *labels; } rows[] = {
        {NOTIFY_STAT_TG_QUEUED, "plus7_notify_queued_total", "Notifications handed to a channel's sender.",
         "{channel=\"telegram\"}"},
        {NOTIFY_STAT_FALLBACK, "plus7_notify_fallback_total",
         "Telegram notifications switched to SMS (blocked, never started, no chat).", ""},
        {NOTIFY_STAT_TG_FAILED, "plus7_notify_failed_total",
         "Notifications that no channel could deliver.", "{channel=\"telegram\"}"},
        {NOTIFY_STAT_SKIPPED, "plus7_notify_skipped_total",
         "Pickup reminders dropped because the parcel had left the pickup point.", ""},
        {NOTIFY_STAT_TPL_MISSING, "plus7_notify_template_missing_total",
         "Notifications rendered with the built-in text (no usable template).", ""},
        {NOTIFY_STAT_SMS_SENT, "plus7_sms_sent_total", "SMS accepted by the SMS gateway.", ""},
        {NOTIFY_STAT_SMS_RETRIED, "plus7_sms_retried_total", "SMS attempts that failed transiently.", ""},
        {NOTIFY_STAT_SMS_FAILED, "plus7_sms_failed_total", "SMS that failed for good.", ""},
    };
    size_t len = 0;
    if (cap) buf[0] = '\0';
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        nst_put(buf, cap, &len, "# HELP %s %s\n# TYPE %s counter\n%s%s %llu\n", rows[i].name, rows[i].help,
                rows[i].name, rows[i].name, rows[i].labels, (unsigned long long)notify_stat_get(rows[i].id));
    nst_put(buf, cap, &len,
            "# HELP plus7_sms_last_error_code The last SMS.ru error status code (0: none yet).\n"
            "# TYPE plus7_sms_last_error_code gauge\nplus7_sms_last_error_code %d\n",
            atomic_load_explicit(&nst_last_sms_code, memory_order_relaxed));   /* relaxed: a gauge */
    return len;
}
