/* conv_booking_cb.c — parsing the booking buttons' callback data (see
 * conv_booking_cb.h).
 * Exports: conv_booking_cb_parse. Threads: any.
 */
#include "conv_booking_cb.h"

#include <stdio.h>
#include <string.h>

#include "posting.h"
#include "rt.h"

int conv_booking_cb_parse(const char *cb, conv_booking_cb_t *out)
{
    memset(out, 0, sizeof *out);
    if (!cb || strncmp(cb, "dl:", 3) != 0) return RT_EINVAL;
    if (strcmp(cb, "dl:k") == 0) {
        memcpy(out->op, "k", 2);
        return RT_OK;
    }
    int used = 0;
    if (strncmp(cb, "dl:ms:", 6) == 0) {   /* posting numbers are digits and dashes */
        if (sscanf(cb, "dl:ms:%40[0-9-]:%8[0-9]:%d%n", out->posting, out->day, &out->slot, &used) != 3 ||
            cb[used] != '\0' || strlen(out->day) != 8 || out->slot <= 0 || !posting_is_valid(out->posting))
            return RT_EINVAL;
        memcpy(out->op, "ms", 3);
        return RT_OK;
    }
    static const char *const ops[] = {"xy", "x", "m"};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        size_t n = strlen(ops[i]);
        const char *p = cb + 4 + n;
        if (strncmp(cb + 3, ops[i], n) != 0 || cb[3 + n] != ':' || strlen(p) >= sizeof out->posting) continue;
        if (!posting_is_valid(p)) return RT_EINVAL;
        snprintf(out->op, sizeof out->op, "%s", ops[i]);
        snprintf(out->posting, sizeof out->posting, "%s", p);
        return RT_OK;
    }
    return RT_EINVAL;
}
