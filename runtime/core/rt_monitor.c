/* rt_monitor.c — monitors: who watches an activation, and the DOWN they get.
 *
 * Purpose: rt_monitor sends an urgent internal request (RT_MSG_I_MONITOR)
 * to the target; its home worker records the watcher in the target's ext
 * block. When the activation ends (stop, passivation, failure) every
 * watcher gets RT_MSG_DOWN (from = the ended activation's ref, corr =
 * RT_DOWN_*). A request that reaches an ended activation is answered with
 * DOWN at once, so a watcher always hears.
 *
 * Exports: rt_monitor (rt.h); rt_actor_send_down, rt_actor_add_watch,
 * rt_actor_drop_bound (rt_life.h).
 *
 * Threads: rt_monitor in a handler; rt_actor_send_down any thread; the
 * rest on the watched actor's home worker.
 */
#include "rt_life.h"

#include <stdlib.h>

void rt_actor_send_down(rt_runtime_t *rt, rt_ref_t to, rt_ref_t from, uint32_t reason)
{
    rt_msg_t *d = rt_msg_new(RT_MSG_DOWN, 0);
    if (!d) return;
    d->flags = RT_MSG_F_URGENT;
    d->from = from;
    d->corr = reason;
    (void)rt_send(rt, to, d);
}

void rt_actor_add_watch(rt_actor_t *a, rt_ref_t who)
{
    rt_actor_ext_t *x = rt_actor_ext(a);
    if (x && x->nwatch == x->capwatch) {
        uint32_t cap = x->capwatch ? x->capwatch * 2 : 4;
        rt_ref_t *g = realloc(x->watch, cap * sizeof *g);
        if (g) {
            x->watch = g;
            x->capwatch = cap;
        }
    }
    if (!x || x->nwatch == x->capwatch) {
        /* cannot remember the watcher: tell it now rather than never */
        rt_actor_send_down(a->rt, who, rt_self_ref(a), RT_DOWN_STOPPED);
        return;
    }
    x->watch[x->nwatch++] = who;
}

/* A message that belonged to an ended activation or a gone actor. */
void rt_actor_drop_bound(rt_actor_t *a, rt_msg_t *m, rt_ref_t old, int code)
{
    if (m->type == RT_MSG_I_MONITOR) rt_actor_send_down(a->rt, m->from, old, RT_DOWN_STOPPED);
    rt_msg_drop(m, code);
}

int rt_monitor(rt_actor_t *self, rt_ref_t target)
{
    if (!self) return RT_EINVAL;
    rt_msg_t *m = rt_msg_new(RT_MSG_I_MONITOR, 0);
    if (!m) return RT_ENOMEM;
    m->flags = RT_MSG_F_URGENT;
    m->from = rt_self_ref(self);
    return rt_send(self->rt, target, m);
}
