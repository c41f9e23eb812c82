/* pg_array.h — PostgreSQL text-array literals for one-round-trip batches
 * ("INSERT ... SELECT * FROM unnest($1::text[], $2::text[])").
 * Exports: pg_array_t, pg_array_init, pg_array_add, pg_array_finish.
 * Threads: any (no shared state).
 */
#ifndef PLUS7_PG_ARRAY_H
#define PLUS7_PG_ARRAY_H

#include <stdbool.h>
#include <stddef.h>

typedef struct pg_array {
    char *buf;
    size_t len, cap;
    bool oom;
} pg_array_t;

void pg_array_init(pg_array_t *a);
/* Append an element; NULL becomes SQL NULL. Quotes and backslashes are escaped. */
void pg_array_add(pg_array_t *a, const char *s);
/* The literal "{...}" (owned by the caller, free()), or NULL on ENOMEM. */
char *pg_array_finish(pg_array_t *a);

#endif
