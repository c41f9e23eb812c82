/* tgsim_util.c — buffers, UTF-8/16, base64, URL decoding, clocks, ids, SHA-256.
 *
 * Exports: see tgsim_util.h. Threads: any; no shared state except libsodium's
 * thread-safe random generator (initialised by sodium_init in main).
 */
#include "tgsim_util.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <sodium.h>

static void tgsim_oom(void)
{
    fputs("tgsim: out of memory\n", stderr);
    abort();
}

void *tgsim_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) tgsim_oom();
    return p;
}

void *tgsim_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) tgsim_oom();
    return p;
}

void *tgsim_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) tgsim_oom();
    return q;
}

char *tgsim_xstrdup(const char *s)
{
    return s ? tgsim_xstrndup(s, strlen(s)) : NULL;
}

char *tgsim_xstrndup(const char *s, size_t n)
{
    char *p = tgsim_xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

static void tgsim_buf_reserve(tgsim_buf_t *b, size_t extra)
{
    if (b->p && b->len + extra + 1 <= b->cap) return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1) cap *= 2;
    b->p = tgsim_xrealloc(b->p, cap);
    b->cap = cap;
}

void tgsim_buf_put(tgsim_buf_t *b, const void *data, size_t len)
{
    tgsim_buf_reserve(b, len);
    if (len) memcpy(b->p + b->len, data, len);
    b->len += len;
    b->p[b->len] = '\0';
}

void tgsim_buf_puts(tgsim_buf_t *b, const char *s)
{
    tgsim_buf_put(b, s, strlen(s));
}

void tgsim_buf_printf(tgsim_buf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char probe[1];
    int n = vsnprintf(probe, sizeof probe, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    tgsim_buf_reserve(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

char *tgsim_buf_take(tgsim_buf_t *b)
{
    if (!b->p) tgsim_buf_reserve(b, 0), b->p[0] = '\0';
    char *p = b->p;
    b->p = NULL;
    b->len = b->cap = 0;
    return p;
}

void tgsim_buf_free(tgsim_buf_t *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

/* Returns the sequence length of a valid UTF-8 sequence at s (< end) and its
 * code point, or 0 if malformed. */
static size_t tgsim_utf8_seq(const unsigned char *s, const unsigned char *end, uint32_t *cp)
{
    unsigned c = s[0];
    if (c < 0x80) { *cp = c; return 1; }
    size_t n;
    uint32_t v, min;
    if ((c & 0xE0) == 0xC0) { n = 2; v = c & 0x1F; min = 0x80; }
    else if ((c & 0xF0) == 0xE0) { n = 3; v = c & 0x0F; min = 0x800; }
    else if ((c & 0xF8) == 0xF0) { n = 4; v = c & 0x07; min = 0x10000; }
    else return 0;
    if ((size_t)(end - s) < n) return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        v = (v << 6) | (s[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
    *cp = v;
    return n;
}

int tgsim_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    uint32_t cp;
    while (p < end) {
        size_t n = tgsim_utf8_seq(p, end, &cp);
        if (!n) return 0;
        p += n;
    }
    return 1;
}

uint32_t tgsim_utf8_next(const char **p, const char *end)
{
    uint32_t cp;
    size_t n = tgsim_utf8_seq((const unsigned char *)*p, (const unsigned char *)end, &cp);
    if (!n) { (*p)++; return 0xFFFD; }
    *p += n;
    return cp;
}

void tgsim_utf8_put(tgsim_buf_t *b, uint32_t cp)
{
    char t[4];
    size_t n;
    if (cp < 0x80) { t[0] = (char)cp; n = 1; }
    else if (cp < 0x800) { t[0] = (char)(0xC0 | (cp >> 6)); t[1] = (char)(0x80 | (cp & 0x3F)); n = 2; }
    else if (cp < 0x10000) {
        t[0] = (char)(0xE0 | (cp >> 12)); t[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        t[2] = (char)(0x80 | (cp & 0x3F)); n = 3;
    } else {
        t[0] = (char)(0xF0 | (cp >> 18)); t[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        t[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); t[3] = (char)(0x80 | (cp & 0x3F)); n = 4;
    }
    tgsim_buf_put(b, t, n);
}

size_t tgsim_utf16_len(const char *s, size_t len)
{
    const char *p = s, *end = s + len;
    size_t n = 0;
    while (p < end) n += tgsim_utf8_next(&p, end) >= 0x10000 ? 2 : 1;
    return n;
}

static int tgsim_b64_val(int c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
}

int tgsim_b64_decode(const char *in, size_t len, unsigned char **out, size_t *out_len)
{
    unsigned char *o = tgsim_xmalloc(len / 4 * 3 + 3);
    size_t n = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        int c = (unsigned char)in[i];
        if (c == '=' ) break;
        if (isspace(c)) continue;
        int v = tgsim_b64_val(c);
        if (v < 0) { free(o); return -1; }
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            o[n++] = (unsigned char)(acc >> bits);
        }
    }
    *out = o;
    *out_len = n;
    return 0;
}

void tgsim_b64_encode(tgsim_buf_t *b, const unsigned char *in, size_t len)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < len) v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < len) v |= in[i + 2];
        char t[4] = {tab[(v >> 18) & 63], tab[(v >> 12) & 63],
                     i + 1 < len ? tab[(v >> 6) & 63] : '=', i + 2 < len ? tab[v & 63] : '='};
        tgsim_buf_put(b, t, 4);
    }
}

static int tgsim_hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

char *tgsim_url_decode(const char *s, size_t len, int plus_space, size_t *out_len)
{
    char *o = tgsim_xmalloc(len + 1);
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        int h, l;
        if (s[i] == '%' && i + 2 < len && (h = tgsim_hexval((unsigned char)s[i + 1])) >= 0 &&
            (l = tgsim_hexval((unsigned char)s[i + 2])) >= 0) {
            o[n++] = (char)(h * 16 + l);
            i += 2;
        } else if (s[i] == '+' && plus_space) {
            o[n++] = ' ';
        } else {
            o[n++] = s[i];
        }
    }
    o[n] = '\0';
    if (out_len) *out_len = n;
    return o;
}

