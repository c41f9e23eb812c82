/* web_server.h — the embedded HTTP server: route table, replies, counters.
 *
 * Purpose: wraps civetweb. Modules register handlers by method and path
 * prefix (web_route_add) from their own files before the server starts;
 * one civetweb callback dispatches every request to the longest matching
 * prefix, counts it by route and status for /metrics, and turns a handler
 * that wrote nothing into a JSON 500. Replies are written in one mg_write
 * (status line, headers and body together) on a tcp_nodelay socket.
 *
 *   static int order_get(web_req_t *req) {
 *       ...
 *       return web_reply_json(req, 200, "{\"ok\":true}");
 *   }
 *   web_route_add("GET", "/api/orders", order_get);   // before web_server_start
 *
 * Path matching: a route "/api/orders" matches "/api/orders" and
 * "/api/orders/..." but not "/api/ordersx"; a route ending in '/' (e.g. "/")
 * matches everything below it; the longest matching prefix wins. A route
 * registered for "GET" also serves "HEAD" (body omitted); "*" matches any
 * method. A path matched only by routes of other methods gets 405 with
 * Allow (the catch-all "/" does not count); otherwise no match gets a
 * JSON 404. A WebSocket upgrade to a path registered with web_ws_route_add
 * is admitted (per-address limit) and handed to civetweb's websocket
 * callbacks; any other upgrade is a request like any other.
 *
 * Slow clients: civetweb gives every connection a thread, so a client that
 * sends slowly holds one. The request line and headers must arrive within
 * request_timeout_ms (civetweb); each request gets a wall-clock deadline
 * (req->deadline_ms) that bounds reading its body (web_read_body answers
 * RT_ETIMEDOUT, the caller 408) and that handlers pass on to the database;
 * one client address may hold at most max_conns_per_addr connections that
 * reached a handler (the next gets 503 and is closed); and a request whose
 * body the handler did not read is answered with "Connection: close"
 * instead of civetweb draining the rest of the body.
 *
 * Exports: web_req_t, web_handler_fn, web_route_add, web_server_opts_t,
 * web_ws_route_add, web_server_start, web_server_stop, web_reply,
 * web_reply_json, web_reply_error, web_req_header, web_read_body,
 * web_read_body_or_reply, web_req_close, web_req_remaining_ms, web_server_stats_each,
 * web_server_inflight, web_status_text.
 *
 * Threads: web_route_add, web_server_start and web_server_stop on the main
 * thread; handlers and the web_reply and web_read_body helpers on civetweb
 * worker threads (blocking I/O is allowed there — they are not runtime
 * workers); the stats functions on any thread.
 */
#ifndef PLUS7_WEB_SERVER_H
#define PLUS7_WEB_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mg_connection;
struct mg_request_info;

/* One request being served. Lives on the civetweb thread's stack for the
 * duration of the handler call. */
typedef struct web_req {
    struct mg_connection *conn;
    const struct mg_request_info *ri;
    const char *method;   /* "GET", "POST", ... */
    const char *path;     /* URL-decoded, normalised path ("/api/x") */
    const char *query;    /* raw query string without '?', or NULL */
    int status;           /* status written by web_reply*, 0 = none yet */
    int head_only;        /* 1 for HEAD: replies carry no body */
    int body_read;        /* 1 once web_read_body consumed the body */
    int close;            /* 1: answer with Connection: close and hang up */
    uint64_t deadline_ms; /* rt_now_ms() by which the request must be answered */
} web_req_t;

/* A handler answers with one of the web_reply* functions and returns its
 * result (RT_OK), or returns a negative RT_E* code without replying, in
 * which case the dispatcher answers 500 {"error":"internal error"}. */
typedef int (*web_handler_fn)(web_req_t *req);

/* civetweb's websocket callbacks (see civetweb.h mg_set_websocket_handler):
 * connect may refuse by writing a reply and returning non-zero. */
typedef int (*web_ws_connect_fn)(const struct mg_connection *c, void *arg);
typedef void (*web_ws_ready_fn)(struct mg_connection *c, void *arg);
typedef int (*web_ws_data_fn)(struct mg_connection *c, int bits, char *data, size_t len, void *arg);
typedef void (*web_ws_close_fn)(const struct mg_connection *c, void *arg);

/* Serve websocket upgrades of exactly `path` with these callbacks (set on
 * the context when the server starts). Before web_server_start; at most 4.
 * RT_OK, RT_EINVAL or RT_EFULL. Main thread. */
int web_ws_route_add(const char *path, web_ws_connect_fn connect, web_ws_ready_fn ready, web_ws_data_fn data,
                     web_ws_close_fn close, void *arg);

