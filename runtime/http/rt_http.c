/* rt_http.c — the HTTP client's actor layer: one curl multi per worker.
 *
 * Purpose: layer 2 of the HTTP client (see rt_http.h). rt_http_init
 * registers a worker hook (slot RT_HTTP_WORKER_SLOT) that creates an
 * rt_http_multi_t on each worker's event_base; rt_http_request starts a
 * transfer on the calling worker's multi and, when it finishes, posts an
 * RT_MSG_HTTP_RESULT message (urgent, corr as given, ptr = the result) back
 * to the requesting actor. While a request is in flight the worker's
 * in-flight count holds it, so a graceful stop waits for it; a worker that
 * stops anyway cancels what is left (the result messages then fail to send
 * and are freed).
 *
 * Exports: rt_http_init, rt_http_request.
 *
 * Threads: rt_http_init on the main thread before rt_runtime_start; the
 * hooks on each worker thread; rt_http_request inside an actor handler.
 */
#include "rt_http.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "rt_log.h"

/* Options shared by the worker hooks until every worker has copied them
 * into its own multi: the last worker's init frees them. */
typedef struct http_hook_arg {
    rt_http_options_t opt;
    char *user_agent;
    char *proxy;
    atomic_int left;          /* workers that have not yet run init */
} http_hook_arg_t;

/* What a finished request needs to find its way home. */
typedef struct http_ticket {
    rt_runtime_t *rt;
    rt_ref_t to;
    uint32_t corr;
} http_ticket_t;

static void *http_worker_init(rt_runtime_t *rt, int worker, void *argp)
{
    http_hook_arg_t *a = argp;
    struct event_base *base = rt_worker_base();
    rt_http_multi_t *m = base ? rt_http_multi_new(base, &a->opt) : NULL;
    if (!m) rt_worker_init_failed("rt_http: cannot create the curl multi");
    (void)worker;
    /* acq_rel: the last decrement must see every other worker's reads of
     * `a` finished before it frees it (release by them, acquire by it). */
    if (atomic_fetch_sub_explicit(&a->left, 1, memory_order_acq_rel) == 1) {
        free(a->user_agent);
        free(a->proxy);
        free(a);
    }
    return m;
}

static void http_worker_fini(void *slot_value, void *arg)
{
    rt_http_multi_free(slot_value); /* cancels what is left: results go out as RT_ESHUTDOWN */
}

int rt_http_init(rt_runtime_t *rt, const rt_http_options_t *opt)
{
    if (!rt) return RT_EINVAL;
    int threads = rt_runtime_threads(rt);
    if (threads < 1) return RT_EINVAL;
    http_hook_arg_t *a = calloc(1, sizeof *a);
    if (!a) return RT_ENOMEM;
    if (opt) a->opt = *opt;
    if (opt && opt->user_agent && !(a->user_agent = strdup(opt->user_agent))) goto nomem;
    if (opt && opt->proxy && !(a->proxy = strdup(opt->proxy))) goto nomem;
    a->opt.user_agent = a->user_agent;
    a->opt.proxy = a->proxy;
    /* relaxed: published to the workers by rt_runtime_start's thread creation. */
    atomic_store_explicit(&a->left, threads, memory_order_relaxed);
    int rc = rt_worker_hook(rt, RT_HTTP_WORKER_SLOT, http_worker_init, http_worker_fini, a);
    if (rc != RT_OK) {
        free(a->user_agent);
        free(a->proxy);
        free(a);
    }
    return rc;
nomem:
    free(a->user_agent);
    free(a->proxy);
    free(a);
    return RT_ENOMEM;
}

/* Done callback on the worker: wrap the result in a message to the actor. */
static void http_deliver(rt_http_result_t *res, void *arg)
{
    http_ticket_t *t = arg;
    (void)rt_send_result(t->rt, t->to, RT_MSG_HTTP_RESULT, t->corr, res, rt_http_result_free);
    free(t);
    rt_worker_inflight_add(-1);
}

int rt_http_request(rt_actor_t *self, uint32_t corr, const rt_http_req_t *req)
{
    rt_http_multi_t *m = rt_worker_slot(RT_HTTP_WORKER_SLOT);
    if (!self || !m) return RT_EINVAL;
    http_ticket_t *t = malloc(sizeof *t);
    if (!t) return RT_ENOMEM;
    t->rt = rt_self_runtime(self);
    t->to = rt_self_ref(self);
    t->corr = corr;
    int rc = rt_http_multi_start(m, req, http_deliver, t);
    if (rc != RT_OK) {
        free(t);
        return rc;
    }
    rt_worker_inflight_add(+1);
    return RT_OK;
}
