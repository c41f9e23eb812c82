/* rt_msg.c — message allocation.
 *
 * Exports: rt_msg_new, rt_msg_free.
 * Threads: any.
 */
#include "rt.h"

#include <stdlib.h>
#include <string.h>

rt_msg_t *rt_msg_new(uint16_t type, uint32_t cap)
{
    rt_msg_t *m = malloc(sizeof *m + cap);
    if (!m) return NULL;
    memset(m, 0, sizeof *m);
    m->type = type;
    m->cap = cap;
    return m;
}

void rt_msg_free(rt_msg_t *m)
{
    if (!m) return;
    if (m->ptr && m->ptr_free) m->ptr_free(m->ptr);
    free(m);
}
