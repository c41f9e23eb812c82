/* conv_stats.c — counters of the conversation actors (see conv_stats.h).
 * Exports: conv_stats_note_failure, conv_stats_note_set_aside, conv_stats,
 * conv_metrics_render. Threads: any.
 */
#include "conv_stats.h"

#include <stdatomic.h>
#include <stdio.h>

static _Atomic uint64_t cst_failed, cst_set_aside;

void conv_stats_note_failure(void)
{
    /* relaxed: an independent statistic, ordered with nothing else */
    atomic_fetch_add_explicit(&cst_failed, 1, memory_order_relaxed);
}

void conv_stats_note_set_aside(void)
{
    /* relaxed: an independent statistic, ordered with nothing else */
    atomic_fetch_add_explicit(&cst_set_aside, 1, memory_order_relaxed);
}

void conv_stats(conv_stats_t *out)
{
    /* relaxed: a snapshot of statistics; the two need not agree */
    out->failed = atomic_load_explicit(&cst_failed, memory_order_relaxed);
    out->set_aside = atomic_load_explicit(&cst_set_aside, memory_order_relaxed);
}

size_t conv_metrics_render(char *buf, size_t cap)
{
    conv_stats_t s;
    conv_stats(&s);
    if (!cap) return 0;
    int n = snprintf(buf, cap,
                     "# HELP plus7_conv_commit_failed_total Conversation commits the database refused.\n"
                     "# TYPE plus7_conv_commit_failed_total counter\n"
                     "plus7_conv_commit_failed_total %llu\n"
                     "# HELP plus7_conv_set_aside_total Updates set aside after repeated refused commits"
                     " (kept in tg_inbox, the person got an apology).\n"
                     "# TYPE plus7_conv_set_aside_total counter\n"
                     "plus7_conv_set_aside_total %llu\n",
                     (unsigned long long)s.failed, (unsigned long long)s.set_aside);
    if (n < 0) {
        buf[0] = '\0';
        return 0;
    }
    return (size_t)n < cap ? (size_t)n : cap - 1;
}
