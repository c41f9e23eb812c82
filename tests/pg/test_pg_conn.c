/* test_pg_conn.c — the rt_pg_conn layer against a real PostgreSQL, on a bare
 * event_base (no actor runtime).
 *
 * Cases: decoding (columns, values, NULLs, affected rows), parameters,
 * server errors with SQLSTATE, pipelining of 1,000 queued queries (order,
 * exactly-once, depth > 1), transactions (commit, rollback, statements
 * after the failing one not run), timeouts (queued and in flight), the
 * stall reset, an unreachable server (backoff, shutdown of queued work),
 * prepared statements (once per session, again after a reconnect, skipped
 * or failed Prepares), the reconnect jitter, unparsable conninfo, and
 * allocation failures inside rt_pg_conn_new (libevent's allocator).
 * PostgreSQL restarts are in test_pg_restart.c (run alone).
 *
 * Threads: main thread only.
 */
#include "rt_pg_conn.h"

#include "pg_test_util.h"

typedef struct fixture {
    struct event_base *base;
    rt_pg_conn_t *c;
} fixture_t;

static fixture_t fx_open(const rt_pg_conn_opts_t *o)
{
    fixture_t f = {event_base_new(), NULL};
    T_CHECK(f.base != NULL);
    f.c = rt_pg_conn_new(f.base, PGT_DB(), o);
    T_CHECK(f.c != NULL);
    return f;
}

static void fx_close(fixture_t *f)
{
    rt_pg_conn_free(f->c);
    event_base_free(f->base);
}

/* Run one query and wait for its result (fails the case after 10 s). */
static rt_pg_result_t *run1(fixture_t *f, const char *sql, int n, const char *const *p)
{
    slot_t s = {0};
    T_EQ_INT(rt_pg_conn_query(f->c, sql, n, p, 0, 0, slot_done, &s), RT_OK);
    T_CHECK(pgt_loop_until(f->base, slot_filled, &s, 10000));
    T_EQ_INT(s.calls, 1);
    return s.res;
}

T_CASE_TAGGED(conn_decodes_rows_and_nulls, "db")
{
    fixture_t f = fx_open(NULL);
    rt_pg_result_t *r = run1(&f, "SELECT 1 AS one, 'x y' AS s, NULL::text AS n "
                                 "UNION ALL SELECT 2, '', 'z'", 0, NULL);
    T_EQ_INT(r->status, RT_OK);
    T_EQ_INT(r->ncols, 3);
    T_EQ_INT(r->nrows, 2);
    T_EQ_INT(r->affected, 2);
    T_EQ_STR(r->cols[0], "one");
    T_EQ_INT(rt_pg_col(r, "n"), 2);
    T_EQ_INT(rt_pg_col(r, "missing"), -1);
    T_EQ_STR(rt_pg_value(r, 0, 1), "x y");
    T_CHECK(rt_pg_is_null(r, 0, 2));
    T_EQ_STR(rt_pg_value(r, 1, 1), "");      /* empty string is not NULL */
    T_CHECK(!rt_pg_is_null(r, 1, 1));
    T_EQ_STR(rt_pg_value(r, 1, 2), "z");
    T_CHECK(rt_pg_value(r, 2, 0) == NULL);   /* out of range */
    int64_t v = 0;
    T_EQ_INT(rt_pg_get_i64(r, 1, 0, &v), RT_OK);
    T_EQ_INT(v, 2);
    T_EQ_INT(rt_pg_get_i64(r, 0, 1, &v), RT_EINVAL);
    T_EQ_INT(rt_pg_get_i64(r, 0, 2, &v), RT_ENOTFOUND);
    T_CHECK(rt_pg_stmt(r, 0) == r);
    T_CHECK(rt_pg_conn_is_up(f.c));
    T_EQ_INT(rt_pg_conn_connects(f.c), 1);
    rt_pg_result_free(r);
    fx_close(&f);
}

