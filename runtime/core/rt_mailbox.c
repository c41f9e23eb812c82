/* rt_mailbox.c — the mailbox's slow paths (the hot paths are inline in
 * rt_mailbox.h).
 *
 * Exports: rt_mbox_drain.
 * Threads: the owner of the actor's scheduling token, after every producer
 * that could still be pushing has finished (grace period passed, or the
 * runtime is stopped).
 */
#include "rt_mailbox.h"

/* Pop every message of both lanes (urgent first) and hand each to fn.
 * Returns the number of messages. With no producer left, a NULL pop means
 * the lane is empty: a producer's exchange and link both happened before
 * the grace period ended. */
uint32_t rt_mbox_drain(rt_actor_t *a, void (*fn)(rt_actor_t *a, rt_msg_t *m, void *arg), void *arg)
{
    uint32_t n = 0;
    rt_msg_t *m;
    while ((m = rt_mbox_pop_urgent(a))) { fn(a, m, arg); n++; }
    while ((m = rt_mbox_pop_normal(a))) { fn(a, m, arg); n++; }
    /* relaxed: metric only */
    atomic_fetch_add_explicit(&a->popped, n, memory_order_relaxed);
    return n;
}
