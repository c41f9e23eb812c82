/* fuzz_pay_yk.c — fuzz target: what the payments module reads from outside.
 *
 * The first byte picks the parser, the rest is its input:
 *   0  a payment object (POST/GET /payments answer): on RT_OK the id is a
 *      non-empty terminated string, the status known, the amount >= 0;
 *   1  a refund object (POST /refunds answer), the same guarantees;
 *   2  a notification body: on RT_OK the event holds a '.', the id is set;
 *   3  an amount string: a parsed amount formats back to an equal value.
 * Exports: LLVMFuzzerTestOneInput. Threads: the fuzzer's.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pay_yk.h"
#include "rt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    int mode = data[0] % 4;
    const char *in = (const char *)data + 1;
    size_t len = size - 1;
    const char *field = NULL;
    if (mode == 0) {
        yk_payment_t p;
        if (yk_payment_parse(in, len, &p, &field) == RT_OK) {
            if (!p.id[0] || strnlen(p.id, sizeof p.id) == sizeof p.id || p.status == YK_UNKNOWN || p.amount_kop < 0)
                abort();
            if (strnlen(p.confirmation_url, sizeof p.confirmation_url) == sizeof p.confirmation_url) abort();
        } else if (!field) {
            abort();
        }
    } else if (mode == 1) {
        yk_refund_t r;
        if (yk_refund_parse(in, len, &r, &field) == RT_OK) {
            if (!r.id[0] || r.status == YK_UNKNOWN || r.amount_kop < 0) abort();
        } else if (!field) {
            abort();
        }
    } else if (mode == 2) {
        yk_notification_t n;
        if (yk_notification_parse(in, len, &n, &field) == RT_OK) {
            if (!strchr(n.event, '.') || !n.object_id[0]) abort();
        } else if (!field) {
            abort();
        }
    } else {
        char *s = malloc(len + 1);
        if (!s) return 0;
        memcpy(s, in, len);
        s[len] = '\0';
        int64_t kop = -1, back = -1;
        if (yk_amount_parse(s, &kop) == RT_OK) {
            char txt[32];
            yk_amount_format(kop, txt, sizeof txt);
            if (kop < 0 || yk_amount_parse(txt, &back) != RT_OK || back != kop) abort();
        }
        free(s);
    }
    return 0;
}