T_CASE_TAGGED(conn_params_text_and_null, "db")
{
    fixture_t f = fx_open(NULL);
    const char *p[3] = {"41", NULL, "привет; DROP TABLE x --"};
    rt_pg_result_t *r = run1(&f, "SELECT $1::int + 1, $2::text IS NULL, $3::text, $2::text", 3, p);
    T_EQ_INT(r->status, RT_OK);
    T_EQ_STR(rt_pg_value(r, 0, 0), "42");
    T_EQ_STR(rt_pg_value(r, 0, 1), "t");
    T_EQ_STR(rt_pg_value(r, 0, 2), "привет; DROP TABLE x --");
    T_CHECK(rt_pg_is_null(r, 0, 3));
    rt_pg_result_free(r);
    fx_close(&f);
}

T_CASE_TAGGED(conn_errors_carry_sqlstate, "db")
{
    fixture_t f = fx_open(NULL);
    rt_pg_result_t *r = run1(&f, "SELECT 1/0", 0, NULL);
    T_EQ_INT(r->status, RT_EINVAL);
    T_EQ_STR(r->sqlstate, "22012");
    T_CHECK(r->error && strstr(r->error, "division by zero"));
    rt_pg_result_free(r);
    r = run1(&f, "SELEC nonsense", 0, NULL);
    T_EQ_STR(r->sqlstate, "42601");
    rt_pg_result_free(r);
    r = run1(&f, "SELECT 1; SELECT 2", 0, NULL);   /* one command per string */
    T_EQ_INT(r->status, RT_EINVAL);
    T_EQ_STR(r->sqlstate, "42601");
    rt_pg_result_free(r);
    /* the connection stays usable after errors */
    r = run1(&f, "SELECT 'still fine'", 0, NULL);
    T_EQ_INT(r->status, RT_OK);
    T_EQ_STR(rt_pg_value(r, 0, 0), "still fine");
    T_EQ_INT(rt_pg_conn_connects(f.c), 1);
    rt_pg_result_free(r);
    fx_close(&f);
}

T_CASE_TAGGED(conn_affected_rows_and_commands, "db")
{
    fixture_t f = fx_open(NULL);
    rt_pg_result_t *r = run1(&f, "CREATE TEMP TABLE t_aff (a int)", 0, NULL);
    T_EQ_INT(r->status, RT_OK);
    T_EQ_INT(r->ncols, 0);
    T_EQ_INT(r->affected, -1);
    rt_pg_result_free(r);
    r = run1(&f, "INSERT INTO t_aff SELECT generate_series(1, 5)", 0, NULL);
    T_EQ_INT(r->affected, 5);
    rt_pg_result_free(r);
    r = run1(&f, "UPDATE t_aff SET a = a + 10 WHERE a > 2 RETURNING a", 0, NULL);
    T_EQ_INT(r->affected, 3);
    T_EQ_INT(r->nrows, 3);
    rt_pg_result_free(r);
    fx_close(&f);
}

/* ---- pipelining ------------------------------------------------------------------- */

#define NPIPE 1000
typedef struct pipe_state {
    int next;        /* index the next completion must carry */
    int done;
    int bad;
    int calls[NPIPE];
} pipe_state_t;

typedef struct pipe_arg { pipe_state_t *st; int i; } pipe_arg_t;

static void pipe_done(rt_pg_result_t *res, void *arg)
{
    pipe_arg_t *a = arg;
    pipe_state_t *st = a->st;
    st->calls[a->i]++;
    char want[16];
    snprintf(want, sizeof want, "%d", a->i * 3);
    if (a->i != st->next || res->status != RT_OK || !rt_pg_value(res, 0, 0) ||
        strcmp(rt_pg_value(res, 0, 0), want) != 0)
        st->bad++;
    st->next++;
    st->done++;
    rt_pg_result_free(res);
}

