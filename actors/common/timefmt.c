/* timefmt.c — RFC 3339 parsing and Moscow-time formatting (see timefmt.h).
 * Exports: timefmt_parse_rfc3339, timefmt_msk. Threads: any.
 */
#include "timefmt.h"

#include <stdio.h>
#include <string.h>

#include "rt.h"

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; Howard Hinnant's
 * well-known civil-from-days arithmetic, written out here). */
static int64_t timefmt_days(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int timefmt_digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9') return RT_EINVAL;
        v = v * 10 + (c - '0');
    }
    *p += n;
    *out = v;
    return RT_OK;
}

static int timefmt_expect(const char **p, const char *set)
{
    if (!**p || !strchr(set, **p)) return RT_EINVAL;
    (*p)++;
    return RT_OK;
}

int timefmt_parse_rfc3339(const char *s, int64_t *unix_ms)
{
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y, mo, d, h, mi, sec, ms = 0;
    const char *p = s;
    if (!s) return RT_EINVAL;
    if (timefmt_digits(&p, 4, &y) || timefmt_expect(&p, "-") || timefmt_digits(&p, 2, &mo) ||
        timefmt_expect(&p, "-") || timefmt_digits(&p, 2, &d) || timefmt_expect(&p, "Tt ") ||
        timefmt_digits(&p, 2, &h) || timefmt_expect(&p, ":") || timefmt_digits(&p, 2, &mi) ||
        timefmt_expect(&p, ":") || timefmt_digits(&p, 2, &sec))
        return RT_EINVAL;
    if (*p == '.') {
        p++;
        int n = 0;
        while (*p >= '0' && *p <= '9') {
            if (n < 3) ms = ms * 10 + (*p - '0');
            n++;
            p++;
        }
        if (n == 0) return RT_EINVAL;
        for (; n < 3; n++) ms *= 10;
    }
    int off = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p == '-' ? -1 : 1, oh, om;
        p++;
        if (timefmt_digits(&p, 2, &oh) || timefmt_expect(&p, ":") || timefmt_digits(&p, 2, &om)) return RT_EINVAL;
        if (oh > 23 || om > 59) return RT_EINVAL;
        off = sign * (oh * 60 + om);
    } else {
        return RT_EINVAL;
    }
    if (*p) return RT_EINVAL;
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || sec > 60) return RT_EINVAL;
    if (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) return RT_EINVAL;
    if (sec == 60) sec = 59;   /* a leap second is read as the last second */
    int64_t t = timefmt_days(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - (int64_t)off * 60;
    *unix_ms = t * 1000 + ms;
    return RT_OK;
}

void timefmt_msk(int64_t unix_ms, char *out, size_t outsz)
{
    int64_t t = unix_ms / 1000 + 3 * 3600;
    int64_t days = t / 86400, rem = t % 86400;
    if (rem < 0) { rem += 86400; days--; }
    /* civil from days */
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int d = (int)(doy - (153 * mp + 2) / 5 + 1);
    int m = (int)(mp < 10 ? mp + 3 : mp - 9);
    y += m <= 2;
    snprintf(out, outsz, "%02d.%02d.%04lld %02d:%02d", d, m, (long long)y, (int)(rem / 3600), (int)(rem % 3600 / 60));
}