/* Register `handler` for `method` ("GET", "POST", ..., or "*") and
 * `path_prefix` (starts with '/'; see matching rules above). The strings
 * are copied. Must be called before web_server_start; the table is then
 * read-only. Registering the same method and prefix twice replaces the
 * handler. Returns RT_OK, RT_EINVAL (bad arguments, server already
 * started) or RT_EFULL (more than 64 routes). Main thread. */
int web_route_add(const char *method, const char *path_prefix, web_handler_fn handler);

typedef struct web_server_opts {
    const char *listen;        /* civetweb listening_ports, e.g. "127.0.0.1:8080" */
    int threads;               /* civetweb num_threads */
    int request_timeout_ms;    /* request line + headers, and each read: 0 = 10000 */
    int keep_alive_timeout_ms; /* 0 = 10000 */
    int request_deadline_ms;   /* req->deadline_ms from the start: 0 = 10000 */
    int max_conns_per_addr;    /* connections of one client address: 0 = 64 */
} web_server_opts_t;

/* Start civetweb with tcp_nodelay=1 and keep-alive on, serving the routes
 * registered so far. Returns RT_OK, or RT_EIO with one line in err (e.g.
 * the port is taken). Main thread, once. */
int web_server_start(const web_server_opts_t *opts, char *err, size_t errlen);

/* Stop accepting connections, let handlers in progress finish, join the
 * civetweb threads (takes up to ~2 s). Idempotent. Main thread. */
void web_server_stop(void);

/* Write a complete response in one call: status line, Content-Type (if
 * content_type is not NULL), Content-Length, X-Content-Type-Options,
 * `extra_headers` (NULL or "Name: value\r\n" lines), a blank line and the
 * body (omitted for HEAD, 204 and 304). Records the status in req->status.
 * Returns RT_OK, RT_EINVAL if a response was already written, RT_EIO if
 * the client went away, RT_ENOMEM. civetweb thread. */
int web_reply(web_req_t *req, int status, const char *content_type,
              const char *extra_headers, const void *body, size_t len);

/* web_reply with Content-Type application/json, Cache-Control: no-store,
 * and `json` (a complete JSON text) as the body. */
int web_reply_json(web_req_t *req, int status, const char *json);

/* Reply {"error":"<error>","field":"<field>"} (field omitted when NULL),
 * strings JSON-escaped. The JSON error shape of every plus7 API. */
int web_reply_error(web_req_t *req, int status, const char *error, const char *field);

/* Value of request header `name` (case-insensitive), or NULL. */
const char *web_req_header(web_req_t *req, const char *name);

/* Read the whole request body into a new NUL-terminated buffer (*out,
 * freed by the caller with free) of *len bytes, giving up at
 * req->deadline_ms (checked between reads; one read waits at most
 * request_timeout_ms). Returns RT_OK; RT_EFULL when the body exceeds `max`
 * bytes (answer 413; a declared Content-Length is checked before reading
 * anything); RT_ETIMEDOUT at the deadline (answer 408); RT_EIO on a read
 * error or a body shorter than its Content-Length; RT_ENOMEM. On any error
 * the connection is marked to close (web_req_close). civetweb thread. */
int web_read_body(web_req_t *req, size_t max, char **out, size_t *len);

/* web_read_body that answers its own failures (field "body"): 413 "body
 * too large", 408 "body not received in time", 400 "could not read the
 * body" (500 when out of memory). true with the body in *out (the caller
 * frees it); false once the error reply is written — the handler then
 * returns RT_OK. civetweb thread. */
bool web_read_body_or_reply(web_req_t *req, size_t max, char **out, size_t *len);

/* Answer this request with "Connection: close" and hang up afterwards,
 * without draining an unread body (use before refusing a request whose
 * body is not worth reading). Before the reply. civetweb thread. */
void web_req_close(web_req_t *req);

/* Milliseconds left until req->deadline_ms (0 when it has passed). */
int web_req_remaining_ms(const web_req_t *req);

/* Visit every non-zero request counter: route prefix ("unmatched" for
 * requests no route took), the route's method, status, count. Any thread;
 * counts are read with relaxed loads (a scrape may be a few requests
 * behind). */
typedef void (*web_stats_fn)(const char *route, const char *method, int status,
                             uint64_t count, void *arg);
void web_server_stats_each(web_stats_fn fn, void *arg);

/* Requests currently inside a handler. Any thread. */
uint64_t web_server_inflight(void);

/* Reason phrase of an HTTP status ("Not Found"), "Unknown" otherwise. */
const char *web_status_text(int status);

#endif
