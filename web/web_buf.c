/* web_buf.c — growable response buffer (see web_buf.h).
 *
 * Exports: web_buf_append, web_buf_printf, web_buf_json_str, web_buf_free.
 * Threads: any; a buffer is used by one thread at a time.
 */
#include "web_buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool web_buf_reserve(web_buf_t *b, size_t extra)
{
    if (b->oom) return false;
    if (b->len + extra + 1 <= b->cap) return true;
    size_t cap = b->cap ? b->cap : 1024;
    while (cap < b->len + extra + 1) cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
        b->oom = true;
        return false;
    }
    b->p = p;
    b->cap = cap;
    return true;
}

/* Contract: see web_buf.h. */
void web_buf_append(web_buf_t *b, const void *data, size_t n)
{
    if (!web_buf_reserve(b, n)) return;
    memcpy(b->p + b->len, data, n);
    b->len += n;
    b->p[b->len] = '\0';
}

/* Contract: see web_buf.h. */
void web_buf_printf(web_buf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char small[512];
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n < sizeof small) {
        web_buf_append(b, small, (size_t)n);
        return;
    }
    if (!web_buf_reserve(b, (size_t)n)) return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* Contract: see web_buf.h. */
void web_buf_json_str(web_buf_t *b, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
        switch (*p) {
        case '"': web_buf_append(b, "\\\"", 2); break;
        case '\\': web_buf_append(b, "\\\\", 2); break;
        case '\n': web_buf_append(b, "\\n", 2); break;
        case '\r': web_buf_append(b, "\\r", 2); break;
        case '\t': web_buf_append(b, "\\t", 2); break;
        default:
            if (*p < 0x20) web_buf_printf(b, "\\u%04x", *p);
            else web_buf_append(b, p, 1);
        }
    }
}

/* Contract: see web_buf.h. */
void web_buf_free(web_buf_t *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
    b->oom = false;
}
