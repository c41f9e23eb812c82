/* texts.c — the Russian message catalogue table (see texts.h).
 * Exports: text_get. Threads: any.
 */
#include "texts.h"

static const char *const text_table[T__COUNT] = {
#define TEXTS_STR_(id, s) [id] = s,
    TEXTS_LIST(TEXTS_STR_)
#undef TEXTS_STR_
};

const char *text_get(text_id_t id)
{
    return (unsigned)id < T__COUNT ? text_table[id] : "";
}
