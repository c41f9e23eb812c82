/* fuzz_dash_params.c — fuzz target: the dashboard API's query-string parser
 * (web/web_dash_params.c), which reads every parameter of every dashboard
 * route.
 *
 * Invariants: parsing never crashes; a rejected query names a field; an
 * accepted one has from ≤ to as YYYY-MM-DD, to_next the day after to, a
 * limit of 1..200, a zone ≥ 0, a search text of at most 100 UTF-8
 * characters; the cursor of an accepted `after` formats back to a cursor
 * that parses to the same position.
 * Exports: LLVMFuzzerTestOneInput. Threads: the fuzzer's.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rt.h"
#include "web_dash_params.h"

#define FUZZ_NOW 1796000000   /* a fixed "now": 2026-11-30 */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char in[2048];
    if (size >= sizeof in) size = sizeof in - 1;
    memcpy(in, data, size);
    in[size] = '\0';
    web_dash_query_t q;
    const char *field = NULL;
    text_id_t err;
    if (web_dash_query_parse(in, FUZZ_NOW, &q, &field, &err) != RT_OK) {
        if (!field || !*text_get(err)) abort();
        return 0;
    }
    if (strlen(q.from) != 10 || strlen(q.to) != 10 || strcmp(q.from, q.to) > 0 || strcmp(q.to, q.to_next) >= 0)
        abort();
    if (q.limit < 1 || q.limit > 200 || q.zone < 0) abort();
    size_t chars = 0;
    for (const char *p = q.q; *p; p++) chars += ((unsigned char)*p & 0xC0) != 0x80;
    if (chars > 100) abort();
    if (q.has_after) {
        char cur[64], again[80];
        web_dash_cursor_format(q.after_us, q.after_posting, cur, sizeof cur);
        snprintf(again, sizeof again, "after=%s", cur);
        web_dash_query_t q2;
        if (web_dash_query_parse(again, FUZZ_NOW, &q2, &field, &err) != RT_OK || q2.after_us != q.after_us ||
            strcmp(q2.after_posting, q.after_posting) != 0)
            abort();
    }
    return 0;
}
