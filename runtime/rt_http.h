/* rt_http.h — asynchronous HTTP client: libcurl multi on a libevent loop.
 *
 * Purpose: outgoing HTTP (Telegram Bot API, Ozon, SMS, CRM, payments) that
 * never blocks the thread that issues it. Two layers:
 *
 *   1. rt_http_multi_*: one CURLM bound to any struct event_base with plain
 *      C callbacks (curl's socket/timer callbacks drive libevent events; a
 *      finished transfer calls the request's done callback on the loop
 *      thread). Knows nothing of actors; tests use it on a bare event_base.
 *   2. rt_http_init / rt_http_request: one multi per runtime worker (worker
 *      slot RT_HTTP_WORKER_SLOT); an actor issues a request and later gets
 *      an RT_MSG_HTTP_RESULT message carrying an rt_http_result_t.
 *
 * A request is copied completely when it is started (URL, headers, body,
 * multipart parts): the caller may free it right after the call returns.
 * Connections are kept alive and reused inside one multi (per worker).
 *
 * Exports: rt_http_options_t, rt_http_part_t, rt_http_req_t,
 * rt_http_header_t, rt_http_result_t, rt_http_result_header,
 * rt_http_result_free, rt_http_multi_new/start/inflight/free,
 * rt_http_init, rt_http_request, rt_http_perform, rt_http_stats_*.
 *
 * Threads: an rt_http_multi_t belongs to the thread that runs its
 * event_base; rt_http_request only inside an actor handler (worker thread);
 * rt_http_init from the main thread before rt_runtime_start; rt_http_perform
 * only on non-worker threads; rt_http_stats_* and rt_http_result_* from any
 * thread.
 *
 * Design: the event glue follows the pattern of curl's
 * docs/examples/hiperfifo.c (multi socket API + libevent); see
 * runtime/http/rt_http_multi.c for the details.
 */
#ifndef PLUS7_RT_HTTP_H
#define PLUS7_RT_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "rt.h"

struct event_base;

#define RT_HTTP_WORKER_SLOT 1          /* rt_worker_hook slot (rt_pg uses 0) */
#define RT_HTTP_DEFAULT_TIMEOUT_MS 30000
#define RT_HTTP_DEFAULT_CONNECT_TIMEOUT_MS 10000
#define RT_HTTP_DEFAULT_MAX_HOST_CONNECTIONS 64
#define RT_HTTP_DEFAULT_MAX_BODY (16u * 1024 * 1024)
#define RT_HTTP_MAX_HEADER_BYTES (64 * 1024) /* response header bytes kept */
#define RT_HTTP_ERROR_MAX 256

/* Per-multi settings. A zeroed struct (or NULL) means all defaults. */
typedef struct rt_http_options {
    uint32_t max_host_connections;  /* open connections per host:port; 0 = 64.
                                       Requests beyond it wait in a queue. */
    uint32_t max_total_connections; /* all hosts together; 0 = no limit */
    uint32_t max_idle_connections;  /* size of the kept-alive cache; 0 = curl's
                                       default (4 x transfers added) */
    uint32_t timeout_ms;            /* default whole-request timeout; 0 = 30 s */
    uint32_t connect_timeout_ms;    /* default connect timeout; 0 = 10 s */
    size_t max_body;                /* default response body limit; 0 = 16 MiB */
    const char *user_agent;         /* copied; NULL = "plus7/<version>" */
    const char *proxy;              /* copied; NULL = from the environment
                                       (https_proxy, no_proxy, ...), "" = never
                                       use a proxy, else a proxy URL */
} rt_http_options_t;

/* One multipart/form-data part (Telegram's sendPhoto/sendDocument). */
typedef struct rt_http_part {
    const char *name;          /* form field name, required */
    const void *data;          /* contents (copied); may be NULL when len 0 */
    size_t len;
    const char *filename;      /* optional: makes it a file part */
    const char *content_type;  /* optional, e.g. "image/jpeg" */
} rt_http_part_t;

/* One request. Everything is copied by rt_http_multi_start/rt_http_request. */
typedef struct rt_http_req {
    const char *method;        /* NULL = "GET", or "POST" when a body or parts
                                  are given; any token ("PUT", "DELETE", ...) */
    const char *url;           /* http:// or https:// only; required */
    const char *const *headers;/* "Name: value" lines, no CR/LF */
    size_t nheaders;
    const char *content_type;  /* optional shortcut for a raw body */
    const void *body;          /* raw request body (may contain NULs) */
    size_t body_len;
    const rt_http_part_t *parts; /* multipart/form-data body; excludes `body` */
    size_t nparts;
    uint32_t timeout_ms;       /* 0 = the multi's default */
    uint32_t connect_timeout_ms; /* 0 = the multi's default */
    size_t max_body;           /* response body limit; 0 = the multi's default */
} rt_http_req_t;

typedef struct rt_http_header {
    const char *name;          /* as received, NUL-terminated */
    const char *value;         /* leading/trailing blanks removed */
} rt_http_header_t;

/* The outcome of one request. `rc` says whether an HTTP response arrived:
 *   RT_OK          a complete response (any status, 1xx..5xx: see `status`)
 *   RT_ETIMEDOUT   whole-request or connect timeout
 *   RT_EFULL       response body larger than the request's max_body
 *   RT_EIO         connection refused/reset, DNS failure, TLS, protocol error
 *   RT_EINVAL      curl refused the URL (malformed, unsupported scheme)
 *   RT_ENOMEM      allocation failure during the transfer
 *   RT_ESHUTDOWN   cancelled because its multi (worker) was torn down
 * Owned by whoever received it; free with rt_http_result_free. */
