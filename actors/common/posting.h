/* posting.h — Ozon posting numbers.
 * Exports: posting_is_valid. Threads: any (pure).
 */
#ifndef PLUS7_POSTING_H
#define PLUS7_POSTING_H

#include <stdbool.h>

/* 8-10 digits, '-', 4 digits, '-', 1-3 digits (e.g. 12345678-0001-1). */
bool posting_is_valid(const char *s);

#endif
