/* logistics_event.h — parse and validate a logistics webhook body.
 *
 * Body (DESIGN.md): {"events":[{"id":"…","posting_number":"…",
 * "status":"<order status code>","at":"<RFC 3339>",
 * "pickup_point":"…(optional)","comment":"…(optional)",
 * "recipient_phone":"…(optional)","recipient_name":"…(optional)"}]}
 * recipient_phone may be written in any form phone_normalize() accepts
 * ("+7 949 123-45-67", "89491234567", "380501234567"); it is kept in E.164.
 * The whole batch is validated before anything is applied: the first
 * problem is reported with the JSON path of the offending field
 * ("events[3].status") and a short reason, and nothing changes.
 *
 * Exports: logi_event_t, logi_batch_t, logi_parse, logi_batch_free,
 * LOGI_MAX_EVENTS.
 * Threads: any (pure).
 */
#ifndef PLUS7_LOGISTICS_EVENT_H
#define PLUS7_LOGISTICS_EVENT_H

#include <stddef.h>
#include <stdint.h>

#include "order_status.h"
#include "phone.h"

#define LOGI_MAX_EVENTS 1000
#define LOGI_ID_MAX 64

typedef struct logi_event {
    char id[LOGI_ID_MAX + 1];
    char posting[24];
    order_status_t status;
    int64_t at_ms;
    char *pickup_point;   /* NULL when absent */
    char *comment;        /* NULL when absent */
    char recipient_phone[PHONE_E164_MAX];   /* E.164, "" when absent */
    char *recipient_name; /* NULL when absent */
} logi_event_t;

typedef struct logi_batch {
    logi_event_t *events;
    int n;
} logi_batch_t;

typedef struct logi_error {
    char field[48];       /* "events[3].status" or "body" */
    char reason[96];      /* English, for the JSON error */
} logi_error_t;

/* Parse `len` bytes. RT_OK with `out` filled (free with logi_batch_free),
 * or RT_EINVAL with `err` naming the field. */
int logi_parse(const char *body, size_t len, logi_batch_t *out, logi_error_t *err);

void logi_batch_free(logi_batch_t *b);

#endif
