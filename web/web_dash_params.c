/* web_dash_params.c — the dashboard's query-string parser (see
 * web_dash_params.h).
 *
 * Exports: web_dash_query_parse, web_dash_cursor_format,
 * web_dash_days_from_civil, web_dash_civil_from_days.
 * Threads: any (pure).
 */
#include "web_dash_params.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "order_status.h"
#include "posting.h"
#include "rt.h"

#define WDP_VALUE_MAX 512
#define WDP_MSK_OFFSET_S (3 * 3600)   /* Europe/Moscow: UTC+3, no DST since 2014 */

/* Contract: see web_dash_params.h (Howard Hinnant's civil-date algorithm). */
int64_t web_dash_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

/* Contract: see web_dash_params.h. */
void web_dash_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static void wdp_fmt_day(int64_t days, char out[11])
{
    int64_t y;
    unsigned m, d;
    web_dash_civil_from_days(days, &y, &m, &d);
    if (y < 0 || y > 9999) y = y < 0 ? 0 : 9999;
    snprintf(out, 11, "%04d-%02u-%02u", (int)y, m, d);
}

/* "YYYY-MM-DD" of a real calendar date (years 2000..2200) -> days. */
static bool wdp_parse_day(const char *s, int64_t *days)
{
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-') return false;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9')) return false;
    int y = atoi(s), m = atoi(s + 5), d = atoi(s + 8);
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 2000 || y > 2200 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1]) return false;
    if (m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) return false;
    *days = web_dash_days_from_civil(y, (unsigned)m, (unsigned)d);
    return true;
}

static int wdp_hex(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Percent-decode [s, s+n) into out (cap bytes, NUL-terminated). False when
 * it does not fit, has a bad escape or decodes to a NUL byte. */
static bool wdp_decode(const char *s, size_t n, char *out, size_t cap)
{
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '+') c = ' ';
        else if (c == '%') {
            if (i + 2 >= n) return false;
            int hi = wdp_hex(s[i + 1]), lo = wdp_hex(s[i + 2]);
            if (hi < 0 || lo < 0) return false;
            c = (char)(hi * 16 + lo);
            i += 2;
        }
        if (c == '\0' || j + 1 >= cap) return false;
        out[j++] = c;
    }
    out[j] = '\0';
    return true;
}

/* Valid UTF-8 (no overlongs, no surrogates) with at most max characters. */
static bool wdp_utf8_ok(const char *s, size_t max)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t chars = 0;
    while (*p) {
        unsigned c = *p;
        int len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        if (!len) return false;
        uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
        for (int k = 1; k < len; k++) {
            if ((p[k] & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (p[k] & 0x3F);
        }
        static const uint32_t min_cp[] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < min_cp[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) || cp < 0x20) return false;
        p += len;
        if (++chars > max) return false;
    }
    return true;
}

static bool wdp_int(const char *s, int64_t lo, int64_t hi, int64_t *out)
{
    if (!*s || strlen(s) > 19) return false;
    for (const char *p = s; *p; p++)
        if (*p < '0' || *p > '9') return false;
    long long v = strtoll(s, NULL, 10);
    if (v < lo || v > hi) return false;
    *out = v;
    return true;
}

/* "<µs>_<posting>" */
static bool wdp_cursor(const char *s, web_dash_query_t *q)
{
    const char *us = strchr(s, '_');
    if (!us || us == s || (size_t)(us - s) > 18) return false;
    char num[20];
    memcpy(num, s, (size_t)(us - s));
    num[us - s] = '\0';
    int64_t v;
    if (!wdp_int(num, 0, INT64_MAX / 2, &v) || strlen(us + 1) >= sizeof q->after_posting ||
        !posting_is_valid(us + 1))
        return false;
    q->after_us = v;
    snprintf(q->after_posting, sizeof q->after_posting, "%s", us + 1);
    q->has_after = true;
    return true;
}

enum { WDP_FROM, WDP_TO, WDP_ZONE, WDP_GROUP, WDP_Q, WDP_STATUS, WDP_AFTER, WDP_LIMIT, WDP_N };
static const char *const wdp_names[WDP_N] = {"from", "to", "zone", "group", "q", "status", "after", "limit"};