typedef struct rt_http_result {
    int rc;
    int curl_code;             /* CURLcode, for logs */
    long status;               /* HTTP status of the final response, 0 if none */
    char *body;                /* never NULL; NUL-terminated after body_len */
    size_t body_len;
    rt_http_header_t *headers; /* the final response's headers, in order */
    size_t nheaders;
    const char *content_type;  /* value of Content-Type, or NULL */
    int64_t retry_after_s;     /* Retry-After in seconds (delta or date), -1 if absent */
    uint32_t new_connections;  /* connections this request had to open (0 = reused) */
    uint32_t elapsed_ms;       /* from start to completion */
    char error[RT_HTTP_ERROR_MAX]; /* human-readable reason when rc != RT_OK, else "" */
    char *header_buf_;         /* private: storage behind `headers` */
} rt_http_result_t;

/* First header of the result named `name` (ASCII case-insensitive), or
 * NULL. The pointer lives as long as the result. Any thread. */
const char *rt_http_result_header(const rt_http_result_t *r, const char *name);

/* Free a result and everything it owns; NULL is a no-op. Its type fits
 * rt_msg_t.ptr_free. Any thread. */
void rt_http_result_free(void *r);

/* ---- layer 1: a multi bound to an event_base ---------------------------------- */

typedef struct rt_http_multi rt_http_multi_t;

/* Called on the loop thread when a started request finishes (or is
 * cancelled by rt_http_multi_free). The callee owns `res`. The callback may
 * start new requests on the same multi; it must not free the multi. */
typedef void (*rt_http_done_fn)(rt_http_result_t *res, void *arg);

/* Create a multi whose sockets and timer live on `base`. `opt` may be NULL
 * (defaults) and is copied. Returns NULL on allocation failure. Call on the
 * thread that runs `base` (or before that loop runs). */
rt_http_multi_t *rt_http_multi_new(struct event_base *base, const rt_http_options_t *opt);

/* Start `req` on `m`; copies everything in `req`. Never blocks and never
 * calls `done` before returning: on RT_OK `done(res, arg)` runs exactly once
 * later on the loop thread. On an error nothing is started and `done` is
 * never called: RT_EINVAL (no URL, body together with parts, CR/LF in a
 * header or method, bad part), RT_ENOMEM, RT_EIO (curl refused the handle).
 * Loop thread only. */
int rt_http_multi_start(rt_http_multi_t *m, const rt_http_req_t *req,
                        rt_http_done_fn done, void *arg);

/* Requests started on `m` whose done callback has not yet run. Loop thread. */
size_t rt_http_multi_inflight(const rt_http_multi_t *m);

/* Cancel every in-flight request (each done callback runs now, with
 * rc = RT_ESHUTDOWN), close all connections and free `m`. NULL is a no-op.
 * Loop thread, not from inside a done callback. */
void rt_http_multi_free(rt_http_multi_t *m);

/* ---- layer 2: the actor runtime ------------------------------------------------- */

/* Register the per-worker multi (worker slot RT_HTTP_WORKER_SLOT) with
 * options `opt` (NULL = defaults; copied). Main thread, before
 * rt_runtime_start. Returns RT_OK, RT_ENOMEM, or rt_worker_hook's error. */
int rt_http_init(rt_runtime_t *rt, const rt_http_options_t *opt);

/* Issue `req` for the running actor `self` (copied: the caller may free it
 * right after). The result arrives later as a message to self with
 * type RT_MSG_HTTP_RESULT, flags RT_MSG_F_URGENT, corr = `corr` and
 * ptr = the rt_http_result_t* (owned by the message and freed with it by
 * the runtime; the handler borrows it and copies what it keeps). Returns
 * RT_OK when the request was started (exactly one result message follows,
 * unless the actor is gone by then), else RT_EINVAL (bad request, or not on
 * a worker / rt_http_init not called), RT_ENOMEM or RT_EIO, and then no
 * message comes. Counts in rt_worker_inflight_add while in flight, so a
 * graceful stop waits for it. Handler context only (worker thread). */
int rt_http_request(rt_actor_t *self, uint32_t corr, const rt_http_req_t *req);

/* Blocking request for NON-worker threads (startup calls such as
 * setWebhook, tools, tests): runs a private event loop until `req`
 * finishes. On return *out holds the result (caller frees) whenever the
 * request was started; the return value is then (*out)->rc. A setup error
 * returns RT_EINVAL/RT_ENOMEM/RT_EIO with *out = NULL. Calls
 * rt_assert_not_worker. */
int rt_http_perform(const rt_http_req_t *req, const rt_http_options_t *opt,
                    rt_http_result_t **out);

/* ---- counters for /metrics (all multis of the process together) -------------- */

/* Requests started and not yet finished. Any thread. */
int64_t rt_http_stats_inflight(void);
/* Requests started since process start. Any thread. */
uint64_t rt_http_stats_requests(void);
/* Finished requests with rc != RT_OK (no HTTP response: timeout, refused,
 * too large, cancelled). HTTP 4xx/5xx are not errors here. Any thread. */
uint64_t rt_http_stats_errors(void);

#endif
