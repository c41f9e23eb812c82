/* web_pq.c — bounded synchronous libpq calls (see web_pq.h).
 *
 * Purpose: libpq's blocking calls wait as long as the peer makes them;
 * here every wait is a poll(2) against a deadline on the monotonic clock.
 * The connection is made with PQconnectStartParams/PQconnectPoll and a
 * statement is sent and read with PQsendQueryParams/PQflush/
 * PQconsumeInput on a non-blocking socket, so a frozen server costs the
 * caller exactly its deadline.
 *
 * Exports: web_pq_connect, web_pq_exec, web_wait_until.
 * Threads: any non-worker thread; no shared state.
 */
#include "web_pq.h"

#include "rt.h"
#include "rt_log.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* Wait for `events` on fd until deadline. 1 ready, 0 deadline, -1 error. */
static int web_pq_wait(int fd, short events, uint64_t deadline)
{
    for (;;) {
        uint64_t now = rt_now_ms();
        if (now >= deadline) return 0;
        struct pollfd p = {.fd = fd, .events = events};
        int n = poll(&p, 1, (int)(deadline - now));
        if (n > 0) return 1;
        if (n < 0 && errno != EINTR) return -1;
    }
}

static void web_pq_error(PGconn *c, const char *fallback, char *err, size_t errlen)
{
    if (!errlen) return;
    const char *m = c ? PQerrorMessage(c) : NULL;
    rt_log_value(err, errlen, m && *m ? m : fallback);
    size_t n = strlen(err);
    while (n > 0 && err[n - 1] == ' ') err[--n] = '\0';   /* libpq's trailing newline */
}

/* Contract: see web_pq.h. */
PGconn *web_pq_connect(const char *conninfo, const char *app_name, int timeout_ms,
                       char *err, size_t errlen)
{
    rt_assert_not_worker("web_pq_connect");
    uint64_t deadline = rt_now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
    /* our defaults before dbname: values inside conninfo win */
    const char *keys[] = {"application_name", "keepalives", "keepalives_idle",
                          "keepalives_interval", "keepalives_count", "tcp_user_timeout",
                          "dbname", NULL};
    const char *vals[] = {app_name, "1", "10", "5", "3", "10000", conninfo, NULL};
    PGconn *c = PQconnectStartParams(keys, vals, 1);
    if (!c || PQstatus(c) == CONNECTION_BAD) {
        web_pq_error(c, "out of memory", err, errlen);
        PQfinish(c);
        return NULL;
    }
    PostgresPollingStatusType st = PGRES_POLLING_WRITING;
    while (st != PGRES_POLLING_OK) {
        if (st == PGRES_POLLING_FAILED) {
            web_pq_error(c, "connection failed", err, errlen);
            PQfinish(c);
            return NULL;
        }
        int w = web_pq_wait(PQsocket(c), st == PGRES_POLLING_READING ? POLLIN : POLLOUT, deadline);
        if (w <= 0) {
            if (errlen) snprintf(err, errlen, "%s", w == 0 ? "connection timed out" : "poll failed");
            PQfinish(c);
            return NULL;
        }
        st = PQconnectPoll(c);
    }
    return c;
}

/* Contract: see web_pq.h. */
int web_pq_exec(PGconn *conn, const char *sql, int nparams, const char *const *values,
                int timeout_ms, PGresult **out)
{
    rt_assert_not_worker("web_pq_exec");
    *out = NULL;
    uint64_t deadline = rt_now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
    if (PQsetnonblocking(conn, 1) != 0 ||
        !PQsendQueryParams(conn, sql, nparams, NULL, values, NULL, NULL, 0))
        return RT_EIO;
    PGresult *last = NULL;
    for (;;) {
        int f = PQflush(conn);                    /* 1: more to send */
        if (f < 0) break;
        if (f == 0 && !PQisBusy(conn)) {
            PGresult *r = PQgetResult(conn);
            if (!r) {                             /* the statement is over */
                *out = last;
                return last ? RT_OK : RT_EIO;
            }
            PQclear(last);
            last = r;
            continue;
        }
        int w = web_pq_wait(PQsocket(conn), (short)(POLLIN | (f ? POLLOUT : 0)), deadline);
        if (w == 0) {
            PQclear(last);
            return RT_ETIMEDOUT;
        }
        if (w < 0 || !PQconsumeInput(conn)) break;
    }
    PQclear(last);
    return RT_EIO;
}

/* Contract: see web_pq.h. */
int web_wait_until(pthread_cond_t *cv, pthread_mutex_t *mu, uint64_t deadline_ms)
{
    uint64_t now = rt_now_ms();
    if (now >= deadline_ms) return ETIMEDOUT;
    uint64_t left = deadline_ms - now;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += (time_t)(left / 1000);
    ts.tv_nsec += (long)(left % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    int rc = pthread_cond_timedwait(cv, mu, &ts);
    return rc == ETIMEDOUT && rt_now_ms() < deadline_ms ? 0 : rc;
}
