/* tgsim_rate.c — Telegram-like flood control and injected faults.
 *
 * Token buckets: one for the whole bot (messages/s), one per private chat
 * (messages/s with a small burst) and one per group (messages/minute). A
 * message goes only if every bucket it touches holds a whole token; a refusal
 * consumes nothing and reports retry_after = seconds until the emptiest
 * bucket refills one token, rounded up, at least 1 — the number the real
 * server puts in "Too Many Requests: retry after N".
 *
 * Strict mode (rate_global_strict): the whole-bot limit is a sliding window
 * instead of the bucket — a message is refused when `rate_global` messages
 * already arrived in the last 1000 ms, so no one-second window, wherever it
 * starts, ever holds more than the limit (a bucket of burst R allows up to
 * 2R across a boundary). Benchmarks and tests use it to prove pacing.
 *
 * Faults: /control/faults arms "the next N calls fail with 429 (retry_after
 * S)" and "the next N calls fail with 5xx", optionally only for some methods.
 *
 * Exports: tgsim_rate_take, tgsim_fault_take. Threads: callers hold w->mu.
 */
#include "tgsim.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Refill `b` to `now`; returns seconds until it holds one token (0 if it does). */
static double tgsim_bucket_wait(tgsim_bucket_t *b, double rate, double burst, double now)
{
    if (rate <= 0) return 0;                 /* unlimited */
    if (burst < 1) burst = 1;
    b->tokens += (now - b->last) * rate;
    if (b->tokens > burst) b->tokens = burst;
    b->last = now;
    return b->tokens >= 1.0 ? 0 : (1.0 - b->tokens) / rate;
}

/* Strict window: seconds until one more arrival fits (0 if it does now). */
static double tgsim_window_wait(const tgsim_window_t *win, int limit, double now)
{
    if (limit <= 0 || win->n < limit) return 0;
    /* the oldest of the last `limit` arrivals */
    double oldest = win->at[(win->pos + TGSIM_WINDOW_MAX - limit) % TGSIM_WINDOW_MAX];
    return now - oldest >= 1.0 ? 0 : 1.0 - (now - oldest);
}

static void tgsim_window_add(tgsim_window_t *win, double now)
{
    win->at[win->pos] = now;
    win->pos = (win->pos + 1) % TGSIM_WINDOW_MAX;
    if (win->n < TGSIM_WINDOW_MAX) win->n++;
}

int tgsim_rate_take(tgsim_world_t *w, int64_t chat_id)
{
    const tgsim_config_t *c = &w->cfg;
    if (!c->rate_enabled) return 0;
    double now = tgsim_now_mono();
    int group = chat_id < 0;
    double rate = group ? c->rate_group_per_min / 60.0 : c->rate_chat;
    double burst = group ? c->rate_group_burst : c->rate_chat_burst;
    tgsim_bucket_t *b = tgsim_map_get(&w->buckets, (uint64_t)chat_id);
    if (!b) {
        b = tgsim_xcalloc(1, sizeof *b);
        b->tokens = burst < 1 ? 1 : burst;
        b->last = now;
        tgsim_map_put(&w->buckets, (uint64_t)chat_id, b);
    }
    int strict = c->rate_global_strict && c->rate_global > 0;
    int limit = (int)c->rate_global < TGSIM_WINDOW_MAX ? (int)c->rate_global : TGSIM_WINDOW_MAX;
    double wg = strict ? tgsim_window_wait(&w->global_window, limit, now)
                       : tgsim_bucket_wait(&w->global_bucket, c->rate_global, c->rate_global_burst, now);
    double wc = tgsim_bucket_wait(b, rate, burst, now);
    double wait = wg > wc ? wg : wc;
    if (wait > 0) {
        int ra = (int)ceil(wait - 1e-9);
        return ra < 1 ? 1 : ra;
    }
    if (strict) tgsim_window_add(&w->global_window, now);
    else if (c->rate_global > 0) w->global_bucket.tokens -= 1.0;
    if (rate > 0) b->tokens -= 1.0;
    return 0;
}

static int tgsim_fault_matches(const tgsim_fault_t *f, const char *method)
{
    if (f->count <= 0) return 0;
    if (!f->methods[0]) return strcmp(method, "getupdates") != 0;
    size_t ml = strlen(method);
    for (const char *p = f->methods; *p;) {
        const char *e = strchr(p, ',');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (l == ml && strncmp(p, method, l) == 0) return 1;
        p += l + (e ? 1 : 0);
    }
    return 0;
}

int tgsim_fault_take(tgsim_world_t *w, const char *method, int *retry_after)
{
    if (tgsim_fault_matches(&w->fault_429, method)) {
        w->fault_429.count--;
        *retry_after = w->fault_429.retry_after > 0 ? w->fault_429.retry_after : 1;
        return 429;
    }
    if (tgsim_fault_matches(&w->fault_5xx, method)) {
        w->fault_5xx.count--;
        *retry_after = 0;
        return w->fault_5xx.status >= 500 && w->fault_5xx.status <= 599 ? w->fault_5xx.status : 500;
    }
    return 0;
}
