/* phone.c — E.164 normalisation and masking (see phone.h).
 * Exports: phone_normalize, phone_mask. Threads: any.
 */
#include "phone.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "rt.h"

int phone_normalize(const char *in, char out[PHONE_E164_MAX])
{
    char d[24];
    size_t n = 0;
    bool plus = false, intl = false;
    if (!in) return RT_EINVAL;
    while (*in == ' ') in++;
    if (*in == '+') { plus = true; in++; }
    for (; *in; in++) {
        if (*in >= '0' && *in <= '9') {
            if (n + 1 >= sizeof d) return RT_EINVAL;
            d[n++] = *in;
        } else if (!strchr(" -.()", *in)) {
            return RT_EINVAL;
        }
    }
    d[n] = '\0';
    const char *digits = d;
    if (!plus && n >= 13 && d[0] == '0' && d[1] == '0') {   /* 00 380 ...: the international prefix */
        digits = d + 2;
        n -= 2;
        intl = true;
    }
    if (!plus && !intl && n == 11 && d[0] == '8') {          /* 8 949 ...: the Russian trunk prefix */
        snprintf(out, PHONE_E164_MAX, "+7%s", d + 1);
        return RT_OK;
    }
    if (!plus && !intl && n == 10 && d[0] == '9') {          /* 949 ...: a Russian mobile without +7 */
        snprintf(out, PHONE_E164_MAX, "+7%s", d);
        return RT_OK;
    }
    /* an international number, with or without its '+': a country code
     * never starts with 0; without the plus at least 11 digits, so a short
     * local number is not taken for a foreign one */
    if (digits[0] == '0' || n > 15 || n < (plus ? 8u : 11u)) return RT_EINVAL;
    if (digits[0] == '7' && n != 11) return RT_EINVAL;       /* +7 is always 10 digits after the code */
    snprintf(out, PHONE_E164_MAX, "+%s", digits);
    return RT_OK;
}

void phone_mask(const char *e164, char *out, size_t outsz)
{
    size_t n = strlen(e164);
    if (outsz == 0) return;
    if (n < 7) { snprintf(out, outsz, "***"); return; }
    size_t keep_head = e164[0] == '+' ? 2 : 1, keep_tail = 4;
    size_t i = 0;
    for (; i < n && i + 1 < outsz; i++)
        out[i] = (i < keep_head || i >= n - keep_tail) ? e164[i] : '*';
    out[i] = '\0';
}
