/* ozon_store.h — the emulated Ozon seller's postings and their state
 * machine.
 *
 * Purpose: each posting is kept as a JSON document in the shape of
 * /v3/posting/fbs/get's `result` (api-facts A.4) plus a few internal fields
 * (insertion order, in_process_at and last_changed_status_date as numbers).
 * Seeding accepts the full JSON or a compact form and fills everything it
 * leaves out; status changes update status, substatus, previous_substatus,
 * the dates and available_actions (derived from status and
 * tpl_integration_type, see docs/extsim.md).
 *
 * Exports: ozon_posting_t, ozon_opts_t, ozon_opts, ozon_store_upsert,
 * ozon_store_find, ozon_store_count, ozon_store_at, ozon_store_remove,
 * ozon_store_clear, ozon_store_set_status, ozon_status_known,
 * ozon_has_action, ozon_render, ozon_render_control, ozon_opts_reset.
 *
 * Threads: every function must be called with es_lock held.
 */
#ifndef EXTSIM_OZON_STORE_H
#define EXTSIM_OZON_STORE_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ozon_posting {
    char number[64];
    cJSON *doc;            /* the v3 `result` object (owned) */
    int64_t seq;           /* insertion order, the list tie-breaker */
    int64_t in_process_ms; /* doc.in_process_at as ms */
    int64_t changed_ms;    /* last_changed_status_date */
    int actions_pinned;    /* seeded available_actions kept until a status change */
} ozon_posting_t;

/* Switches the control API flips (see docs/extsim.md). */
typedef struct ozon_opts {
    int legacy_errors;     /* error bodies in the old {"error":{…}} envelope */
    int error_as_array;    /* status methods' result[].error as [] / ["…"] */
    int delivered_conditionally; /* /v2/fbs/posting/delivered → delivering +
                                    posting_conditionally_delivered */
} ozon_opts_t;

extern ozon_opts_t ozon_opts;

/* Back to the default switches (all off). */
void ozon_opts_reset(void);

/* Insert or replace a posting from `in` (full v3 JSON or the compact form).
 * Returns 0 and sets *out (may be NULL), or -1 with a message naming the
 * bad field in err. */
int ozon_store_upsert(const cJSON *in, char *err, size_t errlen, ozon_posting_t **out);

ozon_posting_t *ozon_store_find(const char *number);
int ozon_store_count(void);
/* The i-th posting in insertion order (0 <= i < count). */
ozon_posting_t *ozon_store_at(int i);
/* Remove one posting; 0 when removed, -1 when unknown. */
int ozon_store_remove(const char *number);
void ozon_store_clear(void);

/* Is `status` one of Ozon's posting statuses (A.3)? */
int ozon_status_known(const char *status);

/* Move posting `p` to `status` (substatus NULL = the default for that
 * status) at wall-clock `at_ms`: previous_substatus takes the old substatus,
 * last_changed_status_date becomes at_ms, delivering_date /
 * fact_delivery_date / cancellation are filled when reached, and
 * available_actions are recomputed. Returns 0, or -1 with err. */
int ozon_store_set_status(ozon_posting_t *p, const char *status, const char *substatus,
                          int64_t at_ms, char *err, size_t errlen);

/* Does `p`'s available_actions contain `action`? */
int ozon_has_action(const ozon_posting_t *p, const char *action);

/* The posting as an API client sees it: v3 (`v4` = 0) or v4 list shape
 * (products[].price as {"amount","currency"}); the optional blocks named
 * in `with` (analytics_data, financial_data, barcodes, legal_info,
 * related_postings, product_exemplars) are filled when true, else null.
 * Caller owns the result. */
cJSON *ozon_render(const ozon_posting_t *p, int v4, const cJSON *with);

/* The stored document plus extsim's internal fields (seq,
 * last_changed_status_date), for the control API. */
cJSON *ozon_render_control(const ozon_posting_t *p);

#endif
