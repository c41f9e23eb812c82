/* conv_stats.h — counters of the conversation actors for /metrics.
 *
 * Purpose: how often a conversation's commit failed in a way that counts
 * against the update (the database refused what the dialog decided), and
 * how many updates were set aside after CONV_MAX_ATTEMPTS such failures
 * (conv_actor.c). Both should stay at zero; a set-aside update is kept in
 * tg_inbox (set_aside_at, error) for an operator.
 *
 * Exports: conv_stats_t, conv_stats_note_failure, conv_stats_note_set_aside,
 * conv_stats, conv_metrics_render.
 * Threads: any.
 */
#ifndef PLUS7_CONV_STATS_H
#define PLUS7_CONV_STATS_H

#include <stddef.h>
#include <stdint.h>

typedef struct conv_stats {
    uint64_t failed;      /* commits refused by the database (counted attempts) */
    uint64_t set_aside;   /* updates given up on: apologised for, kept, moved past */
} conv_stats_t;

/* Count one refused commit / one update set aside. Any thread. */
void conv_stats_note_failure(void);
void conv_stats_note_set_aside(void);

/* A snapshot of the counters. Any thread. */
void conv_stats(conv_stats_t *out);

/* Prometheus text of the counters (plus7_conv_*) into buf; returns the
 * length written (at most cap - 1). Fits web_metrics_source_fn. */
size_t conv_metrics_render(char *buf, size_t cap);

#endif