static bool pipe_all(void *arg) { return ((pipe_state_t *)arg)->done >= NPIPE; }

T_CASE_TAGGED(conn_pipelines_1000_queued_queries, "db")
{
    fixture_t f = fx_open(NULL);
    static pipe_state_t st;
    static pipe_arg_t args[NPIPE];
    memset(&st, 0, sizeof st);
    int64_t before = rt_pg_stats_inflight();
    uint64_t q0 = rt_pg_stats_queries();
    /* All queued before the connection is even up. */
    for (int i = 0; i < NPIPE; i++) {
        char v[16];
        snprintf(v, sizeof v, "%d", i);
        const char *p[1] = {v};
        args[i] = (pipe_arg_t){&st, i};
        T_EQ_INT(rt_pg_conn_query(f.c, "SELECT $1::int * 3", 1, p, 0, 10000, pipe_done, &args[i]), RT_OK);
    }
    T_EQ_INT(rt_pg_conn_pending(f.c), NPIPE);
    T_EQ_INT(rt_pg_stats_inflight() - before, NPIPE);
    T_CHECK(pgt_loop_until(f.base, pipe_all, &st, 30000));
    T_EQ_INT(st.done, NPIPE);
    T_EQ_INT(st.bad, 0);
    for (int i = 0; i < NPIPE; i++) T_EQ_INT(st.calls[i], 1);
    T_CHECK(rt_pg_conn_max_depth(f.c) > 100);   /* they went out together */
    T_EQ_INT(rt_pg_conn_pending(f.c), 0);
    T_EQ_INT(rt_pg_stats_inflight(), before);
    T_CHECK(rt_pg_stats_queries() - q0 >= NPIPE);
    fx_close(&f);
}

/* ---- transactions ------------------------------------------------------------------ */

static rt_pg_result_t *run_tx(fixture_t *f, int n, const rt_pg_stmt_t *s)
{
    slot_t sl = {0};
    T_EQ_INT(rt_pg_conn_tx(f->c, n, s, 0, 0, slot_done, &sl), RT_OK);
    T_CHECK(pgt_loop_until(f->base, slot_filled, &sl, 10000));
    return sl.res;
}

T_CASE_TAGGED(conn_tx_commits_all, "db")
{
    fixture_t f = fx_open(NULL);
    rt_pg_result_free(run1(&f, "CREATE TEMP TABLE t_tx (a int PRIMARY KEY, b text)", 0, NULL));
    const char *p1[2] = {"1", "one"}, *p2[2] = {"2", NULL};
    rt_pg_stmt_t s[3] = {
        {"INSERT INTO t_tx VALUES ($1::int, $2)", 2, p1},
        {"INSERT INTO t_tx VALUES ($1::int, $2)", 2, p2},
        {"SELECT count(*), count(b) FROM t_tx", 0, NULL},
    };
    rt_pg_result_t *r = run_tx(&f, 3, s);
    T_EQ_INT(r->status, RT_OK);
    T_EQ_INT(r->nstmts, 3);
    T_EQ_INT(r->failed_stmt, -1);
    T_EQ_INT(rt_pg_stmt(r, 0)->affected, 1);
    T_EQ_STR(rt_pg_value(rt_pg_stmt(r, 2), 0, 0), "2");
    T_EQ_STR(rt_pg_value(rt_pg_stmt(r, 2), 0, 1), "1");
    T_CHECK(rt_pg_stmt(r, 3) == NULL);
    rt_pg_result_free(r);
    r = run1(&f, "SELECT count(*) FROM t_tx", 0, NULL);
    T_EQ_STR(rt_pg_value(r, 0, 0), "2");
    rt_pg_result_free(r);
    fx_close(&f);
}

