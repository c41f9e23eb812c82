/* web_buf.h — a growable byte buffer for building whole HTTP responses.
 *
 * Purpose: handlers render a body (JSON, Prometheus text) into a web_buf_t
 * and hand it to web_reply in one piece. An allocation failure is sticky
 * (oom = true, further appends are ignored) so callers check once at the end.
 *
 * Exports: web_buf_t, web_buf_append, web_buf_printf, web_buf_free.
 * Threads: a buffer belongs to one thread at a time (usually a civetweb
 * worker serving one request).
 */
#ifndef PLUS7_WEB_BUF_H
#define PLUS7_WEB_BUF_H

#include <stdbool.h>
#include <stddef.h>

typedef struct web_buf {
    char *p;      /* NUL-terminated when len > 0 */
    size_t len;
    size_t cap;
    bool oom;
} web_buf_t;

#define WEB_BUF_INIT {NULL, 0, 0, false}

/* Append n bytes; on allocation failure sets oom and drops the bytes. */
void web_buf_append(web_buf_t *b, const void *data, size_t n);

/* Append printf-formatted text; same failure rule. */
void web_buf_printf(web_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Append s as the inside of a JSON string (quotes not added): escapes
 * '"', '\\' and control characters; bytes >= 0x80 pass through (UTF-8). */
void web_buf_json_str(web_buf_t *b, const char *s);

/* Free the storage and reset to WEB_BUF_INIT. */
void web_buf_free(web_buf_t *b);

#endif