/* Contract: see web_dash_params.h. */
int web_dash_query_parse(const char *query, time_t now, web_dash_query_t *q, const char **field,
                         text_id_t *err)
{
    memset(q, 0, sizeof *q);
    q->limit = 50;
    bool seen[WDP_N] = {false};
    int64_t from = 0, to = 0;
    *field = NULL;
    *err = T_DASH_E_PARAM;
    for (const char *p = query ? query : ""; *p;) {
        const char *amp = strchr(p, '&');
        size_t len = amp ? (size_t)(amp - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        size_t klen = eq ? (size_t)(eq - p) : len;
        char key[16], val[WDP_VALUE_MAX];
        int which = -1;
        if (klen < sizeof key && wdp_decode(p, klen, key, sizeof key))
            for (int i = 0; i < WDP_N; i++)
                if (strcmp(key, wdp_names[i]) == 0) which = i;
        p += len + (amp ? 1 : 0);
        if (which < 0) continue;   /* unknown names are ignored */
        *field = wdp_names[which];
        if (seen[which]) return RT_EINVAL;
        seen[which] = true;
        const char *v = eq ? eq + 1 : "";
        size_t vlen = eq ? len - klen - 1 : 0;
        bool ok = wdp_decode(v, vlen, val, sizeof val);
        int64_t n = 0;
        switch (which) {
        case WDP_FROM:
        case WDP_TO:
            *err = T_DASH_E_DATE;
            if (!ok || !wdp_parse_day(val, which == WDP_FROM ? &from : &to)) return RT_EINVAL;
            q->dates_given = true;
            break;
        case WDP_ZONE:
            *err = T_DASH_E_ZONE;
            if (!ok || !wdp_int(val, 1, 2147483647, &n)) return RT_EINVAL;
            q->zone = n;
            break;
        case WDP_GROUP:
            *err = T_DASH_E_GROUP;
            if (!ok || (strcmp(val, "day") != 0 && strcmp(val, "hour") != 0)) return RT_EINVAL;
            q->hourly = val[0] == 'h';
            break;
        case WDP_Q:
            *err = T_DASH_E_QUERY;
            if (!ok || !wdp_utf8_ok(val, 100)) return RT_EINVAL;
            snprintf(q->q, sizeof q->q, "%s", val);
            break;
        case WDP_STATUS: {
            *err = T_DASH_E_STATUS;
            order_status_t st;
            if (!ok || strlen(val) >= sizeof q->status || order_status_parse(val, &st) != RT_OK || st == ORDER_NONE)
                return RT_EINVAL;
            snprintf(q->status, sizeof q->status, "%s", val);
            break;
        }
        case WDP_AFTER:
            *err = T_DASH_E_CURSOR;
            if (!ok || !wdp_cursor(val, q)) return RT_EINVAL;
            break;
        case WDP_LIMIT:
            *err = T_DASH_E_LIMIT;
            if (!ok || !wdp_int(val, 1, 200, &n)) return RT_EINVAL;
            q->limit = (int)n;
            break;
        }
    }
    int64_t today = ((int64_t)now + WDP_MSK_OFFSET_S) / 86400;
    if (!seen[WDP_TO]) to = seen[WDP_FROM] && from + 29 < today ? from + 29 : today;
    if (!seen[WDP_FROM]) from = to - 29;
    *field = seen[WDP_FROM] ? "from" : "to";
    *err = T_DASH_E_PERIOD;
    if (from > to || to - from >= 400) return RT_EINVAL;
    *field = "group";
    *err = T_DASH_E_HOUR_RANGE;
    if (q->hourly && to - from >= 31) return RT_EINVAL;
    wdp_fmt_day(from, q->from);
    wdp_fmt_day(to, q->to);
    wdp_fmt_day(to + 1, q->to_next);
    *field = NULL;
    return RT_OK;
}

/* Contract: see web_dash_params.h. */
void web_dash_cursor_format(int64_t created_us, const char *posting, char *out, size_t cap)
{
    snprintf(out, cap, "%lld_%s", (long long)created_us, posting);
}