T_CASE_TAGGED(conn_tx_rolls_back_on_error, "db")
{
    fixture_t f = fx_open(NULL);
    rt_pg_result_free(run1(&f, "CREATE TEMP TABLE t_rb (a int PRIMARY KEY)", 0, NULL));
    rt_pg_result_free(run1(&f, "INSERT INTO t_rb VALUES (1)", 0, NULL));
    rt_pg_stmt_t s[3] = {
        {"INSERT INTO t_rb VALUES (2)", 0, NULL},
        {"INSERT INTO t_rb VALUES (1)", 0, NULL},   /* duplicate key */
        {"INSERT INTO t_rb VALUES (3)", 0, NULL},
    };
    rt_pg_result_t *r = run_tx(&f, 3, s);
    T_EQ_INT(r->status, RT_EINVAL);
    T_EQ_STR(r->sqlstate, "23505");
    T_EQ_INT(r->failed_stmt, 1);
    T_EQ_INT(rt_pg_stmt(r, 2)->status, RT_EINVAL);   /* never ran */
    T_CHECK(rt_pg_stmt(r, 2)->error && strstr(rt_pg_stmt(r, 2)->error, "not executed"));
    rt_pg_result_free(r);
    /* nothing of the transaction is visible, and the session is usable
     * (no transaction left open in the aborted state) */
    r = run1(&f, "SELECT string_agg(a::text, ',' ORDER BY a) FROM t_rb", 0, NULL);
    T_EQ_INT(r->status, RT_OK);
    T_EQ_STR(rt_pg_value(r, 0, 0), "1");
    rt_pg_result_free(r);
    /* an independent query queued right behind a failing one is unaffected */
    slot_t a = {0}, b = {0};
    T_EQ_INT(rt_pg_conn_query(f.c, "INSERT INTO t_rb VALUES (1)", 0, NULL, 0, 0, slot_done, &a), RT_OK);
    T_EQ_INT(rt_pg_conn_query(f.c, "INSERT INTO t_rb VALUES (5)", 0, NULL, 0, 0, slot_done, &b), RT_OK);
    T_CHECK(pgt_loop_until(f.base, slot_filled, &b, 10000));
    T_EQ_STR(a.res->sqlstate, "23505");
    T_EQ_INT(b.res->status, RT_OK);
    T_EQ_INT(b.res->affected, 1);
    rt_pg_result_free(a.res);
    rt_pg_result_free(b.res);
    fx_close(&f);
}

T_CASE_TAGGED(conn_rejects_bad_arguments, "db")
{
    fixture_t f = fx_open(NULL);
    slot_t s = {0};
    T_EQ_INT(rt_pg_conn_query(f.c, NULL, 0, NULL, 0, 0, slot_done, &s), RT_EINVAL);
    T_EQ_INT(rt_pg_conn_query(f.c, "SELECT 1", -1, NULL, 0, 0, slot_done, &s), RT_EINVAL);
    T_EQ_INT(rt_pg_conn_query(f.c, "SELECT 1", 0, NULL, 0, 0, NULL, &s), RT_EINVAL);
    T_EQ_INT(rt_pg_conn_tx(f.c, 0, NULL, 0, 0, slot_done, &s), RT_EINVAL);
    T_EQ_INT(s.calls, 0);
    fx_close(&f);
}

/* ---- timeouts ---------------------------------------------------------------------- */

T_CASE_TAGGED(conn_timeout_in_flight_then_recovers, "db")
{
    fixture_t f = fx_open(NULL);
    slot_t slow = {0}, next = {0};
    T_EQ_INT(rt_pg_conn_query(f.c, "SELECT pg_sleep(1.5)", 0, NULL, 0, 200, slot_done, &slow), RT_OK);
    T_EQ_INT(rt_pg_conn_query(f.c, "SELECT 'after'", 0, NULL, 0, 10000, slot_done, &next), RT_OK);
    T_CHECK(pgt_loop_until(f.base, slot_filled, &slow, 10000));
    T_EQ_INT(slow.res->status, RT_ETIMEDOUT);
    T_EQ_INT(next.calls, 0);             /* still behind the slow one */
    T_CHECK(pgt_loop_until(f.base, slot_filled, &next, 10000));
    T_EQ_INT(next.res->status, RT_OK);
    T_EQ_STR(rt_pg_value(next.res, 0, 0), "after");
    T_EQ_INT(slow.calls, 1);             /* the late result was dropped */
    T_EQ_INT(rt_pg_conn_connects(f.c), 1);
    rt_pg_result_free(slow.res);
    rt_pg_result_free(next.res);
    fx_close(&f);
}

