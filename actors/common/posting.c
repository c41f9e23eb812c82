/* posting.c — Ozon posting number format (see posting.h).
 * Exports: posting_is_valid. Threads: any.
 */
#include "posting.h"

#include <stddef.h>

bool posting_is_valid(const char *s)
{
    int groups[3] = {0, 0, 0}, g = 0;
    if (!s) return false;
    for (const char *p = s; *p; p++) {
        if (*p >= '0' && *p <= '9') groups[g]++;
        else if (*p == '-' && g < 2 && groups[g] > 0) g++;
        else return false;
    }
    return g == 2 && groups[0] >= 8 && groups[0] <= 10 && groups[1] == 4 && groups[2] >= 1 && groups[2] <= 3;
}
