/* rt_log.h — levelled logfmt logging with an asynchronous writer.
 *
 * Purpose: every component logs one logfmt line per event:
 *   ts=2026-11-26T11:14:26.123Z level=info at=rt_pg.c:120 event=pg_connected worker=0
 * Lines are formatted on the calling thread into a bounded in-memory ring and
 * written by one dedicated writer thread, so a slow terminal or disk never
 * stalls a worker. Phone numbers (+7XXXXXXXXXX, 7XXXXXXXXXX, 8XXXXXXXXXX and
 * other runs of 10-15 digits that look like E.164) are masked in every line
 * before it is queued: +7******4567.
 *
 * Exports: rt_log_init, rt_log_shutdown, rt_log_set_level, rt_log_level_parse,
 * rt_log_write, rt_log_mask_phones, rt_log_value, LOG_DEBUG/LOG_INFO/LOG_WARN/
 * LOG_ERROR.
 *
 * Threads: rt_log_init/rt_log_shutdown from the main thread; everything else
 * from any thread. Before rt_log_init lines go straight to stderr.
 */
#ifndef PLUS7_RT_LOG_H
#define PLUS7_RT_LOG_H

#include <stddef.h>

enum { RT_LOG_DEBUG = 0, RT_LOG_INFO = 1, RT_LOG_WARN = 2, RT_LOG_ERROR = 3 };

/* Start the writer thread writing to `fd` (usually 2) at `level`.
 * Returns 0 or a negative RT_E* code. */
int rt_log_init(int level, int fd);

/* Flush every queued line and stop the writer thread. Idempotent. */
void rt_log_shutdown(void);

void rt_log_set_level(int level);
/* "debug" | "info" | "warn" | "error" -> level, or -1 if unknown. */
int rt_log_level_parse(const char *name);

/* Format and queue one line. `event` is a short snake_case name; `fmt`
 * renders the remaining logfmt fields ("key=%s n=%d"); values that may hold
 * spaces should be quoted by the caller with %s inside "...". When the ring
 * is full the line is dropped and counted (rt_log_dropped). */
void rt_log_write(int level, const char *file, int line, const char *event,
                  const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Lines dropped because the ring was full. */
unsigned long rt_log_dropped(void);

/* Mask phone-number-like digit runs in `s` in place (keeps the first digit
 * after an optional '+' and the last four). Exposed for tests. */
void rt_log_mask_phones(char *s, size_t len);

/* Copy `src` (NULL: "") into `dst` (cap bytes, cap > 0, always
 * NUL-terminated) as a value that is safe inside a quoted logfmt field
 * (key="%s"): '"' becomes '\'', control bytes become ' ', trailing spaces
 * are dropped, and a value too long for dst is cut on a UTF-8 character
 * boundary. Returns dst. The one
 * scrubber for outside text (error messages, civetweb diagnostics) that is
 * logged. Any thread. */
char *rt_log_value(char *dst, size_t cap, const char *src);

#define LOG_DEBUG(event, ...) rt_log_write(RT_LOG_DEBUG, __FILE__, __LINE__, event, __VA_ARGS__)
#define LOG_INFO(event, ...) rt_log_write(RT_LOG_INFO, __FILE__, __LINE__, event, __VA_ARGS__)
#define LOG_WARN(event, ...) rt_log_write(RT_LOG_WARN, __FILE__, __LINE__, event, __VA_ARGS__)
#define LOG_ERROR(event, ...) rt_log_write(RT_LOG_ERROR, __FILE__, __LINE__, event, __VA_ARGS__)

#endif
