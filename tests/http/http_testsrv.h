/* http_testsrv.h — a loopback HTTP server for the rt_http tests.
 *
 * Purpose: a real HTTP/1.1 server (libevent evhttp) on 127.0.0.1 with an
 * ephemeral port, running its own event loop on its own thread, so the
 * client under test talks real TCP. Routes:
 *   /echo            200; body = request body; headers X-Method (method),
 *                    X-Test-Echo (request's X-Test), X-Req-Content-Type
 *   /status/N        status N, body "status N"; 429 and 503 add Retry-After: 7
 *   /delay/MS[...]   200 after MS ms; body = the request path (so callers can
 *                    tag requests with a suffix, e.g. /delay/200/a3-c17)
 *   /hang            never answers
 *   /big/N           200 with N pattern bytes (Content-Length)
 *   /bigchunk/N      200 with N pattern bytes sent chunked (no Content-Length)
 *   /upload          records the request body and Content-Type, 200 "ok"
 * Pattern byte i is (i * 31 + 7) & 0xff (http_testsrv_pattern).
 * Counters: accepted connections, requests, and the largest number of
 * delayed replies pending at once.
 *
 * Exports: http_testsrv_t, http_testsrv_start, http_testsrv_stop,
 * http_testsrv_url, http_testsrv_accepted, http_testsrv_requests,
 * http_testsrv_max_pending, http_testsrv_upload, http_testsrv_pattern.
 *
 * Threads: start/stop/url/counters/upload from the test thread; the server
 * runs on its own thread. Needs evthread_use_pthreads() (start calls it).
 */
#ifndef PLUS7_HTTP_TESTSRV_H
#define PLUS7_HTTP_TESTSRV_H

#include <stddef.h>

typedef struct http_testsrv http_testsrv_t;

/* Start a server on 127.0.0.1:<ephemeral> with a deep listen backlog.
 * NULL on failure. */
http_testsrv_t *http_testsrv_start(void);
/* Stop the loop, join the thread, free everything (pending replies dropped). */
void http_testsrv_stop(http_testsrv_t *s);
/* Write "http://127.0.0.1:PORT" + path into buf. Returns buf. */
char *http_testsrv_url(const http_testsrv_t *s, const char *path, char *buf, size_t cap);
int http_testsrv_port(const http_testsrv_t *s);
long http_testsrv_accepted(http_testsrv_t *s);
long http_testsrv_requests(http_testsrv_t *s);
long http_testsrv_max_pending(http_testsrv_t *s);
/* Copy of the last /upload body (malloc'd, caller frees) and its
 * Content-Type (into ct). NULL if none yet. */
unsigned char *http_testsrv_upload(http_testsrv_t *s, size_t *len, char *ct, size_t ctcap);
static inline unsigned char http_testsrv_pattern(size_t i) { return (unsigned char)((i * 31 + 7) & 0xff); }

#endif
