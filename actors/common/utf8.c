/* utf8.c — UTF-8 cutting, copying and checking (see utf8.h).
 * Exports: utf8_seq_len, utf8_valid, utf8_cut, utf8_drop_partial, utf8_copy,
 * utf8_trim_copy, utf8_repaired, utf8_chars, utf8_cut_chars. Threads: any.
 */
#include "utf8.h"

#include <stdlib.h>
#include <string.h>

static bool utf8_cont(unsigned char c) { return (c & 0xC0) == 0x80; }

size_t utf8_seq_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    if (c < 0x80) return 1;
    if (c < 0xC2 || c > 0xF4) return 0;                 /* continuation, overlong 2-byte, > U+10FFFF */
    size_t len = c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    if (n < len) return 0;
    for (size_t i = 1; i < len; i++)
        if (!utf8_cont(s[i])) return 0;
    if (c == 0xE0 && s[1] < 0xA0) return 0;             /* overlong 3-byte */
    if (c == 0xED && s[1] > 0x9F) return 0;             /* surrogates */
    if (c == 0xF0 && s[1] < 0x90) return 0;             /* overlong 4-byte */
    if (c == 0xF4 && s[1] > 0x8F) return 0;             /* above U+10FFFF */
    return len;
}

bool utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        size_t len = utf8_seq_len(p + i, n - i);
        if (!len) return false;
        i += len;
    }
    return true;
}

size_t utf8_drop_partial(const char *s, size_t len)
{
    for (size_t back = 1; back <= 4 && back <= len; back++) {
        unsigned char c = (unsigned char)s[len - back];
        if (utf8_cont(c)) continue;
        size_t need = c < 0xC0 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
        return need > back ? len - back : len;
    }
    return len;
}

size_t utf8_cut(const char *s, size_t max)
{
    size_t n = strnlen(s, max + 1);
    return n <= max ? n : utf8_drop_partial(s, max);
}

size_t utf8_copy(char *dst, size_t dstsz, const char *src)
{
    if (!dstsz) return 0;
    const unsigned char *p = (const unsigned char *)(src ? src : "");
    size_t o = 0, n = strlen((const char *)p);
    for (size_t i = 0; i < n;) {
        size_t len = utf8_seq_len(p + i, n - i);
        const char *piece = len ? (const char *)p + i : UTF8_REPLACEMENT;
        size_t plen = len ? len : 3;
        if (o + plen >= dstsz) {
            if (len) break;          /* a whole character that does not fit: stop here */
            i++;                     /* a replacement that does not fit: drop the byte */
            continue;
        }
        memcpy(dst + o, piece, plen);
        o += plen;
        i += len ? len : 1;
    }
    dst[o] = '\0';
    return o;
}

static bool utf8_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

size_t utf8_trim_copy(char *dst, size_t dstsz, const char *src)
{
    const char *s = src ? src : "";
    while (utf8_blank(*s)) s++;
    size_t n = utf8_copy(dst, dstsz, s);
    while (n && utf8_blank(dst[n - 1])) dst[--n] = '\0';
    return n;
}

char *utf8_repaired(const char *s)
{
    size_t n = strlen(s ? s : "");
    char *out = malloc(n * 3 + 1);    /* every byte may become U+FFFD */
    if (out) utf8_copy(out, n * 3 + 1, s);
    return out;
}

size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; s && *s; s++) n += !utf8_cont((unsigned char)*s);
    return n;
}

size_t utf8_cut_chars(const char *s, size_t chars)
{
    size_t i = 0, seen = 0;
    for (; s[i]; i++) {
        if (!utf8_cont((unsigned char)s[i])) {
            if (seen == chars) break;
            seen++;
        }
    }
    return i;
}
