/* pay_stats.c — payments' counters (see pay_stats.h).
 * Exports: pay_stat_add, pay_stat_get, pay_metrics_render. Threads: any.
 */
#include "pay_stats.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

static _Atomic uint64_t pst_counters[PAY_STAT__COUNT];

void pay_stat_add(pay_stat_t which)
{
    /* relaxed: independent statistics, nothing is ordered by them */
    if ((unsigned)which < PAY_STAT__COUNT) atomic_fetch_add_explicit(&pst_counters[which], 1, memory_order_relaxed);
}

uint64_t pay_stat_get(pay_stat_t which)
{
    /* relaxed: a snapshot of a statistic */
    return (unsigned)which < PAY_STAT__COUNT ? atomic_load_explicit(&pst_counters[which], memory_order_relaxed) : 0;
}

size_t pay_metrics_render(char *buf, size_t cap)
{
    static const struct { const char *name, *help, *labels; pay_stat_t id; } rows[] = {
        {"plus7_pay_created_total", "YooKassa payments created (QR sent).", "", PAY_STAT_CREATED},
        {"plus7_pay_succeeded_total", "Payment attempts settled as paid.", "", PAY_STAT_SUCCEEDED},
        {"plus7_pay_ended_total", "Payment attempts canceled or expired.", "", PAY_STAT_ENDED},
        {"plus7_pay_provider_retries_total", "Provider calls repeated after 5xx, timeouts or refused connections.", "",
         PAY_STAT_PROVIDER_RETRY},
        {"plus7_pay_refunded_total", "Refunds the provider accepted.", "", PAY_STAT_REFUNDED},
        {"plus7_pay_notifications_total", "YooKassa notifications by outcome.", "{outcome=\"stored\"}",
         PAY_STAT_NOTIFY_OK},
        {"plus7_pay_notifications_total", NULL, "{outcome=\"unknown_payment\"}", PAY_STAT_NOTIFY_UNKNOWN},
        {"plus7_pay_notifications_total", NULL, "{outcome=\"forbidden\"}", PAY_STAT_NOTIFY_FORBIDDEN},
        {"plus7_pay_notifications_total", NULL, "{outcome=\"malformed\"}", PAY_STAT_NOTIFY_BAD},
    };
    size_t len = 0;
    if (cap) buf[0] = '\0';
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char line[512];
        int n = rows[i].help
            ? snprintf(line, sizeof line, "# HELP %s %s\n# TYPE %s counter\n%s%s %llu\n", rows[i].name, rows[i].help,
                       rows[i].name, rows[i].name, rows[i].labels, (unsigned long long)pay_stat_get(rows[i].id))
            : snprintf(line, sizeof line, "%s%s %llu\n", rows[i].name, rows[i].labels,
                       (unsigned long long)pay_stat_get(rows[i].id));
        if (n < 0) continue;
        if (len + (size_t)n < cap) memcpy(buf + len, line, (size_t)n + 1);
        len += (size_t)n;
    }
    return len;
}
