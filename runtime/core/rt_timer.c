/* rt_timer.c — volatile per-actor timers on the home worker's event_base.
 *
 * Purpose: rt_timer_after arms a libevent timer on the actor's home worker;
 * when it fires, an RT_MSG_TIMER (corr = timer id) is pushed into the
 * actor's normal lane. The record stays until that message is delivered,
 * so rt_timer_cancel also suppresses a fired-but-undelivered timer.
 * Timers die with the activation (rt_timer_clear on deactivation).
 *
 * Exports: rt_timer_after, rt_timer_cancel (rt.h); rt_timer_arm,
 * rt_timer_take, rt_timer_clear (rt_internal.h).
 * Threads: the actor's home worker only (handler context).
 */
#include "rt_internal.h"
#include "rt_clock.h"
#include "rt_log.h"

#include <event2/event.h>
#include <stdlib.h>

static void rt_timer_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    rt_timer_rec_t *r = arg;
    rt_msg_t *m = rt_msg_new(RT_MSG_TIMER, 0);
    if (!m) {
        /* try again shortly rather than lose the timer */
        struct timeval tv = rt_clock_tv(1);
        if (evtimer_add(r->ev, &tv) != 0)
            LOG_ERROR("timer_lost", "id=%u reason=enomem", r->id);
        return;
    }
    r->fired = true;
    m->corr = r->id;
    rt_actor_push(r->actor, m);
}

static rt_timer_rec_t **rt_timer_find(rt_actor_t *a, uint32_t id)
{
    if (!a->ext) return NULL;
    for (rt_timer_rec_t **pp = &a->ext->timers; *pp; pp = &(*pp)->next)
        if ((*pp)->id == id) return pp;
    return NULL;
}

static void rt_timer_free(rt_timer_rec_t *r)
{
    event_free(r->ev);
    free(r);
}

uint32_t rt_timer_arm(rt_worker_t *w, rt_actor_t *a, uint32_t ms)
{
    rt_actor_ext_t *x = rt_actor_ext(a);
    if (!x) return 0;
    rt_timer_rec_t *r = calloc(1, sizeof *r);
    if (!r) return 0;
    r->ev = evtimer_new(w->base, rt_timer_cb, r);
    if (!r->ev) {
        free(r);
        return 0;
    }
    if (++x->timer_seq == 0) x->timer_seq = 1;
    r->id = x->timer_seq;
    r->actor = a;
    struct timeval tv = rt_clock_tv(ms);
    if (evtimer_add(r->ev, &tv) != 0) {
        rt_timer_free(r);
        return 0;
    }
    r->next = x->timers;
    x->timers = r;
    return r->id;
}

uint32_t rt_timer_after(rt_actor_t *self, uint32_t ms)
{
    rt_worker_t *w = rt_tls_worker;
    if (!self || !w || rt_tls_actor != self || w->index != self->worker) return 0;
    return rt_timer_arm(w, self, ms);
}

int rt_timer_cancel(rt_actor_t *self, uint32_t timer_id)
{
    if (!self) return RT_EINVAL;
    rt_timer_rec_t **pp = rt_timer_find(self, timer_id);
    if (!pp) return RT_ENOTFOUND;
    rt_timer_rec_t *r = *pp;
    *pp = r->next;
    rt_timer_free(r);
    return RT_OK;
}

bool rt_timer_take(rt_actor_t *a, uint32_t id)
{
    rt_timer_rec_t **pp = rt_timer_find(a, id);
    if (!pp || !(*pp)->fired) return false;
    rt_timer_rec_t *r = *pp;
    *pp = r->next;
    rt_timer_free(r);
    return true;
}

void rt_timer_clear(rt_actor_t *a)
{
    if (!a->ext) return;
    for (rt_timer_rec_t *r = a->ext->timers, *n; r; r = n) {
        n = r->next;
        rt_timer_free(r);
    }
    a->ext->timers = NULL;
    a->ext->act_timer = 0;
}
