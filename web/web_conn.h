/* web_conn.h — per-connection state of the HTTP server (internal to web/).
 *
 * Purpose: civetweb serves each connection on one thread and exposes
 * neither its socket nor a hook at accept time. This module keeps what the
 * server needs per connection: a count of connections per client address
 * (a connection counts from its first request until civetweb closes it,
 * so one address cannot hold every thread), and the connection's socket,
 * found once by its addresses, so that a read guard can end a body read at
 * the request's deadline: civetweb's read loop keeps waiting as long as a
 * byte arrives now and then, so a guard thread shuts the socket's reading
 * side down (shutdown(SHUT_RD)) when a guarded read outlives its deadline;
 * mg_read then returns, and the reply can still be written.
 *
 * Exports: web_conn_guard_t, web_conn_setup, web_conn_teardown,
 * web_conn_init, web_conn_closed, web_conn_admit, web_conn_guard_begin,
 * web_conn_guard_end.
 * Threads: web_conn_setup/teardown on the main thread around the server's
 * life; the rest on civetweb threads (the callbacks as civetweb calls
 * them); the guard thread is private.
 */
#ifndef PLUS7_WEB_CONN_H
#define PLUS7_WEB_CONN_H

#include <stdbool.h>
#include <stdint.h>

struct mg_connection;

/* A guarded read, on the reader's stack (fields private). */
typedef struct web_conn_guard {
    struct web_conn_guard *next;
    int fd;               /* -1: the socket is unknown, nothing to guard */
    uint64_t deadline_ms;
    bool fired;           /* the guard thread shut the reading side down */
} web_conn_guard_t;

/* Allow `max_per_addr` (>= 1) counted connections per client address and
 * start the guard thread. RT_OK or RT_EIO (no thread). */
int web_conn_setup(int max_per_addr);

/* Stop and join the guard thread (after civetweb stopped). Idempotent. */
void web_conn_teardown(void);

/* civetweb init_connection callback: the connection's state, not counted
 * yet (NULL when out of memory: its requests are then refused). */
int web_conn_init(const struct mg_connection *c, void **conn_data);

/* civetweb connection_close callback (called while civetweb closes the
 * connection, before it drops the user data; connection_closed comes
 * after that and would see none): uncount the connection, free its state. */
void web_conn_closed(const struct mg_connection *c);

/* At every request: count the connection against its address on its
 * first request. false when the address already holds the maximum (or
 * the table of addresses or memory is exhausted): answer 503 and close. */
bool web_conn_admit(struct mg_connection *c);

/* Guard the reads that follow: if they are still running at deadline_ms
 * (rt_now_ms() time), the connection's reading side is shut down. Without
 * a known socket the guard does nothing. Pair with web_conn_guard_end
 * before the handler returns. */
void web_conn_guard_begin(web_conn_guard_t *g, const struct mg_connection *c,
                          uint64_t deadline_ms);

/* End the guard; true when it fired (the reads were cut at the deadline). */
bool web_conn_guard_end(web_conn_guard_t *g);

#endif
