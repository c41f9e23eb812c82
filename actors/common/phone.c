/* phone.c — E.164 normalisation and masking (see phone.h).
 * Exports: phone_normalize, phone_mask. Threads: any.
 */
#include "phone.h"

#include <stdio.h>
#include <string.h>

#include "rt.h"

int phone_normalize(const char *in, char out[PHONE_E164_MAX])
{
    char d[24];
    size_t n = 0;
    int plus = 0;
    if (!in) return RT_EINVAL;
    while (*in == ' ') in++;
    if (*in == '+') { plus = 1; in++; }
    for (; *in; in++) {
        if (*in >= '0' && *in <= '9') {
            if (n + 1 >= sizeof d) return RT_EINVAL;
            d[n++] = *in;
        } else if (!strchr(" -.()", *in)) {
            return RT_EINVAL;
        }
    }
    d[n] = '\0';
    const char *digits;
    if (n == 11 && (d[0] == '7' || (d[0] == '8' && !plus))) digits = d + 1;      /* 7/8 + 10 */
    else if (n == 10 && d[0] == '9' && !plus) digits = d;                       /* 9XX... */
    else if (plus && n >= 8 && n <= 15 && d[0] != '0') digits = NULL;           /* other E.164 */
    else return RT_EINVAL;
    if (digits) {
        out[0] = '+';
        out[1] = '7';
        memcpy(out + 2, digits, 10);
        out[12] = '\0';
    } else {
        out[0] = '+';
        memcpy(out + 1, d, n + 1);
    }
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
