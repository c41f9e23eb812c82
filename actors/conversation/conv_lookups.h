/* conv_lookups.h — the SQL behind the dialog's lookups (conv_dialog.h).
 *
 * Each lookup kind is one parameterised query. Its parameters are picked
 * from a fixed set by a short spec string: 'k' the lookup key, 'p' the
 * sender's phone ("" if unregistered), 'u' the sender's Telegram id, 'c'
 * the chat id. A kind marked ensure_order treats the key as a posting
 * number: when the query finds no row, the order actor is asked to fetch
 * the posting from Ozon, and the query runs again once it answers.
 *
 * Exports: conv_lookup_def_t, conv_lookup_def.
 * Threads: any (read-only table).
 */
#ifndef PLUS7_CONV_LOOKUPS_H
#define PLUS7_CONV_LOOKUPS_H

#include <stdbool.h>

typedef struct conv_lookup_def {
    int kind;
    const char *sql;
    const char *params;     /* e.g. "k", "pu" */
    bool ensure_order;
} conv_lookup_def_t;

/* The definition of `kind`, or NULL. */
const conv_lookup_def_t *conv_lookup_def(int kind);

#endif