T_CASE_TAGGED(conn_stalled_connection_is_reset, "db")
{
    rt_pg_conn_opts_t o = rt_pg_opts_default();
    o.stall_ms = 300;
    fixture_t f = fx_open(&o);
    slot_t slow = {0}, idem = {0}, next = {0};
    T_EQ_INT(rt_pg_conn_query(f.c, "SELECT pg_sleep(5)", 0, NULL, 0, 100, slot_done, &slow), RT_OK);
    T_EQ_INT(rt_pg_conn_query(f.c, "SELECT 'again'", 0, NULL, RT_PG_IDEMPOTENT, 20000,
                              slot_done, &idem), RT_OK);
    T_EQ_INT(rt_pg_conn_query(f.c, "SELECT 'lost'", 0, NULL, 0, 20000, slot_done, &next), RT_OK);
    T_CHECK(pgt_loop_until(f.base, slot_filled, &next, 10000));
    T_EQ_INT(slow.res->status, RT_ETIMEDOUT);
    /* the reset fails the non-idempotent request behind the stuck one ... */
    T_EQ_INT(next.res->status, RT_EIO);
    /* ... and re-sends the idempotent one on the new connection */
    T_CHECK(pgt_loop_until(f.base, slot_filled, &idem, 10000));
    T_EQ_INT(idem.res->status, RT_OK);
    T_EQ_STR(rt_pg_value(idem.res, 0, 0), "again");
    T_EQ_INT(rt_pg_conn_connects(f.c), 2);
    rt_pg_result_free(slow.res);
    rt_pg_result_free(idem.res);
    rt_pg_result_free(next.res);
    fx_close(&f);
}

/* A server that is not there: a unix socket directory with no server. */
T_CASE_TAGGED(conn_unreachable_queues_then_times_out, "db")
{
    struct event_base *base = event_base_new();
    rt_pg_conn_opts_t o = rt_pg_opts_default();
    o.backoff_min_ms = 10;
    o.backoff_max_ms = 40;
    rt_pg_conn_t *c = rt_pg_conn_new(base, "host=/nonexistent-plus7 port=1 dbname=x user=x "
                                           "connect_timeout=1", &o);
    T_CHECK(c != NULL);
    slot_t a = {0}, b = {0};
    T_EQ_INT(rt_pg_conn_query(c, "SELECT 1", 0, NULL, 0, 300, slot_done, &a), RT_OK);
    T_EQ_INT(rt_pg_conn_query(c, "SELECT 2", 0, NULL, 0, 0, slot_done, &b), RT_OK);
    T_CHECK(pgt_loop_until(base, slot_filled, &a, 10000));
    T_EQ_INT(a.res->status, RT_ETIMEDOUT);
    T_CHECK(!rt_pg_conn_is_up(c));
    T_EQ_INT(rt_pg_conn_connects(c), 0);
    T_EQ_INT(b.calls, 0);                /* no timeout: still queued */
    T_EQ_INT(rt_pg_conn_pending(c), 1);
    rt_pg_conn_free(c);                  /* completes it with RT_ESHUTDOWN */
    T_EQ_INT(b.calls, 1);
    T_EQ_INT(b.res->status, RT_ESHUTDOWN);
    rt_pg_result_free(a.res);
    rt_pg_result_free(b.res);
    event_base_free(base);
}

