/* es_limit.h — rate limiters keyed by a string (Client-Id, source IP).
 *
 * Purpose: Ozon allows 50 requests per second per Client-Id (a sliding
 * one-second window here: at most N requests in any 1000 ms); Bitrix24
 * uses a leaky bucket (each request adds 1, the bucket drains `rate` per
 * second, a request that would overflow `burst` is refused).
 *
 * Exports: es_limits_t, es_window_allow, es_bucket_allow, es_limits_free.
 *
 * Threads: callers hold es_lock.
 */
#ifndef EXTSIM_ES_LIMIT_H
#define EXTSIM_ES_LIMIT_H

#include <stdint.h>

typedef struct es_limits es_limits_t; /* a keyed set; NULL is an empty set */

/* Sliding window: allow and count the request if fewer than `per_sec`
 * requests under `key` were allowed in the last 1000 ms (monotonic `now`).
 * per_sec <= 0 always allows. Returns 1 allowed, 0 refused. */
int es_window_allow(es_limits_t **set, const char *key, int per_sec, int64_t now_ms);

/* Leaky bucket: drain `rate`/s since the last call, then allow and add 1 if
 * the level stays <= `burst`. burst <= 0 always allows. Returns 1 allowed,
 * 0 refused. */
int es_bucket_allow(es_limits_t **set, const char *key, double rate, int burst, int64_t now_ms);

/* Forget every key (reset, exit). */
void es_limits_free(es_limits_t **set);

#endif
