/* fuzz_logistics.c — fuzz target: the logistics webhook body validator.
 *
 * Invariants: a refused body names a field and leaves nothing allocated; an
 * accepted one has 1..LOGI_MAX_EVENTS events with valid statuses and ids,
 * and a recipient phone that is empty or E.164 ('+', a non-zero digit, 8..15
 * digits in all) — what users.phone accepts.
 * Exports: LLVMFuzzerTestOneInput. Threads: the fuzzer's.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "logistics_event.h"
#include "rt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    logi_batch_t b;
    logi_error_t e;
    int rc = logi_parse((const char *)data, size, &b, &e);
    if (rc != RT_OK) {
        if (!e.field[0] || b.events) abort();
        return 0;
    }
    if (b.n < 1 || b.n > LOGI_MAX_EVENTS) abort();
    for (int i = 0; i < b.n; i++) {
        const logi_event_t *e = &b.events[i];
        if (!e->id[0] || e->status == ORDER_NONE) abort();
        size_t n = strlen(e->recipient_phone);
        if (n && (e->recipient_phone[0] != '+' || n < 9 || n > 16 || e->recipient_phone[1] == '0' ||
                  strspn(e->recipient_phone + 1, "0123456789") != n - 1))
            abort();
        if (e->recipient_name && strlen(e->recipient_name) > 200) abort();
    }
    logi_batch_free(&b);
    return 0;
}
