/* rt_pg_conn.c — one non-blocking, pipelined libpq connection on an event_base.
 *
 * Purpose: see rt_pg_conn.h. The state machine:
 *
 *   DOWN --(retry)--> [RESOLVING] --> CONNECTING --(PQconnectPoll OK)--> UP
 *     ^                    |  (failed / connect timeout)  |                |
 *     +-- backoff+jitter <-+------------------------------+----------------+ (lost)
 *
 * Getting to UP is rt_pg_connect.c (conninfo, host-name lookup off this
 * thread, libpq's connect, backoff with jitter). This file is the UP half:
 * requests wait in `queue` until the connection is UP; conn_pump() then
 * sends each one (its statements, then PQpipelineSync, so every request is
 * its own sync segment = its own transaction) and moves it to `inflight`.
 * conn_drain() reads results in order: statement results (each followed by
 * a NULL from PQgetResult), then PGRES_PIPELINE_SYNC, which completes the
 * head of `inflight`. Every statement is prepared once per connection
 * (rt_pg_stmts.h) and executed by name afterwards; a request's pipeline
 * commands (Prepare, then Execute) are planned when it is sent.
 *
 * Exports: rt_pg_conn_* and rt_pg_opts_default (rt_pg_conn.h);
 * rt_pg_conn_up, rt_pg_conn_teardown (rt_pg_conn_int.h); the process-wide
 * counters rt_pg_stats_* (rt_pg.h).
 *
 * Threads: everything runs on the thread of the connection's event_base;
 * only the rt_pg_stats_* counters are read from other threads.
 */
#include "rt_pg_conn_int.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "rt_clock.h"
#include "rt_log.h"

/* ---- process-wide counters ----------------------------------------------------
 * All relaxed: each is an independent statistic read by metrics; no other
 * memory is published through them, so no ordering is needed. */
static _Atomic int64_t g_inflight;
static _Atomic uint64_t g_queries;
static _Atomic uint64_t g_errors;
static _Atomic int g_connected;

int64_t rt_pg_stats_inflight(void)
{
    return atomic_load_explicit(&g_inflight, memory_order_relaxed); /* statistic only */
}

uint64_t rt_pg_stats_queries(void)
{
    return atomic_load_explicit(&g_queries, memory_order_relaxed); /* statistic only */
}

uint64_t rt_pg_stats_errors(void)
{
    return atomic_load_explicit(&g_errors, memory_order_relaxed); /* statistic only */
}

int rt_pg_stats_connected(void)
{
    return atomic_load_explicit(&g_connected, memory_order_relaxed); /* statistic only */
}

rt_pg_conn_opts_t rt_pg_opts_default(void)
{
    return (rt_pg_conn_opts_t){
        .backoff_min_ms = 50, .backoff_max_ms = 5000, .connect_timeout_ms = 10000,
        .max_inflight = 1024, .max_queue = 100000, .stall_ms = 5000,
    };
}

static void req_free(pg_req_t *q)
{
    if (q->results) {
        for (int i = 0; i < q->nstmts; i++) rt_pg_result_clear(&q->results[i]);
        free(q->results);
    }
    free(q);
}

/* Hand `res` to the caller and count it. The request must be unlinked. */
static void req_deliver(pg_req_t *q, rt_pg_result_t *res)
{
    if (q->timeout_ms) event_del(&q->timer);
    /* relaxed: statistics only (see above) */
    atomic_fetch_sub_explicit(&g_inflight, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&g_queries, 1, memory_order_relaxed);
    if (!res || res->status != RT_OK)
        atomic_fetch_add_explicit(&g_errors, 1, memory_order_relaxed);
    if (!res) res = rt_pg_result_error(RT_ENOMEM, NULL, "out of memory");
    if (res) q->done(res, q->arg);
    else LOG_ERROR("pg_result_lost", "reason=enomem");
}

