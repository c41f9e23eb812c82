/* posting.c — Ozon posting and order numbers (see posting.h).
 * Exports: posting_is_valid, posting_find. Threads: any.
 */
#include "posting.h"

#include <stddef.h>
#include <string.h>

bool posting_is_valid(const char *s)
{
    int groups[3] = {0, 0, 0}, g = 0;
    if (!s) return false;
    for (const char *p = s; *p; p++) {
        if (*p >= '0' && *p <= '9') groups[g]++;
        else if (*p == '-' && g < 2 && groups[g] > 0) g++;
        else return false;
    }
    return g == 2 && groups[0] >= 8 && groups[0] <= 10 && groups[1] == 4 && groups[2] >= 1 && groups[2] <= 3;
}

static bool posting_digit(char c) { return c >= '0' && c <= '9'; }

/* Length of a dash at p ('-' or U+2010..2012, 2013, 2014, 2212), or 0. */
static size_t posting_dash(const char *p)
{
    const unsigned char *u = (const unsigned char *)p;
    if (u[0] == '-') return 1;
    if (u[0] == 0xE2 && u[1] == 0x80 && u[2] >= 0x90 && u[2] <= 0x94) return 3;
    if (u[0] == 0xE2 && u[1] == 0x88 && u[2] == 0x92) return 3;
    return 0;
}

static size_t posting_digits(const char *p)
{
    size_t n = 0;
    while (posting_digit(p[n])) n++;
    return n;
}

posting_kind_t posting_find(const char *text, char out[POSTING_MAX])
{
    out[0] = '\0';
    for (const char *p = text ? text : ""; *p; p++) {
        if (!posting_digit(*p) || (p > text && posting_digit(p[-1]))) continue;
        size_t g1 = posting_digits(p), d1 = posting_dash(p + g1);
        if (g1 < 8 || g1 > 10 || !d1) continue;
        const char *q = p + g1 + d1;
        size_t g2 = posting_digits(q);
        if (g2 != 4) continue;
        const char *r = q + g2;
        size_t d2 = posting_dash(r), g3 = d2 ? posting_digits(r + d2) : 0;
        if (g3 > 3) continue;                       /* a longer run: not a number of ours */
        memcpy(out, p, g1);
        out[g1] = '-';
        memcpy(out + g1 + 1, q, 4);
        if (g3 == 0) {
            out[g1 + 5] = '\0';
            return POSTING_ORDER;
        }
        out[g1 + 5] = '-';
        memcpy(out + g1 + 6, r + d2, g3);
        out[g1 + 6 + g3] = '\0';
        return POSTING_NUMBER;
    }
    return POSTING_NONE;
}
