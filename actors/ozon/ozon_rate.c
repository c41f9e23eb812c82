/* ozon_rate.c — spacing plus sliding window (see ozon_rate.h).
 * Exports: ozon_rate_init, ozon_rate_wait_ms, ozon_rate_take. Threads: any.
 */
#include "ozon_rate.h"

#include <string.h>

void ozon_rate_init(ozon_rate_t *r, int rps)
{
    memset(r, 0, sizeof *r);
    if (rps < 1) rps = 1;
    if (rps > OZON_RATE_MAX) rps = OZON_RATE_MAX;
    r->rps = rps;
    r->window_ms = 1000 + OZON_RATE_GUARD_MS;
    r->spacing_ms = (r->window_ms + rps - 1) / rps;
    r->last_ms = INT64_MIN / 2;
}

int64_t ozon_rate_wait_ms(const ozon_rate_t *r, int64_t now_ms)
{
    int64_t wait = r->last_ms + r->spacing_ms - now_ms;
    if (r->n >= r->rps) {
        int64_t w = r->ring[r->head] + r->window_ms - now_ms;
        if (w > wait) wait = w;
    }
    return wait > 0 ? wait : 0;
}

void ozon_rate_take(ozon_rate_t *r, int64_t now_ms)
{
    /* forget requests that left the window */
    while (r->n > 0 && now_ms - r->ring[r->head] >= r->window_ms) {
        r->head = (r->head + 1) % OZON_RATE_MAX;
        r->n--;
    }
    if (r->n >= r->rps) {   /* caller ignored the wait: keep the newest rps */
        r->head = (r->head + 1) % OZON_RATE_MAX;
        r->n--;
    }
    r->ring[(r->head + r->n) % OZON_RATE_MAX] = now_ms;
    r->n++;
    r->last_ms = now_ms;
}
