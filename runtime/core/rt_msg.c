/* rt_msg.c — message allocation and release.
 *
 * Purpose: a message is one heap block (header + payload). Releasing a
 * message also settles its ask slot (the asker is woken with a code when
 * the request dies unanswered) and frees its owned `ptr`.
 *
 * Exports: rt_msg_new, rt_msg_free, rt_msg_drop (core-internal).
 * Threads: any.
 */
#include "rt_internal.h"

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

void rt_msg_drop(rt_msg_t *m, int code)
{
    if (!m) return;
    if ((m->flags & RT_MSG_F_ASK) && m->ask) rt_ask_release(m, code);
    if (m->ptr && m->ptr_free) m->ptr_free(m->ptr);
    free(m);
}

void rt_msg_free(rt_msg_t *m)
{
    rt_msg_drop(m, RT_EFAIL);
}
