/* fuzz_phone.c — fuzz target: E.164 phone normalisation.
 *
 * Invariants: an accepted number is '+' followed by 8..15 digits, and
 * normalising it again gives the same string.
 * Exports: LLVMFuzzerTestOneInput. Threads: the fuzzer's.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "phone.h"
#include "rt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char in[64], out[PHONE_E164_MAX], again[PHONE_E164_MAX];
    if (size >= sizeof in) size = sizeof in - 1;
    memcpy(in, data, size);
    in[size] = '\0';
    if (phone_normalize(in, out) != RT_OK) return 0;
    size_t n = strlen(out);
    if (out[0] != '+' || n < 9 || n > 16) abort();
    for (size_t i = 1; i < n; i++)
        if (out[i] < '0' || out[i] > '9') abort();
    if (phone_normalize(out, again) != RT_OK || strcmp(out, again) != 0) abort();
    return 0;
}
