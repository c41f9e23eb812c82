/* web_dash_params.h — the dashboard API's query-string parser (pure).
 *
 * Purpose: every dashboard route reads its parameters here, so one fuzzed
 * parser guards them all (tests/fuzz/fuzz_dash_params.c). Parameters:
 *   from, to   YYYY-MM-DD Moscow dates, inclusive; default: the 30 days
 *              ending today (Moscow); from ≤ to, at most 400 days
 *   zone       zone id 1..2147483647 (absent: all zones)
 *   group      day | hour (hour: at most 31 days)
 *   q          search text, valid UTF-8, at most 100 characters
 *   status     an order status code
 *   after      the orders list's page cursor (as returned in "next")
 *   limit      1..200 (default 50)
 * Names are percent-decoded ('+' is a space); unknown names are ignored
 * (cache busters), a known name given twice is an error. On error the
 * parser names the field and a catalogue text.
 *
 * Exports: web_dash_query_t, web_dash_query_parse, web_dash_cursor_format,
 * web_dash_days_from_civil, web_dash_civil_from_days.
 * Threads: any (pure; `now` is passed in).
 */
#ifndef PLUS7_WEB_DASH_PARAMS_H
#define PLUS7_WEB_DASH_PARAMS_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "texts.h"

typedef struct web_dash_query {
    char from[11], to[11];      /* YYYY-MM-DD, filled (defaults applied) */
    char to_next[11];           /* the day after `to`: the exclusive end */
    bool dates_given;           /* from or to was in the query */
    int64_t zone;               /* 0 = all */
    bool hourly;                /* group=hour */
    char q[404];                /* "" = no search */
    char status[20];            /* "" = any */
    bool has_after;
    int64_t after_us;           /* cursor: created_at in µs since the epoch */
    char after_posting[24];     /* cursor: posting number */
    int limit;
} web_dash_query_t;

/* Parse `query` (raw, without '?', may be NULL) at Unix time `now`. RT_OK
 * with *q filled, or RT_EINVAL with *field the bad parameter's name and
 * *err the catalogue text to answer 400 with. */
int web_dash_query_parse(const char *query, time_t now, web_dash_query_t *q, const char **field,
                         text_id_t *err);

/* The cursor text for a row (out: at least 48 bytes): "<µs>_<posting>". */
void web_dash_cursor_format(int64_t created_us, const char *posting, char *out, size_t cap);

/* Days since 1970-01-01 of a proleptic Gregorian date, and back. */
int64_t web_dash_days_from_civil(int64_t y, unsigned m, unsigned d);
void web_dash_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d);

#endif
