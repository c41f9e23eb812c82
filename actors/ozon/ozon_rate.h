/* ozon_rate.h — the Ozon request-rate limiter (pure).
 *
 * Purpose: Ozon allows 50 requests per second per Client-Id across all
 * methods and answers 429 above that. The gateway asks this limiter before
 * every request. Two rules together:
 *   1. spacing (a token bucket one token deep): consecutive requests are at
 *      least window_ms / rps apart, so requests go out evenly, never in
 *      bursts;
 *   2. a sliding window: at most `rps` requests in any window_ms, a hard
 *      guarantee that holds whatever the caller does between calls.
 * window_ms is 1000 ms plus OZON_RATE_GUARD_MS, a margin for the jitter
 * between our send time and the server's arrival time (loopback under
 * sanitizers, connection set-up), so the server's own one-second window
 * never sees more than `rps`.
 *
 * Exports: ozon_rate_t, ozon_rate_init, ozon_rate_wait_ms, ozon_rate_take,
 * OZON_RATE_MAX, OZON_RATE_GUARD_MS.
 * Threads: any (pure; one limiter belongs to one thread — the gateway's).
 */
#ifndef PLUS7_OZON_RATE_H
#define PLUS7_OZON_RATE_H

#include <stdint.h>

#define OZON_RATE_MAX 50        /* Ozon's documented ceiling, requests/s */
#define OZON_RATE_GUARD_MS 100  /* window margin, see above */

typedef struct ozon_rate {
    int rps;                    /* 1..OZON_RATE_MAX */
    int64_t window_ms;          /* 1000 + OZON_RATE_GUARD_MS */
    int64_t spacing_ms;         /* window_ms / rps (rounded up) */
    int64_t last_ms;            /* the last request's time, or INT64_MIN/2 */
    int64_t ring[OZON_RATE_MAX];/* times of the last n requests, oldest at head */
    int head, n;
} ozon_rate_t;

/* Initialise for `rps` requests per second (clamped to 1..OZON_RATE_MAX). */
void ozon_rate_init(ozon_rate_t *r, int rps);

/* Milliseconds to wait before the next request may go at `now_ms` (any
 * monotonic clock); 0 means now. Does not change the limiter. */
int64_t ozon_rate_wait_ms(const ozon_rate_t *r, int64_t now_ms);

/* Record a request sent at `now_ms` (call only when ozon_rate_wait_ms
 * returned 0, with non-decreasing times). */
void ozon_rate_take(ozon_rate_t *r, int64_t now_ms);

#endif