/* Complete an unlinked request with a failure. */
static void req_fail(pg_req_t *q, int status, const char *msg)
{
    req_deliver(q, rt_pg_result_error(status, NULL, msg));
    req_free(q);
}

/* Complete an unlinked request from the statement results it collected. */
static void req_finish(pg_req_t *q)
{
    if (q->abandoned) { req_free(q); return; }
    rt_pg_result_t *res;
    if (!q->is_tx) {
        res = q->results;             /* a one-slot array: the result itself */
        q->results = NULL;
    } else {
        res = calloc(1, sizeof *res);
        if (res) {
            res->affected = -1;
            res->failed_stmt = -1;
            res->stmts = q->results;
            res->nstmts = q->nstmts;
            q->results = NULL;
            for (int i = 0; i < res->nstmts; i++) {
                if (res->stmts[i].status == RT_OK) continue;
                res->failed_stmt = i;
                rt_pg_result_set_error(res, res->stmts[i].status, res->stmts[i].sqlstate,
                                       res->stmts[i].error);
                break;
            }
        }
    }
    req_deliver(q, res);
    req_free(q);
}

/* ---- connection plumbing ---------------------------------------------------------- */

static void conn_pump(rt_pg_conn_t *c, bool probe);

/* Back to DOWN from any state. Safe on a half-built connection (any of
 * the events may be missing when rt_pg_conn_new failed part-way). */
void rt_pg_conn_teardown(rt_pg_conn_t *c)
{
    if (c->ev_io) { event_free(c->ev_io); c->ev_io = NULL; }
    if (c->ev_write) { event_free(c->ev_write); c->ev_write = NULL; }
    if (c->ev_conn_to) evtimer_del(c->ev_conn_to);
    if (c->ev_stall) evtimer_del(c->ev_stall);
    if (c->dns) { rt_pg_resolve_drop(c->dns); c->dns = NULL; }
    rt_pg_stmts_clear(c->stmts);      /* the session's statements die with it */
    if (c->pg) { PQfinish(c->pg); c->pg = NULL; }
    if (c->state == C_UP)
        atomic_fetch_sub_explicit(&g_connected, 1, memory_order_relaxed); /* statistic */
    c->fd = -1;
    c->want_write = false;
    c->state = C_DOWN;
}

/* An UP connection broke: fail (or re-queue) what was in flight, keep the
 * queue, reconnect after the backoff. */
static void conn_lost(rt_pg_conn_t *c, const char *why)
{
    char buf[240];
    LOG_WARN("pg_connection_lost", "error=\"%s\" inflight=%u queued=%u",
             rt_log_value(buf, sizeof buf, why), c->inflight.n, c->queue.n);
    rt_pg_conn_teardown(c);
    rt_list_t lost = c->inflight, again = {0}, failed = {0};
    c->inflight = (rt_list_t){0};
    while (lost.head) {
        pg_req_t *q = req_of(lost.head);
        rt_list_remove(&lost, &q->link);
        q->in_flight = false;
        if (q->abandoned) { req_free(q); continue; }
        if (q->flags & RT_PG_IDEMPOTENT) {
            for (int i = 0; i < q->nstmts; i++) {
                rt_pg_result_clear(&q->results[i]);
                memset(&q->results[i], 0, sizeof q->results[i]);
                q->results[i].affected = -1;
                q->results[i].failed_stmt = -1;
            }
            q->cur = 0;
            q->cur_got = false;
            q->ncmds = 0;             /* planned again on the next session */
            q->prep_failed = 0;
            rt_list_push_back(&again, &q->link);
        } else {
            rt_list_push_back(&failed, &q->link);
        }
    }
    rt_list_prepend_all(&c->queue, &again);
    rt_pg_connect_retry(c);
    while (failed.head) {
        pg_req_t *q = req_of(failed.head);
        rt_list_remove(&failed, &q->link);
        req_fail(q, RT_EIO, "connection lost while the request was in flight");
    }
}