T_CASE_TAGGED(conn_free_with_work_in_flight, "db")
{
    fixture_t f = fx_open(NULL);
    slot_t a = {0};
    rt_pg_result_free(run1(&f, "SELECT 1", 0, NULL));   /* connected */
    T_EQ_INT(rt_pg_conn_query(f.c, "SELECT pg_sleep(0.2)", 0, NULL, 0, 0, slot_done, &a), RT_OK);
    event_base_loop(f.base, EVLOOP_NONBLOCK);           /* sent */
    rt_pg_conn_free(f.c);
    T_EQ_INT(a.calls, 1);
    T_EQ_INT(a.res->status, RT_ESHUTDOWN);
    rt_pg_result_free(a.res);
    event_base_free(f.base);
}

/* ---- prepared statements ----------------------------------------------------------- */

/* How many statements with exactly this text the connection's session has
 * prepared (asked on the same connection, so the same session). */
static long long prepared_on_session(fixture_t *f, const char *sql)
{
    const char *p[1] = {sql};
    rt_pg_result_t *r = run1(f, "SELECT count(*) FROM pg_prepared_statements WHERE statement = $1", 1, p);
    long long n = -1;
    if (r->status == RT_OK && rt_pg_value(r, 0, 0)) n = atoll(rt_pg_value(r, 0, 0));
    rt_pg_result_free(r);
    return n;
}

T_CASE_TAGGED(conn_prepares_once_and_again_after_reconnect, "db")
{
    static const char *sql = "SELECT $1::int + 1 AS n";
    fixture_t f = fx_open(NULL);
    for (int i = 0; i < 5; i++) {
        char v[8];
        snprintf(v, sizeof v, "%d", i);
        const char *p[1] = {v};
        rt_pg_result_t *r = run1(&f, sql, 1, p);
        T_EQ_INT(r->status, RT_OK);
        T_EQ_INT(atoi(rt_pg_value(r, 0, 0)), i + 1);
        rt_pg_result_free(r);
    }
    T_EQ_INT(prepared_on_session(&f, sql), 1);          /* once, not five times */
    T_CHECK(rt_pg_conn_prepared(f.c) >= 2);             /* it and the probe */
    /* the session ends (as in a server restart): the next use prepares again */
    rt_pg_result_free(run1(&f, "SELECT pg_terminate_backend(pg_backend_pid())", 0, NULL));
    const char *p[1] = {"41"};
    rt_pg_result_t *r = NULL;
    for (int i = 0; i < 50; i++) {                      /* the connection drops, then is back */
        rt_pg_result_free(r);
        r = run1(&f, sql, 1, p);
        if (r->status == RT_OK) break;
    }
    T_EQ_INT(r->status, RT_OK);
    T_EQ_STR(rt_pg_value(r, 0, 0), "42");
    rt_pg_result_free(r);
    T_EQ_INT(rt_pg_conn_connects(f.c), 2);
    T_EQ_INT(prepared_on_session(&f, sql), 1);
    fx_close(&f);
}

/* A Prepare skipped because an earlier statement of its transaction failed
 * must not leave the text marked prepared: its next use works. A text that
 * does not parse reports the parser's error, as it did unprepared. */
