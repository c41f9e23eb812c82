/* rt_http_multi.c — a curl multi handle driven by a libevent event_base.
 *
 * Purpose: layer 1 of the HTTP client (see rt_http.h). One CURLM per loop,
 * used through curl's multi socket API in the pattern of curl's
 * docs/examples/hiperfifo.c:
 *   - CURLMOPT_SOCKETFUNCTION tells us which socket curl wants watched for
 *     what; we keep one libevent event per socket (remembered with
 *     curl_multi_assign) and re-assign it when the wanted events change;
 *   - CURLMOPT_TIMERFUNCTION asks for one (re)armed timeout; we keep one
 *     evtimer and never call curl from inside that callback (curl forbids it);
 *   - socket readiness or the timer calls curl_multi_socket_action, after
 *     which every CURLMSG_DONE is turned into a result and handed to the
 *     request's done callback.
 * Connections stay in the multi's cache between requests (keep-alive), so
 * sequential requests to one host reuse one connection.
 *
 * Exports: rt_http_multi_new, rt_http_multi_start, rt_http_multi_inflight,
 * rt_http_multi_free, rt_http_stats_inflight/requests/errors.
 *
 * Threads: everything on the thread that runs the multi's event_base; the
 * stats counters from any thread.
 */
#include "rt_http_xfer.h"
#include "rt_clock.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#ifndef PLUS7_VERSION
#define PLUS7_VERSION "0"
#endif

/* One socket curl asked us to watch. */
typedef struct rt_http_sock {
    struct event *ev;
    rt_list_node_t link;      /* the multi's socket list */
} rt_http_sock_t;

struct rt_http_multi {
    struct event_base *base;
    CURLM *multi;
    struct event *timer;
    rt_http_defaults_t d;
    char *user_agent;
    char *proxy;
    rt_list_t xfers;          /* in-flight transfers (rt_http_xfer_t.link) */
    rt_list_t socks;          /* watched sockets (rt_http_sock_t.link) */
    int closing;              /* rt_http_multi_free is cancelling */
};

/* ---- process-wide counters ------------------------------------------------------
 * All relaxed: they are independent metrics; nobody orders other memory by
 * them and a reader only needs an eventually-current value. */
static atomic_int_fast64_t g_inflight;
static atomic_uint_fast64_t g_requests;
static atomic_uint_fast64_t g_errors;

int64_t rt_http_stats_inflight(void)
{
    return atomic_load_explicit(&g_inflight, memory_order_relaxed); /* metric only */
}

uint64_t rt_http_stats_requests(void)
{
    return atomic_load_explicit(&g_requests, memory_order_relaxed); /* metric only */
}

uint64_t rt_http_stats_errors(void)
{
    return atomic_load_explicit(&g_errors, memory_order_relaxed); /* metric only */
}

/* curl_global_init is run once per process, before the first multi. */
static pthread_once_t g_curl_once = PTHREAD_ONCE_INIT;
static int g_curl_ok;
static void curl_init_once(void)
{
    g_curl_ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
}

/* ---- in-flight list --------------------------------------------------------------- */

static void xfer_link(rt_http_multi_t *m, rt_http_xfer_t *x)
{
    rt_list_push_back(&m->xfers, &x->link);
}

static void xfer_unlink(rt_http_multi_t *m, rt_http_xfer_t *x)
{
    rt_list_remove(&m->xfers, &x->link);
}

/* Turn a removed transfer into its result and call its done callback. */
static void xfer_complete(rt_http_multi_t *m, rt_http_xfer_t *x, CURLcode code, int cancelled)
{
    (void)m;
    rt_http_done_fn done = x->done;
    void *arg = x->arg;
    rt_http_result_t *res = rt_http_xfer_finish(x, code, cancelled); /* frees x */
    atomic_fetch_sub_explicit(&g_inflight, 1, memory_order_relaxed); /* metric only */
    if (res->rc != RT_OK)
        atomic_fetch_add_explicit(&g_errors, 1, memory_order_relaxed); /* metric only */
    done(res, arg);
}

