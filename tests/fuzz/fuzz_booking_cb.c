/* fuzz_booking_cb.c — fuzz target: the booking buttons' callback data
 * (actors/conversation/conv_booking_cb.c), which any client can forge.
 *
 * Invariants: an accepted input has a known op, a valid posting number
 * (none for "k"), for "ms" an 8-digit day and a positive slot; and it is
 * exactly what the parsed fields print back (nothing extra is ignored).
 * Exports: LLVMFuzzerTestOneInput. Threads: the fuzzer's.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conv_booking_cb.h"
#include "posting.h"
#include "rt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char in[96], again[96];
    if (size >= sizeof in) size = sizeof in - 1;
    memcpy(in, data, size);
    in[size] = '\0';
    conv_booking_cb_t c;
    if (conv_booking_cb_parse(in, &c) != RT_OK) return 0;
    if (strcmp(c.op, "k") == 0) snprintf(again, sizeof again, "dl:k");
    else if (strcmp(c.op, "ms") == 0) snprintf(again, sizeof again, "dl:ms:%s:%s:%d", c.posting, c.day, c.slot);
    else if (!strcmp(c.op, "x") || !strcmp(c.op, "xy") || !strcmp(c.op, "m"))
        snprintf(again, sizeof again, "dl:%s:%s", c.op, c.posting);
    else abort();
    if (strcmp(c.op, "k") != 0 && !posting_is_valid(c.posting)) abort();
    if (strcmp(c.op, "ms") == 0 && (strlen(c.day) != 8 || c.slot <= 0)) abort();
    /* "ms" may have printed the slot without leading zeros the input had */
    if (strcmp(c.op, "ms") != 0 && strcmp(in, again) != 0) abort();
    return 0;
}
