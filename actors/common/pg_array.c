/* pg_array.c — text-array literals (see pg_array.h).
 * Exports: pg_array_init, pg_array_add, pg_array_finish. Threads: any.
 */
#include "pg_array.h"

#include <stdlib.h>
#include <string.h>

static void pg_array_put(pg_array_t *a, const char *s, size_t n)
{
    if (a->oom) return;
    if (a->len + n + 2 > a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 256;
        while (cap < a->len + n + 2) cap *= 2;
        char *b = realloc(a->buf, cap);
        if (!b) { a->oom = true; return; }
        a->buf = b;
        a->cap = cap;
    }
    memcpy(a->buf + a->len, s, n);
    a->len += n;
}

void pg_array_init(pg_array_t *a)
{
    memset(a, 0, sizeof *a);
    pg_array_put(a, "{", 1);
}

void pg_array_add(pg_array_t *a, const char *s)
{
    if (a->len > 1) pg_array_put(a, ",", 1);
    if (!s) { pg_array_put(a, "NULL", 4); return; }
    pg_array_put(a, "\"", 1);
    for (const char *p = s; *p; p++) {
        if (*p == '"' || *p == '\\') pg_array_put(a, "\\", 1);
        pg_array_put(a, p, 1);
    }
    pg_array_put(a, "\"", 1);
}

char *pg_array_finish(pg_array_t *a)
{
    pg_array_put(a, "}", 1);
    if (a->oom) {
        free(a->buf);
        return NULL;
    }
    a->buf[a->len] = '\0';
    return a->buf;
}
