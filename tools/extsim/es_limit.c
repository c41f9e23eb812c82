/* es_limit.c — sliding-window and leaky-bucket limiters (see es_limit.h).
 *
 * Threads: callers hold es_lock.
 */
#include "es_limit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct es_limits {
    char key[128];
    /* sliding window: ring of the allowed requests' times */
    int64_t *ts;
    int cap, head, n;
    /* leaky bucket */
    double level;
    int64_t last_ms;
    struct es_limits *next;
};

static es_limits_t *es_limits_get(es_limits_t **set, const char *key)
{
    for (es_limits_t *l = *set; l; l = l->next)
        if (strncmp(l->key, key, sizeof l->key - 1) == 0) return l;
    es_limits_t *l = calloc(1, sizeof *l);
    if (!l) return NULL;
    snprintf(l->key, sizeof l->key, "%s", key);
    l->next = *set;
    *set = l;
    return l;
}

int es_window_allow(es_limits_t **set, const char *key, int per_sec, int64_t now_ms)
{
    if (per_sec <= 0) return 1;
    es_limits_t *l = es_limits_get(set, key);
    if (!l) return 1;
    if (l->cap != per_sec) {
        free(l->ts);
        l->ts = calloc((size_t)per_sec, sizeof *l->ts);
        l->cap = l->ts ? per_sec : 0;
        l->head = l->n = 0;
        if (!l->ts) return 1;
    }
    /* Drop entries that left the window; the oldest sits at head. */
    while (l->n > 0 && now_ms - l->ts[l->head] >= 1000) {
        l->head = (l->head + 1) % l->cap;
        l->n--;
    }
    if (l->n >= l->cap) return 0;
    l->ts[(l->head + l->n) % l->cap] = now_ms;
    l->n++;
    return 1;
}

int es_bucket_allow(es_limits_t **set, const char *key, double rate, int burst, int64_t now_ms)
{
    if (burst <= 0) return 1;
    es_limits_t *l = es_limits_get(set, key);
    if (!l) return 1;
    if (l->last_ms) {
        l->level -= (double)(now_ms - l->last_ms) / 1000.0 * rate;
        if (l->level < 0) l->level = 0;
    }
    l->last_ms = now_ms;
    if (l->level + 1.0 > (double)burst) return 0;
    l->level += 1.0;
    return 1;
}

void es_limits_free(es_limits_t **set)
{
    while (*set) {
        es_limits_t *l = *set;
        *set = l->next;
        free(l->ts);
        free(l);
    }
}