static void notice_quiet(void *arg, const char *message)
{
    char buf[240];
    LOG_DEBUG("pg_notice", "text=\"%s\"", rt_log_value(buf, sizeof buf, message));
}

static void on_io_up_read(evutil_socket_t fd, short what, void *arg);
static void on_io_up_write(evutil_socket_t fd, short what, void *arg);

void rt_pg_conn_up(rt_pg_conn_t *c)
{
    evtimer_del(c->ev_conn_to);
    if (c->ev_io) { event_free(c->ev_io); c->ev_io = NULL; }
    c->fd = PQsocket(c->pg);
    if (PQsetnonblocking(c->pg, 1) != 0 || PQenterPipelineMode(c->pg) != 1) {
        rt_pg_connect_failed(c, PQerrorMessage(c->pg));
        return;
    }
    PQsetNoticeProcessor(c->pg, notice_quiet, NULL);
    c->ev_io = event_new(c->base, c->fd, EV_READ | EV_PERSIST, on_io_up_read, c);
    c->ev_write = event_new(c->base, c->fd, EV_WRITE, on_io_up_write, c);
    if (!c->ev_io || !c->ev_write || event_add(c->ev_io, NULL) != 0) {
        rt_pg_connect_failed(c, "event allocation failed");
        return;
    }
    c->state = C_UP;
    c->backoff_ms = 0;
    c->fail_streak = 0;
    c->connects++;
    atomic_fetch_add_explicit(&g_connected, 1, memory_order_relaxed); /* statistic */
    LOG_INFO("pg_connected", "connects=%u queued=%u", c->connects, c->queue.n);
    conn_pump(c, false);
}

/* Push buffered output; arm EV_WRITE while libpq still holds some. */
static void conn_flush(rt_pg_conn_t *c)
{
    int r = PQflush(c->pg);
    if (r < 0) { conn_lost(c, PQerrorMessage(c->pg)); return; }
    if (r == 1) {
        if (!c->want_write) {
            if (event_add(c->ev_write, NULL) != 0) {
                /* nobody would flush the rest: the requests would hang */
                conn_lost(c, "event_add failed for the write event");
                return;
            }
            c->want_write = true;
        }
    } else {
        c->want_write = false;
    }
}

static void conn_drain(rt_pg_conn_t *c);

/* Has the server closed the socket? Peeks without blocking; pending bytes
 * (e.g. the server's termination notice before EOF) are handed to libpq and
 * processed first. True also when that processing found the connection
 * lost (then the state is no longer C_UP). */
static bool conn_probe_closed(rt_pg_conn_t *c)
{
    for (int i = 0; i < 4 && c->state == C_UP; i++) {
        char b;
        ssize_t r = recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
        if (r == 0) return true;
        if (r < 0) return !(errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR);
        if (!PQconsumeInput(c->pg)) return true;
        conn_drain(c);
    }
    return c->state != C_UP;
}

/* Queue the pipeline commands of one request: each statement is executed
 * by name when this session has prepared it, prepared first (its own
 * pipeline command, then executed by name) on its first use, or sent
 * unnamed while its Prepare is still in flight or the cache is full. The
 * plan is kept in q->cmds so that conn_drain knows which result is which.
 * False when libpq refused a command (the connection is broken). */
static bool req_send(rt_pg_conn_t *c, pg_req_t *q)
{
    q->ncmds = 0;
    for (int i = 0; i < q->nstmts; i++) {
        const pg_stmt_copy_t *st = &q->stmts[i];
        uint32_t id = 0;
        char name[16];
        int plan = rt_pg_stmts_plan(c->stmts, st->sql, &id);
        if (plan == RT_PG_PLAN_PREPARE) {
            q->cmds[q->ncmds++] = (pg_cmd_t){.stmt = (int16_t)i, .kind = CMD_PREPARE, .id = id};
            if (!PQsendPrepare(c->pg, rt_pg_stmts_name(id, name), st->sql, st->nparams, NULL))
                return false;
        }
        q->cmds[q->ncmds++] = (pg_cmd_t){.stmt = (int16_t)i, .kind = CMD_EXEC, .id = id};
        int ok = id ? PQsendQueryPrepared(c->pg, rt_pg_stmts_name(id, name), st->nparams,
                                          st->params, NULL, NULL, 0)
                    : PQsendQueryParams(c->pg, st->sql, st->nparams, NULL, st->params, NULL, NULL, 0);
        if (!ok) return false;
    }
    return true;
}

