/* test_pg_dns.c — rt_pg_conn with a host name: the lookup runs off the
 * event-loop thread and libpq connects to the resolved `hostaddr`.
 *
 * The test cluster listens on a Unix socket only, so the test runs a small
 * TCP proxy on 127.0.0.1 (an ephemeral port) that forwards each connection
 * to that socket; conninfos name the proxy by host name.
 *
 * Cases: a name resolved by the system resolver (localhost) on another
 * thread; a lookup that hangs does not stop the event loop (another
 * connection on the same base keeps working) and the connection completes
 * once it answers; a failing lookup is retried with backoff.
 *
 * Threads: the main thread runs the event loop; the proxy runs an accept
 * thread and one thread per forwarded connection; lookups run on
 * rt_pg_resolve's thread.
 */
#include "rt_pg_conn.h"
#include "rt_pg_resolve.h"

#include "pg_test_util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/un.h>

/* ---- the proxy -------------------------------------------------------------------- */

static struct {
    int lfd;
    int port;
    char unix_path[200];
    atomic_int accepted;
} px;

static void *px_pump(void *arg)
{
    int a = (int)(intptr_t)arg;
    int b = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un su = {.sun_family = AF_UNIX};
    snprintf(su.sun_path, sizeof su.sun_path, "%s", px.unix_path);
    if (b < 0 || connect(b, (struct sockaddr *)&su, sizeof su) != 0) {
        close(a);
        if (b >= 0) close(b);
        return NULL;
    }
    char buf[16384];
    struct pollfd p[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};
    for (;;) {
        if (poll(p, 2, -1) < 0) break;
        int from = (p[0].revents & (POLLIN | POLLHUP | POLLERR)) ? 0 : 1;
        int src = from == 0 ? a : b, dst = from == 0 ? b : a;
        ssize_t n = read(src, buf, sizeof buf);
        if (n <= 0) break;
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(dst, buf + off, (size_t)(n - off));
            if (w <= 0) goto out;
            off += w;
        }
    }
out:
    close(a);
    close(b);
    return NULL;
}

static void *px_accept(void *arg)
{
    (void)arg;
    for (;;) {
        int a = accept(px.lfd, NULL, NULL);
        if (a < 0) return NULL;   /* listener closed at exit */
        atomic_fetch_add(&px.accepted, 1);
        pthread_t t;
        pthread_create(&t, NULL, px_pump, (void *)(intptr_t)a);
        pthread_detach(t);
    }
}

/* Start the proxy once; returns the conninfo of PLUS7_DB with host and
 * port replaced by `host` and the proxy's port (malloc'd). */
static char *px_conninfo(const char *host)
{
    if (!px.port) {
        PQconninfoOption *o = PQconninfoParse(PGT_DB(), NULL);
        T_CHECK(o != NULL);
        const char *h = NULL, *port = "5432";
        for (PQconninfoOption *i = o; i->keyword; i++) {
            if (i->val && strcmp(i->keyword, "host") == 0) h = i->val;
            if (i->val && strcmp(i->keyword, "port") == 0) port = i->val;
        }
        T_CHECK(h && h[0] == '/');   /* the test cluster's socket directory */
        snprintf(px.unix_path, sizeof px.unix_path, "%s/.s.PGSQL.%s", h, port);
        PQconninfoFree(o);
        px.lfd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t sl = sizeof sa;
        T_CHECK(px.lfd >= 0 && bind(px.lfd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
                listen(px.lfd, 64) == 0 && getsockname(px.lfd, (struct sockaddr *)&sa, &sl) == 0);
        px.port = ntohs(sa.sin_port);
        pthread_t t;
        pthread_create(&t, NULL, px_accept, NULL);
        pthread_detach(t);
    }
    char *ci = malloc(strlen(PGT_DB()) + 128);
    sprintf(ci, "%s host=%s port=%d", PGT_DB(), host, px.port);
    return ci;
}

/* ---- lookups under the test's control ------------------------------------------ */

static pthread_mutex_t lk_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t lk_cv = PTHREAD_COND_INITIALIZER;
static bool lk_hold;              /* lookups of "slow.test" wait while set */
static atomic_int lk_calls, lk_waiting, lk_on_main;
static pthread_t lk_main;

/* localhost via getaddrinfo; slow.test = 127.0.0.1 after lk_hold clears;
 * anything else does not exist. */
static int lk_getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                          struct addrinfo **res)
{
    atomic_fetch_add(&lk_calls, 1);
    if (pthread_equal(pthread_self(), lk_main)) atomic_fetch_add(&lk_on_main, 1);
    if (strcmp(node, "localhost") == 0) return getaddrinfo(node, service, hints, res);
    if (strcmp(node, "slow.test") != 0) return EAI_NONAME;
    pthread_mutex_lock(&lk_mu);
    atomic_store(&lk_waiting, 1);
    while (lk_hold) pthread_cond_wait(&lk_cv, &lk_mu);
    atomic_store(&lk_waiting, 0);
    pthread_mutex_unlock(&lk_mu);
    return getaddrinfo("127.0.0.1", service, hints, res);
}

