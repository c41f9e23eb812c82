/* timefmt.h — RFC 3339 timestamps and Europe/Moscow display.
 *
 * Exports: timefmt_parse_rfc3339, timefmt_msk.
 * Threads: any (pure; no TZ environment is consulted: Moscow is UTC+3 with
 * no daylight saving since 2014).
 */
#ifndef PLUS7_TIMEFMT_H
#define PLUS7_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

/* Parse "2026-11-26T11:14:26Z", "2026-11-26T14:14:26.123+03:00" (a space
 * instead of T and a lower-case t/z are accepted, as RFC 3339 allows) into
 * Unix milliseconds. RT_OK or RT_EINVAL (malformed or out-of-range field). */
int timefmt_parse_rfc3339(const char *s, int64_t *unix_ms);

/* Format Unix ms as Moscow time "26.11.2026 14:14" into out. */
void timefmt_msk(int64_t unix_ms, char *out, size_t outsz);

#endif