/* Send queued requests (up to max_inflight in flight). With `probe`, first
 * read whatever the socket holds: a connection the server has closed (e.g.
 * a restart) is then noticed before new requests are written into it, so
 * they stay queued for the next connection instead of failing with RT_EIO. */
static void conn_pump(rt_pg_conn_t *c, bool probe)
{
    if (c->state != C_UP || !c->queue.head || c->inflight.n >= c->o.max_inflight) return;
    if (probe && conn_probe_closed(c)) {
        if (c->state == C_UP) conn_lost(c, "server closed the connection");
        return;
    }
    if (c->state != C_UP) return;
    bool sent = false;
    while (c->queue.head && c->inflight.n < c->o.max_inflight) {
        pg_req_t *q = req_of(c->queue.head);
        rt_list_remove(&c->queue, &q->link);
        rt_list_push_back(&c->inflight, &q->link);      /* a partial send counts as in flight */
        q->in_flight = true;
        sent = true;
        if (!req_send(c, q) || !PQpipelineSync(c->pg)) {
            conn_lost(c, PQerrorMessage(c->pg));
            return;
        }
        if (c->inflight.n > c->max_depth) c->max_depth = c->inflight.n;
    }
    if (sent) conn_flush(c);
}

static void on_kick(evutil_socket_t fd, short what, void *arg)
{
    conn_pump(arg, true);
}

static void conn_kick(rt_pg_conn_t *c)
{
    if (c->state == C_UP && !event_pending(c->ev_kick, EV_TIMEOUT, NULL))
        event_active(c->ev_kick, EV_TIMEOUT, 0);
}

/* Store one command's result. A Prepare's outcome settles the statement
 * cache (and a failed Prepare's error becomes its statement's result: the
 * Execute behind it is then skipped by the server, PIPELINE_ABORTED, and
 * must not overwrite it). An Execute by name that finds its statement gone
 * or stale (26000, 0A000) makes the cache forget it. */
static void req_store(rt_pg_conn_t *c, pg_req_t *q, const PGresult *pr)
{
    q->cur_got = true;
    if (q->cur >= q->ncmds) return;
    const pg_cmd_t *cmd = &q->cmds[q->cur];
    const char *sql = q->stmts[cmd->stmt].sql;
    ExecStatusType st = PQresultStatus(pr);
    bool ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_EMPTY_QUERY;
    if (cmd->kind == CMD_PREPARE) {
        rt_pg_stmts_settle(c->stmts, sql, cmd->id, ok);
        if (ok || st == PGRES_PIPELINE_ABORTED) return;
        q->prep_failed |= 1ull << cmd->stmt;
    } else if (cmd->id && !ok) {
        const char *code = PQresultErrorField(pr, PG_DIAG_SQLSTATE);
        if (code && (strcmp(code, "26000") == 0 || strcmp(code, "0A000") == 0))
            rt_pg_stmts_settle(c->stmts, sql, cmd->id, false);
    }
    if (cmd->kind == CMD_EXEC && (q->prep_failed >> cmd->stmt & 1)) return;
    if (q->abandoned) return;
    rt_pg_result_t *slot = &q->results[cmd->stmt];
    rt_pg_result_clear(slot);
    rt_pg_result_t *tmp = rt_pg_result_from_pg(pr);
    if (tmp) {
        *slot = *tmp;
        free(tmp);
    } else {
        memset(slot, 0, sizeof *slot);
        slot->affected = -1;
        slot->failed_stmt = -1;
        rt_pg_result_set_error(slot, RT_ENOMEM, NULL, "out of memory decoding the result");
    }
}

