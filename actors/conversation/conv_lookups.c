/* conv_lookups.c — lookup queries of the dialog (see conv_lookups.h).
 * Feature files' lookups are added to the table below, one entry each.
 * Exports: conv_lookup_def. Threads: any.
 */
#include "conv_lookups.h"

#include <stddef.h>

#include "conv_dialog.h"

/* The order card: the row, item names, and the applied history as
 * "status|at_ms" lines. */
#define CONV_SQL_ORDER                                                                              \
    "SELECT o.posting_number, o.status, (extract(epoch FROM o.status_at) * 1000)::bigint AS status_at_ms," \
    "       o.customer_phone, o.addressee_phone, o.ordered_by, o.pickup_point,"                      \
    "       (extract(epoch FROM o.storage_until) * 1000)::bigint AS storage_until_ms,"               \
    "       (SELECT string_agg(x->>'name', ', ') FROM json_array_elements(o.items::json) x) AS item_names," \
    "       NULL::text AS delivery_address,"                                                          \
    "       (SELECT string_agg(h.status || '|' || (extract(epoch FROM h.at) * 1000)::bigint, E'\\n'"  \
    "                          ORDER BY h.at, h.id)"                                                  \
    "          FROM order_history h WHERE h.posting_number = o.posting_number AND h.applied) AS history" \
    "  FROM orders o WHERE o.posting_number = $1"

static const conv_lookup_def_t conv_lookup_table[] = {
    {CONV_NEED_PHONE_ROLE, "SELECT role FROM role_grants WHERE phone = $1", "k", false},
    {CONV_NEED_ORDER, CONV_SQL_ORDER, "k", true},
    {CONV_NEED_MY_ORDERS,
     "SELECT posting_number, status FROM orders"
     " WHERE ($1 <> '' AND (customer_phone = $1 OR addressee_phone = $1)) OR ordered_by = $2::bigint"
     " ORDER BY updated_at DESC LIMIT 20", "pu", false},
};

const conv_lookup_def_t *conv_lookup_def(int kind)
{
    for (size_t i = 0; i < sizeof conv_lookup_table / sizeof conv_lookup_table[0]; i++)
        if (conv_lookup_table[i].kind == kind) return &conv_lookup_table[i];
    return NULL;
}
