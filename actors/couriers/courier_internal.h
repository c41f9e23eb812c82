/* courier_internal.h — what the courier module's actors share.
 *
 * Exports: courier_kind (one per courier, key: Telegram id),
 * courier_dispatcher_kind (key "main"), courier_kick_gateway, courier_strs_t
 * and its functions.
 * Threads: the actors' home workers.
 */
#ifndef PLUS7_COURIER_INTERNAL_H
#define PLUS7_COURIER_INTERNAL_H

#include "rt.h"

extern const rt_kind_t courier_kind;
extern const rt_kind_t courier_dispatcher_kind;

/* Strings the parameters of an in-flight transaction point into; freed
 * when its result arrives (courier_strs.c). */
#define COURIER_STRS_MAX 96
typedef struct courier_strs {
    char *s[COURIER_STRS_MAX];
    int n;
} courier_strs_t;

/* Keep `s` (malloc'd; ownership taken) until courier_strs_free; returns it,
 * or NULL (and frees it) when `s` is NULL or the set is full. */
const char *courier_strs_keep(courier_strs_t *k, char *s);
/* A kept decimal string of v, or NULL. */
const char *courier_strs_i64(courier_strs_t *k, long long v);
/* Free every kept string. */
void courier_strs_free(courier_strs_t *k);

/* Tell the Telegram gateway that outbox rows were committed. */
void courier_kick_gateway(rt_runtime_t *rt);

#endif