/* Read every result available without blocking and complete requests. */
static void conn_drain(rt_pg_conn_t *c)
{
    PGnotify *n;
    while ((n = PQnotifies(c->pg))) PQfreemem(n);
    bool idle_null = false;
    while (c->state == C_UP && c->inflight.head && !PQisBusy(c->pg)) {
        pg_req_t *q = req_of(c->inflight.head);
        PGresult *pr = PQgetResult(c->pg);
        if (!pr) {
            /* End of one statement's results. A NULL with nothing before it
             * means libpq needs more input: wait for the next EV_READ. */
            if (!q->cur_got) {
                if (idle_null) break;
                idle_null = true;
                continue;
            }
            q->cur++;
            q->cur_got = false;
            continue;
        }
        idle_null = false;
        ExecStatusType st = PQresultStatus(pr);
        if (st == PGRES_PIPELINE_SYNC) {
            PQclear(pr);
            rt_list_remove(&c->inflight, &q->link);
            q->in_flight = false;
            req_finish(q);
            continue;
        }
        if (q->cur >= q->ncmds || st == PGRES_COPY_IN || st == PGRES_COPY_OUT ||
            st == PGRES_COPY_BOTH) {
            PQclear(pr);
            conn_lost(c, "protocol desynchronised (unexpected result)");
            return;
        }
        req_store(c, q, pr);
        PQclear(pr);
    }
    if (c->state == C_UP && PQstatus(c->pg) == CONNECTION_BAD)
        conn_lost(c, PQerrorMessage(c->pg));
}

static void on_io_up_read(evutil_socket_t fd, short what, void *arg)
{
    rt_pg_conn_t *c = arg;
    if (!PQconsumeInput(c->pg)) { conn_lost(c, PQerrorMessage(c->pg)); return; }
    conn_drain(c);
    if (c->state == C_UP && c->want_write) conn_flush(c);
    if (c->state == C_UP) conn_pump(c, false);
}

static void on_io_up_write(evutil_socket_t fd, short what, void *arg)
{
    rt_pg_conn_t *c = arg;
    c->want_write = false;
    if (c->state == C_UP) conn_flush(c);
}

/* ---- timeouts ---------------------------------------------------------------------- */

static void on_stall_check(evutil_socket_t fd, short what, void *arg)
{
    rt_pg_conn_t *c = arg;
    if (c->state != C_UP) return;
    uint64_t now = rt_clock_ms();
    bool any = false;
    for (pg_req_t *q = req_of(c->inflight.head); q; q = req_of(q->link.next)) {
        if (!q->abandoned) continue;
        if (&q->link == c->inflight.head && now - q->abandoned_at_ms >= c->o.stall_ms) {
            conn_lost(c, "stalled: a timed-out request still blocks the pipeline");
            return;
        }
        any = true;
    }
    if (any) {
        struct timeval tv = rt_clock_tv(c->o.stall_ms);
        if (evtimer_add(c->ev_stall, &tv) != 0) conn_lost(c, "event_add failed for the stall check");
    }
}

static void on_req_timeout(evutil_socket_t fd, short what, void *arg)
{
    pg_req_t *q = arg;
    rt_pg_conn_t *c = q->conn;
    if (!q->in_flight) {
        rt_list_remove(&c->queue, &q->link);
        req_fail(q, RT_ETIMEDOUT, "timed out before it could be sent");
        return;
    }
    /* Sent: the result must still be read off the pipeline, so the request
     * stays in `inflight`, abandoned; the caller hears now. */
    rt_pg_result_t *res = rt_pg_result_error(RT_ETIMEDOUT, NULL, "timed out waiting for the result");
    q->abandoned = true;
    q->abandoned_at_ms = rt_clock_ms();
    req_deliver(q, res);
    if (!evtimer_pending(c->ev_stall, NULL)) {
        struct timeval tv = rt_clock_tv(c->o.stall_ms);
        if (evtimer_add(c->ev_stall, &tv) != 0) conn_lost(c, "event_add failed for the stall check");
    }
}

