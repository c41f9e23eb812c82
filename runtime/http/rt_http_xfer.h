/* rt_http_xfer.h — one transfer: request → curl easy handle → result (private).
 *
 * Purpose: the part of the HTTP client that knows one request. It turns an
 * rt_http_req_t into a fully configured CURL easy handle that owns copies of
 * everything it needs, collects the response body (bounded) and headers
 * while curl runs it, and at the end turns the CURLcode into an
 * rt_http_result_t. The event-loop glue lives in rt_http_multi.c.
 *
 * Exports (inside runtime/http only): rt_http_xfer_t, rt_http_xfer_new,
 * rt_http_xfer_finish.
 *
 * Threads: a transfer belongs to the loop thread of its multi.
 */
#ifndef PLUS7_RT_HTTP_XFER_H
#define PLUS7_RT_HTTP_XFER_H

#include "rt_list.h"
#include <curl/curl.h>

#include "rt_http.h"

typedef struct rt_http_xfer rt_http_xfer_t;

struct rt_http_xfer {
    CURL *easy;
    struct curl_slist *hdrs;   /* request headers (curl copies nothing here) */
    curl_mime *mime;           /* multipart body, freed after the easy handle */
    rt_http_result_t *res;     /* being filled; handed out by finish */
    size_t body_cap;           /* bytes allocated for res->body */
    size_t max_body;           /* response body limit for this request */
    int too_large;             /* body limit hit in the write callback */
    char *hbuf;                /* header lines of the current response, each NUL-ended */
    size_t hlen, hcap;
    uint64_t t0_ms;            /* start, monotonic */
    rt_http_done_fn done;
    void *arg;
    rt_list_node_t link;         /* the multi's in-flight list */
    char errbuf[CURL_ERROR_SIZE];
};

/* Effective settings of a multi (defaults resolved), shared by its transfers. */
typedef struct rt_http_defaults {
    uint32_t timeout_ms;
    uint32_t connect_timeout_ms;
    size_t max_body;
    const char *user_agent;
    const char *proxy;         /* NULL = curl's environment handling */
} rt_http_defaults_t;

/* Build a transfer for `req` with `d` filling unset limits. Copies every
 * byte of `req`. On success *out holds the transfer (not yet added to any
 * multi; CURLOPT_PRIVATE points at it) and RT_OK is returned; otherwise
 * RT_EINVAL, RT_ENOMEM or RT_EIO and *out is NULL. Loop thread. */
int rt_http_xfer_new(const rt_http_defaults_t *d, const rt_http_req_t *req,
                     rt_http_xfer_t **out);

/* Finish a transfer that has been removed from its multi (or never added):
 * read status and headers, map `code` (or RT_ESHUTDOWN when `cancelled`)
 * into the result, free the easy handle and everything the transfer owns,
 * and return the result (the caller owns it). Never returns NULL. */
rt_http_result_t *rt_http_xfer_finish(rt_http_xfer_t *x, CURLcode code, int cancelled);

#endif
