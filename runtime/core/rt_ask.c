/* rt_ask.c — ask/reply between a non-worker thread and an actor.
 *
 * Purpose: rt_ask sends a request carrying a reply slot and blocks on the
 * slot's condition variable until rt_reply fills it, the request dies
 * unanswered (the runtime releases it with a code), or the deadline
 * passes. The slot is reference-counted (asker + request message), so a
 * late reply after a timeout is freed, never leaked, and never written to
 * freed memory.
 *
 * Exports: rt_ask, rt_reply, rt_ask_release (core-internal).
 *
 * Threads: rt_ask from non-worker threads (civetweb handlers, main);
 * rt_reply from the handler that received the request; rt_ask_release
 * wherever the request is freed.
 */
#include "rt_internal.h"
#include "rt_clock.h"
#include "rt_log.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>

typedef struct rt_ask_slot {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int refs;              /* asker + request; under mu */
    bool done;             /* reply or final code available */
    bool abandoned;        /* the asker gave up */
    int code;
    rt_msg_t *reply;
} rt_ask_slot_t;

static rt_ask_slot_t *rt_ask_slot_new(void)
{
    rt_ask_slot_t *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    int e1 = pthread_cond_init(&s->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (e1 != 0) { free(s); return NULL; }
    if (pthread_mutex_init(&s->mu, NULL) != 0) {
        pthread_cond_destroy(&s->cv);
        free(s);
        return NULL;
    }
    s->refs = 2;
    return s;
}

/* Drop one reference; s->mu held on entry, released on return. */
static void rt_ask_slot_unref_locked(rt_ask_slot_t *s)
{
    int left = --s->refs;
    pthread_mutex_unlock(&s->mu);
    if (left) return;
    if (s->reply) rt_msg_free(s->reply);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

void rt_ask_release(rt_msg_t *m, int code)
{
    rt_ask_slot_t *s = m->ask;
    m->ask = NULL;
    pthread_mutex_lock(&s->mu);
    if (!s->done) {
        s->done = true;
        s->code = code;
        pthread_cond_signal(&s->cv);
    }
    rt_ask_slot_unref_locked(s);
}

int rt_reply(rt_actor_t *self, const rt_msg_t *request, rt_msg_t *reply)
{
    if (!reply) return RT_EINVAL;
    if (!request || !(request->flags & RT_MSG_F_ASK) || !request->ask) {
        rt_msg_free(reply);
        return RT_EINVAL;
    }
    rt_ask_slot_t *s = request->ask;
    if (self) reply->from = rt_self_ref(self);
    pthread_mutex_lock(&s->mu);
    int rc = RT_OK;
    if (s->abandoned) rc = RT_ETIMEDOUT;
    else if (s->done) rc = RT_EINVAL;       /* already answered */
    if (rc != RT_OK) {
        pthread_mutex_unlock(&s->mu);
        rt_msg_free(reply);
        return rc;
    }
    s->reply = reply;
    s->done = true;
    s->code = RT_OK;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
    return RT_OK;
}

int rt_ask(rt_runtime_t *rt, const rt_kind_t *kind, const char *key, rt_msg_t *m, int timeout_ms,
           rt_msg_t **reply)
{
    if (reply) *reply = NULL;
    if (!m) return RT_EINVAL;
    if (!reply || rt_tls_worker) {
        if (rt_tls_worker) rt_assert_not_worker("rt_ask");
        rt_msg_free(m);
        return RT_EINVAL;
    }
    rt_ask_slot_t *s = rt_ask_slot_new();
    if (!s) {
        rt_msg_free(m);
        return RT_ENOMEM;
    }
    m->flags |= RT_MSG_F_ASK;
    m->ask = s;
    /* on failure the send released the request with its code: s->done */
    (void)rt_send_key_bounded(rt, kind, key, m);

    if (timeout_ms < 0) timeout_ms = 0;
    struct timespec dl = rt_clock_deadline(CLOCK_MONOTONIC, (uint64_t)timeout_ms);

    pthread_mutex_lock(&s->mu);
    while (!s->done) {
        int e = pthread_cond_timedwait(&s->cv, &s->mu, &dl);
        if (e == ETIMEDOUT) break;
    }
    int rc;
    if (s->done) {
        rc = s->code;
        if (rc == RT_OK) {
            *reply = s->reply;
            s->reply = NULL;
        }
    } else {
        s->abandoned = true;
        rc = RT_ETIMEDOUT;
    }
    rt_ask_slot_unref_locked(s);
    return rc;
}