/* ---- public API -------------------------------------------------------------------- */

rt_pg_conn_t *rt_pg_conn_new(struct event_base *base, const char *conninfo,
                             const rt_pg_conn_opts_t *opts)
{
    if (!base || !conninfo) return NULL;
    rt_pg_conn_t *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->base = base;
    c->fd = -1;
    c->o = opts ? *opts : rt_pg_opts_default();
    rt_pg_conn_opts_t d = rt_pg_opts_default();
    if (!c->o.backoff_min_ms) c->o.backoff_min_ms = d.backoff_min_ms;
    if (c->o.backoff_max_ms < c->o.backoff_min_ms) c->o.backoff_max_ms = c->o.backoff_min_ms;
    if (!c->o.connect_timeout_ms) c->o.connect_timeout_ms = d.connect_timeout_ms;
    if (!c->o.max_inflight) c->o.max_inflight = d.max_inflight;
    if (!c->o.max_queue) c->o.max_queue = d.max_queue;
    if (!c->o.stall_ms) c->o.stall_ms = d.stall_ms;
    c->dns_fd = -1;
    c->conninfo = strdup(conninfo);
    c->stmts = rt_pg_stmts_new();
    c->ev_kick = event_new(base, -1, 0, on_kick, c);
    c->ev_stall = evtimer_new(base, on_stall_check, c);
    if (!c->conninfo || !c->stmts || !c->ev_kick || !c->ev_stall || rt_pg_connect_init(c) != RT_OK) {
        rt_pg_conn_free(c);  /* safe on a half-built connection */
        return NULL;
    }
    return c;
}

void rt_pg_conn_free(rt_pg_conn_t *c)
{
    if (!c) return;
    c->closing = true;
    rt_pg_conn_teardown(c);
    rt_list_t all = c->inflight;
    c->inflight = (rt_list_t){0};
    rt_list_prepend_all(&c->queue, &all);  /* in flight first, then queued */
    while (c->queue.head) {
        pg_req_t *q = req_of(c->queue.head);
        rt_list_remove(&c->queue, &q->link);
        if (q->abandoned) req_free(q);
        else req_fail(q, RT_ESHUTDOWN, "connection closed");
    }
    rt_pg_connect_fini(c);
    if (c->ev_kick) event_free(c->ev_kick);
    if (c->ev_stall) event_free(c->ev_stall);
    rt_pg_stmts_free(c->stmts);
    free(c->conninfo);
    free(c);
}

/* Build a request holding copies of the statements in one allocation:
 * [pg_req_t][pg_stmt_copy_t x n][pg_cmd_t x 2n][param pointers][text]. */
static pg_req_t *req_new(int n, const rt_pg_stmt_t *stmts)
{
    size_t nptr = 0, text = 0;
    for (int i = 0; i < n; i++) {
        text += strlen(stmts[i].sql) + 1;
        nptr += (size_t)stmts[i].nparams;
        for (int p = 0; p < stmts[i].nparams; p++)
            if (stmts[i].params[p]) text += strlen(stmts[i].params[p]) + 1;
    }
    size_t bytes = sizeof(pg_req_t) + (size_t)n * sizeof(pg_stmt_copy_t) +
                   2 * (size_t)n * sizeof(pg_cmd_t) + nptr * sizeof(char *) + text;
    char *mem = malloc(bytes);
    if (!mem) return NULL;
    pg_req_t *q = (pg_req_t *)mem;
    memset(q, 0, sizeof *q);
    q->results = calloc((size_t)n, sizeof *q->results);
    if (!q->results) { free(mem); return NULL; }
    for (int i = 0; i < n; i++) {
        q->results[i].affected = -1;
        q->results[i].failed_stmt = -1;
    }
    q->nstmts = n;
    q->stmts = (pg_stmt_copy_t *)(mem + sizeof *q);
    q->cmds = (pg_cmd_t *)(q->stmts + n);
    const char **ptrs = (const char **)(q->cmds + 2 * n);
    char *t = (char *)(ptrs + nptr);
    for (int i = 0; i < n; i++) {
        size_t len = strlen(stmts[i].sql) + 1;
        memcpy(t, stmts[i].sql, len);
        q->stmts[i].sql = t;
        t += len;
        q->stmts[i].nparams = stmts[i].nparams;
        q->stmts[i].params = ptrs;
        for (int p = 0; p < stmts[i].nparams; p++) {
            const char *v = stmts[i].params[p];
            if (!v) { *ptrs++ = NULL; continue; }
            len = strlen(v) + 1;
            memcpy(t, v, len);
            *ptrs++ = t;
            t += len;
        }
    }
    return q;
}

