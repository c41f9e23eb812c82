/* courier_strs.c — the strings a courier actor's statements borrow while a
 * transaction is in flight (see courier_internal.h).
 * Exports: courier_strs_keep, courier_strs_i64, courier_strs_free.
 * Threads: the owning actor's home worker.
 */
#include <stdio.h>
#include <stdlib.h>

#include "courier_internal.h"

const char *courier_strs_keep(courier_strs_t *k, char *s)
{
    if (!s) return NULL;
    if (k->n >= COURIER_STRS_MAX) {
        free(s);
        return NULL;
    }
    k->s[k->n++] = s;
    return s;
}

const char *courier_strs_i64(courier_strs_t *k, long long v)
{
    char *s = malloc(24);
    if (s) snprintf(s, 24, "%lld", v);
    return courier_strs_keep(k, s);
}

void courier_strs_free(courier_strs_t *k)
{
    for (int i = 0; i < k->n; i++) free(k->s[i]);
    k->n = 0;
}
