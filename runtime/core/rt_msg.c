/* rt_msg.c — message allocation and release.
 *
 * Purpose: a message is one block (header + payload) from the size-class
 * pools (rt_pool.h) — its capacity is rounded up to the class, so the
 * class is recomputed from `cap` when it is freed — or from malloc when
 * it is bigger than RT_POOL_MAX. Messages must be freed with rt_msg_free
 * (never free/realloc). Releasing a message also settles its ask slot (the
 * asker is woken with a code when the request dies unanswered) and frees
 * its owned `ptr`.
 *
 * Exports: rt_msg_new, rt_msg_free, rt_msg_drop (core-internal).
 * Threads: any.
 */
#include "rt_internal.h"
#include "rt_pool.h"

#include <stdlib.h>
#include <string.h>

rt_msg_t *rt_msg_new(uint16_t type, uint32_t cap)
{
    size_t size = sizeof(rt_msg_t) + (size_t)cap;
    int c = rt_pool_class(size);
    rt_msg_t *m;
    if (c >= 0) {
        m = rt_pool_get(c);
        cap = (uint32_t)(rt_pool_class_size(c) - sizeof(rt_msg_t));
    } else {
        m = malloc(size);
    }
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
    int c = rt_pool_class(sizeof(rt_msg_t) + (size_t)m->cap);
    if (c >= 0) rt_pool_put(c, m);
    else free(m);
}

void rt_msg_free(rt_msg_t *m)
{
    rt_msg_drop(m, RT_EFAIL);
}