static int conn_submit(rt_pg_conn_t *c, int n, const rt_pg_stmt_t *stmts, bool is_tx,
                       unsigned flags, uint32_t timeout_ms, rt_pg_conn_done_fn done, void *arg)
{
    if (!c || !done || n < 1 || n > RT_PG_TX_MAX || !stmts) return RT_EINVAL;
    for (int i = 0; i < n; i++)
        if (!stmts[i].sql || stmts[i].nparams < 0 || stmts[i].nparams > 65535 ||
            (stmts[i].nparams > 0 && !stmts[i].params))
            return RT_EINVAL;
    if (c->closing) return RT_ESHUTDOWN;
    if (c->queue.n >= c->o.max_queue) return RT_EFULL;
    pg_req_t *q = req_new(n, stmts);
    if (!q) return RT_ENOMEM;
    q->conn = c;
    q->done = done;
    q->arg = arg;
    q->flags = flags;
    q->is_tx = is_tx;
    q->timeout_ms = timeout_ms;
    if (timeout_ms) {
        evtimer_assign(&q->timer, c->base, on_req_timeout, q);
        struct timeval tv = rt_clock_tv(timeout_ms);
        if (evtimer_add(&q->timer, &tv) != 0) {
            req_free(q);
            return RT_ENOMEM;
        }
    }
    rt_list_push_back(&c->queue, &q->link);
    atomic_fetch_add_explicit(&g_inflight, 1, memory_order_relaxed); /* statistic */
    conn_kick(c);
    return RT_OK;
}

int rt_pg_conn_query(rt_pg_conn_t *c, const char *sql, int nparams,
                     const char *const *params, unsigned flags, uint32_t timeout_ms,
                     rt_pg_conn_done_fn done, void *arg)
{
    rt_pg_stmt_t s = {.sql = sql, .nparams = nparams, .params = params};
    return conn_submit(c, 1, &s, false, flags, timeout_ms, done, arg);
}

int rt_pg_conn_tx(rt_pg_conn_t *c, int n, const rt_pg_stmt_t *stmts,
                  unsigned flags, uint32_t timeout_ms,
                  rt_pg_conn_done_fn done, void *arg)
{
    return conn_submit(c, n, stmts, true, flags, timeout_ms, done, arg);
}

int rt_pg_conn_is_up(const rt_pg_conn_t *c) { return c && c->state == C_UP; }

uint32_t rt_pg_conn_pending(const rt_pg_conn_t *c)
{
    return c ? c->queue.n + c->inflight.n : 0;
}

uint32_t rt_pg_conn_max_depth(const rt_pg_conn_t *c) { return c ? c->max_depth : 0; }

uint32_t rt_pg_conn_connects(const rt_pg_conn_t *c) { return c ? c->connects : 0; }

uint32_t rt_pg_conn_prepared(const rt_pg_conn_t *c) { return c ? rt_pg_stmts_count(c->stmts) : 0; }