/* Hand every finished transfer to its callback. Called after
 * curl_multi_socket_action returned, never from inside a curl callback,
 * so callbacks may add new transfers. */
static void drain_done(rt_http_multi_t *m)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(m->multi, &left))) {
        if (msg->msg != CURLMSG_DONE) continue;
        CURL *e = msg->easy_handle;
        CURLcode code = msg->data.result;  /* read before remove: msg dies with it */
        char *priv = NULL;
        curl_easy_getinfo(e, CURLINFO_PRIVATE, &priv);
        rt_http_xfer_t *x = (rt_http_xfer_t *)priv;
        curl_multi_remove_handle(m->multi, e);
        xfer_unlink(m, x);
        xfer_complete(m, x, code, 0);
    }
}

/* ---- libevent → curl ------------------------------------------------------------- */

/* Let curl act on `fd` (or its timeout) and collect finished transfers.
 * curl insists on reporting its running count; we count transfers
 * ourselves (the xfers list), so the value is dropped. */
static void socket_action(rt_http_multi_t *m, curl_socket_t fd, int action)
{
    int running_unused;
    curl_multi_socket_action(m->multi, fd, action, &running_unused);
    drain_done(m);
}

static void on_sock_event(evutil_socket_t fd, short what, void *arg)
{
    rt_http_multi_t *m = arg;
    int action = ((what & EV_READ) ? CURL_CSELECT_IN : 0) |
                 ((what & EV_WRITE) ? CURL_CSELECT_OUT : 0);
    /* curl may call sock_cb(REMOVE) in here and free this socket's record;
     * nothing below touches it. */
    socket_action(m, fd, action);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    rt_http_multi_t *m = arg;
    socket_action(m, CURL_SOCKET_TIMEOUT, 0);
}

/* ---- curl → libevent ------------------------------------------------------------- */

static void sock_free(rt_http_multi_t *m, rt_http_sock_t *si)
{
    rt_list_remove(&m->socks, &si->link);
    event_free(si->ev); /* deletes it first if pending */
    free(si);
}

/* CURLMOPT_SOCKETFUNCTION: watch `s` for `what`, or stop watching it. */
static int sock_cb(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
    rt_http_multi_t *m = userp;
    rt_http_sock_t *si = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (si) sock_free(m, si);
        return 0;
    }
    short kind = EV_PERSIST | ((what & CURL_POLL_IN) ? EV_READ : 0) |
                 ((what & CURL_POLL_OUT) ? EV_WRITE : 0);
    if (!si) {
        si = calloc(1, sizeof *si);
        if (!si) return -1;
        si->ev = event_new(m->base, s, kind, on_sock_event, m);
        if (!si->ev) {
            free(si);
            return -1;
        }
        rt_list_push_back(&m->socks, &si->link);
        curl_multi_assign(m->multi, s, si);
    } else {
        event_del(si->ev);
        event_assign(si->ev, m->base, s, kind, on_sock_event, m);
    }
    return event_add(si->ev, NULL) == 0 ? 0 : -1;
}

/* CURLMOPT_TIMERFUNCTION: (re)arm or delete the single timer. */
static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
    rt_http_multi_t *m = userp;
    if (timeout_ms < 0) {
        evtimer_del(m->timer);
        return 0;
    }
    struct timeval tv = rt_clock_tv((uint64_t)timeout_ms);
    return evtimer_add(m->timer, &tv) == 0 ? 0 : -1;
}

/* ---- public ------------------------------------------------------------------------ */

