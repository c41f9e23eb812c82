/* posting.h — Ozon posting and order numbers.
 *
 * Purpose: what a posting number looks like, and finding one in what people
 * type: «заказ 12345678-0001-1», «12345678–0001–1» (a dash from a phone's
 * keyboard), or an order number «12345678-0001», whose postings are listed.
 *
 * Exports: posting_is_valid, posting_kind_t, posting_find, POSTING_MAX.
 * Threads: any (pure).
 */
#ifndef PLUS7_POSTING_H
#define PLUS7_POSTING_H

#include <stdbool.h>

#define POSTING_MAX 24   /* 10+1+4+1+3 digits and dashes, NUL, with room */

/* 8-10 digits, '-', 4 digits, '-', 1-3 digits (e.g. 12345678-0001-1). */
bool posting_is_valid(const char *s);

typedef enum posting_kind {
    POSTING_NONE = 0,
    POSTING_NUMBER,      /* a posting: 12345678-0001-1 */
    POSTING_ORDER,       /* an Ozon order: 12345678-0001 */
} posting_kind_t;

/* The first posting or order number in free text `text`: groups of 8-10
 * and 4 (and 1-3) digits joined by '-' or a Unicode dash (‐ ‑ ‒ – — −),
 * standing apart from other digits. Writes it with ASCII '-' into
 * out[POSTING_MAX] ("" when none) and says which kind it is. */
posting_kind_t posting_find(const char *text, char out[POSTING_MAX]);

#endif