T_CASE_TAGGED(conn_skipped_or_failed_prepare_is_retried, "db")
{
    fixture_t f = fx_open(NULL);
    rt_pg_stmt_t s[2] = {
        {"SELECT 1/0", 0, NULL},
        {"SELECT 'second' AS v", 0, NULL},
    };
    rt_pg_result_t *r = run_tx(&f, 2, s);
    T_EQ_INT(r->status, RT_EINVAL);
    T_EQ_STR(r->sqlstate, "22012");
    T_EQ_INT(r->failed_stmt, 0);
    rt_pg_result_free(r);
    for (int i = 0; i < 2; i++) {                       /* prepared now, then used by name */
        r = run1(&f, "SELECT 'second' AS v", 0, NULL);
        T_EQ_INT(r->status, RT_OK);
        T_EQ_STR(rt_pg_value(r, 0, 0), "second");
        rt_pg_result_free(r);
    }
    r = run1(&f, "SELEC 1", 0, NULL);
    T_EQ_INT(r->status, RT_EINVAL);
    T_EQ_STR(r->sqlstate, "42601");
    T_CHECK(r->error && strstr(r->error, "syntax"));
    rt_pg_result_free(r);
    rt_pg_stmt_t t[2] = {{"SELEC 2", 0, NULL}, {"SELECT 'x'", 0, NULL}};
    r = run_tx(&f, 2, t);
    T_EQ_STR(r->sqlstate, "42601");
    T_EQ_INT(r->failed_stmt, 0);
    T_CHECK(rt_pg_stmt(r, 1)->error && strstr(rt_pg_stmt(r, 1)->error, "not executed"));
    rt_pg_result_free(r);
    fx_close(&f);
}

/* ---- connecting -------------------------------------------------------------------- */

T_CASE(conn_backoff_jitter_spreads_delays)
{
    uint64_t rng = 12345;
    uint32_t lo = UINT32_MAX, hi = 0;
    for (int i = 0; i < 1000; i++) {
        uint32_t d = rt_pg_backoff_jitter(1000, &rng);
        T_CHECK(d >= 500 && d <= 1000);
        if (d < lo) lo = d;
        if (d > hi) hi = d;
    }
    T_CHECK(hi - lo > 400);          /* spread over the window, not one value */
    uint64_t a = 1, b = 2;           /* two connections draw different delays */
    int same = 0;
    for (int i = 0; i < 100; i++) same += rt_pg_backoff_jitter(5000, &a) == rt_pg_backoff_jitter(5000, &b);
    T_CHECK(same < 10);
    T_EQ_INT(rt_pg_backoff_jitter(1, &rng), 1);
}

T_CASE(conn_refuses_a_conninfo_libpq_cannot_parse)
{
    struct event_base *base = event_base_new();
    T_CHECK(rt_pg_conn_new(base, "dbname='unterminated", NULL) == NULL);
    T_CHECK(rt_pg_conn_new(base, "nosuchoption=1", NULL) == NULL);
    T_CHECK(rt_pg_conn_new(base, "postgresql://[::1", NULL) == NULL);
    event_base_free(base);
}

/* libevent's allocator fails the Nth allocation: rt_pg_conn_new must
 * return NULL and tear the half-built connection down cleanly for every N
 * (ASan checks the teardown), then succeed once allocations do. */
static int fail_countdown = -1;   /* allocations left before one fails; -1 = never */

static bool fail_now(void)
{
    if (fail_countdown < 0) return false;
    return fail_countdown-- == 0;
}
static void *fi_malloc(size_t n) { return fail_now() ? NULL : malloc(n); }
static void *fi_realloc(void *p, size_t n) { return fail_now() ? NULL : realloc(p, n); }
static void fi_free(void *p) { free(p); }

__attribute__((constructor)) static void fi_install(void)
{
    /* before any other libevent call in this process */
    event_set_mem_functions(fi_malloc, fi_realloc, fi_free);
}

T_CASE(conn_new_survives_every_allocation_failure)
{
    struct event_base *base = event_base_new();
    int failed = 0;
    rt_pg_conn_t *c = NULL;
    for (int n = 0; n < 64 && !c; n++) {
        fail_countdown = n;
        c = rt_pg_conn_new(base, "host=db.example.invalid port=5432 dbname=x", NULL);
        fail_countdown = -1;
        if (!c) failed++;
    }
    T_CHECK(c != NULL);
    T_CHECK(failed >= 5);            /* the four events, the lookup event, the first add */
    rt_pg_conn_free(c);
    event_base_free(base);
}

T_MAIN()
