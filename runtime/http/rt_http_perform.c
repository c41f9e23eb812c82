/* rt_http_perform.c — a blocking HTTP request for non-worker threads.
 *
 * Purpose: startup calls (setWebhook, getMe), tools and tests that have no
 * event loop of their own: runs one request on a private event_base and
 * multi until it finishes. Refuses to run on a runtime worker
 * (rt_assert_not_worker), where only rt_http_request is allowed.
 *
 * Exports: rt_http_perform.
 * Threads: any thread that is not a runtime worker.
 */
#include "rt_http.h"

#include <event2/event.h>

typedef struct perform_slot {
    struct event_base *base;
    rt_http_result_t *res;
} perform_slot_t;

static void perform_done(rt_http_result_t *res, void *arg)
{
    perform_slot_t *s = arg;
    s->res = res;
    event_base_loopbreak(s->base);
}

int rt_http_perform(const rt_http_req_t *req, const rt_http_options_t *opt,
                    rt_http_result_t **out)
{
    rt_assert_not_worker("rt_http_perform");
    *out = NULL;
    perform_slot_t s = {event_base_new(), NULL};
    if (!s.base) return RT_ENOMEM;
    rt_http_multi_t *m = rt_http_multi_new(s.base, opt);
    if (!m) {
        event_base_free(s.base);
        return RT_ENOMEM;
    }
    int rc = rt_http_multi_start(m, req, perform_done, &s);
    while (rc == RT_OK && !s.res)
        if (event_base_dispatch(s.base) != 0) break; /* error, or nothing left to wait for */
    rt_http_multi_free(m); /* a request still running (loop error) completes as RT_ESHUTDOWN */
    event_base_free(s.base);
    if (rc != RT_OK) return rc;
    *out = s.res;
    return s.res->rc;
}