double tgsim_now_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int64_t tgsim_now_unix(void)
{
    return (int64_t)time(NULL);
}

void tgsim_random_chars(char *out, size_t n)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
    for (size_t i = 0; i < n; i++) out[i] = tab[randombytes_uniform(64)];
    out[n] = '\0';
}

int64_t tgsim_random_i53(void)
{
    uint64_t v;
    randombytes_buf(&v, sizeof v);
    return (int64_t)(v & ((UINT64_C(1) << 53) - 1));
}

void tgsim_sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, data, len);
    sodium_bin2hex(out, 65, h, sizeof h);
}

int tgsim_parse_int64(const char *s, int64_t *out)
{
    if (!s) return -1;
    while (isspace((unsigned char)*s)) s++;
    if (!*s) return -1;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s) {
        /* JSON bodies may carry integral doubles such as 1.0e9 */
        double d;
        if (tgsim_parse_double(s, &d) == 0 && d == floor(d) && fabs(d) < 9.2e18) { *out = (int64_t)d; return 0; }
        return -1;
    }
    while (isspace((unsigned char)*end)) end++;
    if (*end) {
        double d;
        if (tgsim_parse_double(s, &d) == 0 && d == floor(d) && fabs(d) < 9.2e18) { *out = (int64_t)d; return 0; }
        return -1;
    }
    *out = v;
    return 0;
}

int tgsim_parse_double(const char *s, double *out)
{
    if (!s) return -1;
    while (isspace((unsigned char)*s)) s++;
    if (!*s) return -1;
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    if (errno || end == s || !isfinite(v)) return -1;
    while (isspace((unsigned char)*end)) end++;
    if (*end) return -1;
    *out = v;
    return 0;
}

int tgsim_parse_bool(const char *s)
{
    if (!s || !*s) return 0;
    if (tgsim_strcaseeq(s, "true") || strcmp(s, "1") == 0) return 1;
    if (tgsim_strcaseeq(s, "false") || strcmp(s, "0") == 0) return 0;
    return -1;
}

int tgsim_strcaseeq(const char *a, const char *b)
{
    return a && b && strcasecmp(a, b) == 0;
}

struct cJSON *tgsim_json_parse(const char *s, size_t len)
{
    int depth = 0, in_str = 0;
    for (size_t i = 0; i < len; i++) {
        char ch = s[i];
        if (in_str) {
            if (ch == '\\') i++;
            else if (ch == '"') in_str = 0;
        } else if (ch == '"') {
            in_str = 1;
        } else if (ch == '{' || ch == '[') {
            if (++depth > 32) return NULL;
        } else if (ch == '}' || ch == ']') {
            depth--;
        }
    }
    return cJSON_ParseWithLength(s, len);
}