rt_http_multi_t *rt_http_multi_new(struct event_base *base, const rt_http_options_t *opt)
{
    static const rt_http_options_t zero;
    if (!base) return NULL;
    if (!opt) opt = &zero;
    pthread_once(&g_curl_once, curl_init_once);
    if (!g_curl_ok) return NULL;

    rt_http_multi_t *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->base = base;
    m->d.timeout_ms = opt->timeout_ms ? opt->timeout_ms : RT_HTTP_DEFAULT_TIMEOUT_MS;
    m->d.connect_timeout_ms = opt->connect_timeout_ms ? opt->connect_timeout_ms
                                                      : RT_HTTP_DEFAULT_CONNECT_TIMEOUT_MS;
    m->d.max_body = opt->max_body ? opt->max_body : RT_HTTP_DEFAULT_MAX_BODY;
    m->user_agent = strdup(opt->user_agent ? opt->user_agent : "plus7/" PLUS7_VERSION);
    m->d.user_agent = m->user_agent;
    if (opt->proxy) {
        m->proxy = strdup(opt->proxy);
        if (!m->proxy) goto fail;
        m->d.proxy = m->proxy;
    }
    m->multi = curl_multi_init();
    m->timer = evtimer_new(base, on_timer, m);
    if (!m->user_agent || !m->multi || !m->timer) goto fail;

    long host_max = opt->max_host_connections ? (long)opt->max_host_connections
                                              : RT_HTTP_DEFAULT_MAX_HOST_CONNECTIONS;
    CURLMcode c = CURLM_OK;
#define MSET(o, v) do { if (c == CURLM_OK) c = curl_multi_setopt(m->multi, o, v); } while (0)
    MSET(CURLMOPT_SOCKETFUNCTION, sock_cb);
    MSET(CURLMOPT_SOCKETDATA, (void *)m);
    MSET(CURLMOPT_TIMERFUNCTION, timer_cb);
    MSET(CURLMOPT_TIMERDATA, (void *)m);
    MSET(CURLMOPT_MAX_HOST_CONNECTIONS, host_max);
    MSET(CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)opt->max_total_connections);
    if (opt->max_idle_connections) MSET(CURLMOPT_MAXCONNECTS, (long)opt->max_idle_connections);
#undef MSET
    if (c != CURLM_OK) goto fail;
    return m;
fail:
    if (m->multi) curl_multi_cleanup(m->multi);
    if (m->timer) event_free(m->timer);
    free(m->user_agent);
    free(m->proxy);
    free(m);
    return NULL;
}

int rt_http_multi_start(rt_http_multi_t *m, const rt_http_req_t *req,
                        rt_http_done_fn done, void *arg)
{
    if (!m || !done) return RT_EINVAL;
    if (m->closing) return RT_ESHUTDOWN;
    rt_http_xfer_t *x;
    int rc = rt_http_xfer_new(&m->d, req, &x);
    if (rc != RT_OK) return rc;
    x->done = done;
    x->arg = arg;
    /* Adding only arms the timer (timer_cb with 0 ms): the transfer starts
     * on the next loop iteration, so this never blocks or calls back. */
    CURLMcode mc = curl_multi_add_handle(m->multi, x->easy);
    if (mc != CURLM_OK) {
        rt_http_result_free(rt_http_xfer_finish(x, CURLE_OK, 1));
        return mc == CURLM_OUT_OF_MEMORY ? RT_ENOMEM : RT_EIO;
    }
    xfer_link(m, x);
    atomic_fetch_add_explicit(&g_requests, 1, memory_order_relaxed); /* metric only */
    atomic_fetch_add_explicit(&g_inflight, 1, memory_order_relaxed); /* metric only */
    return RT_OK;
}

size_t rt_http_multi_inflight(const rt_http_multi_t *m)
{
    return m ? m->xfers.n : 0;
}

void rt_http_multi_free(rt_http_multi_t *m)
{
    if (!m) return;
    m->closing = 1;
    rt_http_xfer_t *x;
    while ((x = RT_LIST_ENTRY(m->xfers.head, rt_http_xfer_t, link))) {
        curl_multi_remove_handle(m->multi, x->easy);
        xfer_unlink(m, x);
        xfer_complete(m, x, CURLE_OK, 1);
    }
    curl_multi_cleanup(m->multi); /* closes cached connections; may call sock_cb */
    while (m->socks.head) sock_free(m, RT_LIST_ENTRY(m->socks.head, rt_http_sock_t, link));
    event_free(m->timer);
    free(m->user_agent);
    free(m->proxy);
    free(m);
}
