/* fuzz_logistics.c — fuzz target: the logistics webhook body validator.
 *
 * Invariants: a refused body names a field and leaves nothing allocated; an
 * accepted one has 1..LOGI_MAX_EVENTS events with valid statuses and ids.
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
    for (int i = 0; i < b.n; i++)
        if (!b.events[i].id[0] || b.events[i].status == ORDER_NONE) abort();
    logi_batch_free(&b);
    return 0;
}
