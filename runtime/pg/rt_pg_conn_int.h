/* rt_pg_conn_int.h — what the two halves of one rt_pg connection share.
 *
 * Purpose: rt_pg_conn.c moves requests (queue, pipeline, results,
 * timeouts); rt_pg_connect.c gets the connection there (conninfo, host-name
 * lookup, libpq's non-blocking connect, backoff with jitter). This header
 * holds the connection and request layouts and the four calls between the
 * halves. Not included outside runtime/pg.
 *
 * Exports: struct rt_pg_conn, pg_req_t, pg_cmd_t, pg_stmt_copy_t, req_of,
 * C_* states; rt_pg_conn_up, rt_pg_conn_teardown (rt_pg_conn.c);
 * rt_pg_connect_init, rt_pg_connect_fini, rt_pg_connect_retry,
 * rt_pg_connect_failed (rt_pg_connect.c).
 *
 * Threads: the connection's event-loop thread.
 */
#ifndef PLUS7_RT_PG_CONN_INT_H
#define PLUS7_RT_PG_CONN_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <event2/event.h>
#include <event2/event_struct.h>

#include "rt_list.h"
#include "rt_pg_conn.h"
#include "rt_pg_resolve.h"
#include "rt_pg_stmts.h"

/* ---- requests ------------------------------------------------------------------ */

typedef struct pg_stmt_copy {
    const char *sql;
    const char *const *params;
    int nparams;
} pg_stmt_copy_t;

/* One pipeline command of a sent request: statement `stmt` prepared (kind
 * CMD_PREPARE, statement `id`) or executed (CMD_EXEC, by name when id). */
enum { CMD_EXEC = 0, CMD_PREPARE = 1 };
typedef struct pg_cmd {
    int16_t stmt;
    uint8_t kind;
    uint32_t id;                  /* prepared-statement id, 0 = unnamed */
} pg_cmd_t;

typedef struct pg_req {
    rt_list_node_t link;          /* in conn->queue or conn->inflight */
    rt_pg_conn_t *conn;
    rt_pg_conn_done_fn done;
    void *arg;
    pg_stmt_copy_t *stmts;        /* points into this allocation */
    pg_cmd_t *cmds;               /* 2 * nstmts slots, in this allocation */
    int ncmds;                    /* planned when sent */
    uint64_t prep_failed;         /* bit i: statement i's Prepare failed (its error kept) */
    rt_pg_result_t *results;      /* nstmts slots, filled as results arrive */
    struct event timer;           /* request timeout (when timeout_ms > 0) */
    uint64_t abandoned_at_ms;     /* when it timed out in flight */
    uint32_t timeout_ms;
    unsigned flags;
    int nstmts;
    int cur;                      /* command whose results are arriving */
    bool cur_got;                 /* a result for `cur` arrived */
    bool is_tx;
    bool in_flight;
    bool abandoned;               /* completed by timeout; late result dropped */
} pg_req_t;

static inline pg_req_t *req_of(rt_list_node_t *n)
{
    return RT_LIST_ENTRY(n, pg_req_t, link);
}

enum { C_DOWN, C_RESOLVING, C_CONNECTING, C_UP };

struct rt_pg_conn {
    struct event_base *base;
    char *conninfo;
    rt_pg_conn_opts_t o;
    PGconn *pg;
    int state;
    int fd;
    struct event *ev_io;       /* CONNECTING: one-shot poll; UP: persistent read */
    struct event *ev_write;    /* UP: one-shot, armed while PQflush returns 1 */
    struct event *ev_retry;    /* reconnect after backoff */
    struct event *ev_conn_to;  /* connect attempt timeout */
    struct event *ev_kick;     /* deferred pump after submits */
    struct event *ev_stall;    /* stalled-connection check */
    struct event *ev_dns;      /* RESOLVING: the resolver's eventfd is readable */
    int dns_fd;                /* eventfd, -1 unless the conninfo names a host */
    rt_pg_resolve_t *dns;      /* RESOLVING: the lookup under way */
    char *dns_hosts, *dns_ports; /* host / port options of the conninfo (names to resolve) */
    rt_pg_stmts_t *stmts;      /* prepared statements of the current session */
    uint64_t rng;              /* xorshift state for the backoff jitter */
    uint32_t backoff_ms;
    rt_list_t queue, inflight;
    uint32_t max_depth, connects;
    uint32_t fail_streak;      /* consecutive failed connection attempts */
    bool want_write, closing;
};

/* ---- rt_pg_conn.c -------------------------------------------------------------- */

/* libpq reports the connection made: pipeline mode, events, pump. */
void rt_pg_conn_up(rt_pg_conn_t *c);
/* Back to DOWN from any state; safe on a half-built connection. */
void rt_pg_conn_teardown(rt_pg_conn_t *c);

/* ---- rt_pg_connect.c ----------------------------------------------------------- */

/* Parse the conninfo, create the connect events (and the lookup's eventfd
 * when the host is a name) and schedule the first attempt from the loop.
 * RT_EINVAL (unparsable conninfo, logged) or RT_ENOMEM; the caller then
 * frees with rt_pg_conn_free, which is safe part-way. */
int rt_pg_connect_init(rt_pg_conn_t *c);
/* Free what rt_pg_connect_init made (after rt_pg_conn_teardown). */
void rt_pg_connect_fini(rt_pg_conn_t *c);
/* Schedule the next attempt after the jittered backoff. */
void rt_pg_connect_retry(rt_pg_conn_t *c);
/* An attempt failed before UP: log (rate-limited), tear down, retry. */
void rt_pg_connect_failed(rt_pg_conn_t *c, const char *why);

#endif