static void lk_setup(void)
{
    lk_main = pthread_self();
    atomic_store(&lk_calls, 0);
    atomic_store(&lk_on_main, 0);
    rt_pg_resolve_set_fn(lk_getaddrinfo);
}

T_CASE_TAGGED(dns_name_is_resolved_off_the_loop_thread, "db")
{
    lk_setup();
    char *ci = px_conninfo("localhost");
    int before = atomic_load(&px.accepted);
    struct event_base *base = event_base_new();
    rt_pg_conn_t *c = rt_pg_conn_new(base, ci, NULL);
    T_CHECK(c != NULL);
    slot_t s = {0};
    T_EQ_INT(rt_pg_conn_query(c, "SELECT inet_client_addr() IS NULL AS via_socket", 0, NULL, 0, 0,
                              slot_done, &s), RT_OK);
    T_CHECK(pgt_loop_until(base, slot_filled, &s, 10000));
    T_EQ_INT(s.res->status, RT_OK);
    T_CHECK(atomic_load(&lk_calls) >= 1);
    T_EQ_INT(atomic_load(&lk_on_main), 0);            /* never on the loop's thread */
    T_CHECK(atomic_load(&px.accepted) > before);      /* it went through the TCP proxy */
    rt_pg_result_free(s.res);
    rt_pg_conn_free(c);
    event_base_free(base);
    free(ci);
    rt_pg_resolve_set_fn(NULL);
}

T_CASE_TAGGED(dns_hung_lookup_does_not_stop_the_loop, "db")
{
    lk_setup();
    pthread_mutex_lock(&lk_mu);
    lk_hold = true;
    pthread_mutex_unlock(&lk_mu);
    char *ci = px_conninfo("slow.test");
    struct event_base *base = event_base_new();
    rt_pg_conn_t *slow = rt_pg_conn_new(base, ci, NULL);
    rt_pg_conn_t *fast = rt_pg_conn_new(base, PGT_DB(), NULL);
    T_CHECK(slow && fast);
    slot_t a = {0}, b = {0};
    T_EQ_INT(rt_pg_conn_query(slow, "SELECT 'slow'", 0, NULL, 0, 0, slot_done, &a), RT_OK);
    T_EQ_INT(rt_pg_conn_query(fast, "SELECT 'fast'", 0, NULL, 0, 0, slot_done, &b), RT_OK);
    /* the same loop serves the other connection while the lookup hangs */
    T_CHECK(pgt_loop_until(base, slot_filled, &b, 10000));
    T_EQ_INT(b.res->status, RT_OK);
    T_EQ_INT(atomic_load(&lk_waiting), 1);            /* the lookup is still stuck */
    T_EQ_INT(a.calls, 0);
    pthread_mutex_lock(&lk_mu);
    lk_hold = false;
    pthread_cond_broadcast(&lk_cv);
    pthread_mutex_unlock(&lk_mu);
    T_CHECK(pgt_loop_until(base, slot_filled, &a, 10000));
    T_EQ_INT(a.res->status, RT_OK);
    T_EQ_STR(rt_pg_value(a.res, 0, 0), "slow");
    T_EQ_INT(rt_pg_conn_connects(slow), 1);
    rt_pg_result_free(a.res);
    rt_pg_result_free(b.res);
    rt_pg_conn_free(slow);
    rt_pg_conn_free(fast);
    event_base_free(base);
    free(ci);
    rt_pg_resolve_set_fn(NULL);
}

static bool lk_retried(void *arg)
{
    (void)arg;
    return atomic_load(&lk_calls) >= 3;
}

T_CASE_TAGGED(dns_failure_is_retried_with_backoff, "db")
{
    lk_setup();
    char *ci = px_conninfo("nope.test");
    struct event_base *base = event_base_new();
    rt_pg_conn_opts_t o = rt_pg_opts_default();
    o.backoff_min_ms = 10;
    o.backoff_max_ms = 40;
    rt_pg_conn_t *c = rt_pg_conn_new(base, ci, &o);
    T_CHECK(c != NULL);
    slot_t s = {0};
    T_EQ_INT(rt_pg_conn_query(c, "SELECT 1", 0, NULL, 0, 0, slot_done, &s), RT_OK);
    T_CHECK(pgt_loop_until(base, lk_retried, NULL, 10000));
    T_EQ_INT(s.calls, 0);                             /* queued, waiting for a connection */
    T_CHECK(!rt_pg_conn_is_up(c));
    rt_pg_conn_free(c);                               /* completes it */
    T_EQ_INT(s.calls, 1);
    T_EQ_INT(s.res->status, RT_ESHUTDOWN);
    rt_pg_result_free(s.res);
    event_base_free(base);
    free(ci);
    rt_pg_resolve_set_fn(NULL);
}

T_MAIN()
