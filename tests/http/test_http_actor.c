/* test_http_actor.c — layer 2 of rt_http: HTTP requests issued by actors.
 *
 * Purpose: actors on a real runtime (2 workers) call rt_http_request against
 * the loopback evhttp server of http_testsrv.c and must each receive exactly
 * their own results (right corr, urgent, result attached); errors arrive as
 * result messages too; 1,000 concurrent requests from actors spread over
 * both workers finish in about one server delay; a graceful stop waits for
 * in-flight requests and a hard stop cancels them; rt_http_perform works on
 * a non-worker thread.
 *
 * Threads: cases run on the main thread; the actor handlers run on the
 * runtime's workers and report through the atomics below (read by the main
 * thread after the runtime has delivered, or after rt_runtime_stop joined).
 */
#include "t.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "http_testsrv.h"
#include "rt.h"
#include "rt_http.h"

enum { MSG_GO = RT_MSG_USER + 1, MAX_PER_ACTOR = 100, CORR_REFUSED = 999 };

/* Test-wide settings, written by the main thread before the runtime starts
 * (thread creation publishes them) and only read by handlers. */
static char g_base_url[128];
static char g_refused_url[128];
static int g_per_actor;
static int g_delay_ms;
static int g_with_refused;

/* Reports from the handlers. seq_cst (the default) everywhere: these are
 * low-rate test counters and the main thread polls them. */
static atomic_int g_next_id;
static atomic_int g_started, g_start_failed;
static atomic_int g_results, g_ok, g_bad, g_refused_ok, g_actors_done;
static atomic_int g_workers_mask;
static atomic_uint_fast64_t g_t_last_ms;

typedef struct client_state {
    int id;
    int got;
    unsigned char seen[MAX_PER_ACTOR + 1];
    int refused_seen;
} client_state_t;

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void expected_path(char *buf, size_t cap, int id, uint32_t corr)
{
    snprintf(buf, cap, "/delay/%d/a%d-c%u", g_delay_ms, id, corr);
}

static void client_go(rt_actor_t *self, client_state_t *st)
{
    st->id = atomic_fetch_add(&g_next_id, 1) + 1;
    for (int c = 1; c <= g_per_actor; c++) {
        char path[96], url[256];
        expected_path(path, sizeof path, st->id, (uint32_t)c);
        snprintf(url, sizeof url, "%s%s", g_base_url, path);
        const char *hdrs[] = {"X-Test: actor"};
        rt_http_req_t req = {.url = url, .headers = hdrs, .nheaders = 1, .timeout_ms = 15000};
        /* req lives on this stack frame only: rt_http_request must copy it */
        if (rt_http_request(self, (uint32_t)c, &req) == RT_OK) atomic_fetch_add(&g_started, 1);
        else atomic_fetch_add(&g_start_failed, 1);
    }
    if (g_with_refused) {
        rt_http_req_t req = {.url = g_refused_url};
        if (rt_http_request(self, CORR_REFUSED, &req) == RT_OK) atomic_fetch_add(&g_started, 1);
        else atomic_fetch_add(&g_start_failed, 1);
    }
}

static void client_result(client_state_t *st, const rt_msg_t *m)
{
    const rt_http_result_t *r = m->ptr;
    atomic_fetch_add(&g_results, 1);
    int good = r != NULL && (m->flags & RT_MSG_F_URGENT) && m->ptr_free != NULL;
    if (good && m->corr == CORR_REFUSED) {
        good = !st->refused_seen && r->rc == RT_EIO && r->status == 0;
        st->refused_seen = 1;
        if (good) atomic_fetch_add(&g_refused_ok, 1);
    } else if (good) {
        char want[96];
        expected_path(want, sizeof want, st->id, m->corr);
        good = m->corr >= 1 && m->corr <= (uint32_t)g_per_actor && !st->seen[m->corr] &&
               r->rc == RT_OK && r->status == 200 && strcmp(r->body, want) == 0;
        if (m->corr >= 1 && m->corr <= (uint32_t)g_per_actor) st->seen[m->corr] = 1;
        if (good) {
            atomic_fetch_add(&g_ok, 1);
            st->got++;
        }
    }
    if (!good) atomic_fetch_add(&g_bad, 1);
    atomic_store(&g_t_last_ms, now_ms());
    if (st->got == g_per_actor && (!g_with_refused || st->refused_seen)) {
        st->got++; /* count the actor once */
        atomic_fetch_add(&g_actors_done, 1);
    }
}

static int client_handle(rt_actor_t *self, const rt_msg_t *m)
{
    client_state_t *st = rt_self_state(self);
    atomic_fetch_or(&g_workers_mask, 1 << rt_worker_index());
    if (m->type == MSG_GO) client_go(self, st);
    else if (m->type == RT_MSG_HTTP_RESULT) client_result(st, m);
    return RT_OK;
}

static const rt_kind_t k_client = {
    .name = "http_client",
    .state_size = sizeof(client_state_t),
    .handle = client_handle,
};

static void reset_counters(void)
{
    atomic_store(&g_next_id, 0);
    atomic_store(&g_started, 0);
    atomic_store(&g_start_failed, 0);
    atomic_store(&g_results, 0);
    atomic_store(&g_ok, 0);
    atomic_store(&g_bad, 0);
    atomic_store(&g_refused_ok, 0);
    atomic_store(&g_actors_done, 0);
    atomic_store(&g_workers_mask, 0);
    atomic_store(&g_t_last_ms, 0);
}

static rt_runtime_t *start_runtime(const rt_http_options_t *opt)
{
    rt_config_t cfg = {.threads = 2, .mailbox_high_water = 100000};
    rt_runtime_t *rt = rt_runtime_new(&cfg);
    T_CHECK(rt != NULL);
    T_EQ_INT(rt_kind_register(rt, &k_client), RT_OK);
    T_EQ_INT(rt_http_init(rt, opt), RT_OK);
    T_EQ_INT(rt_runtime_start(rt), RT_OK);
    return rt;
}

static void spawn_clients(rt_runtime_t *rt, int n)
{
    for (int i = 0; i < n; i++) {
        rt_ref_t ref;
        T_EQ_INT(rt_spawn(rt, &k_client, &ref), RT_OK);
        rt_msg_t *m = rt_msg_new(MSG_GO, 0);
        T_CHECK(m != NULL);
        T_EQ_INT(rt_send(rt, ref, m), RT_OK);
    }
}

static void wait_for(atomic_int *counter, int target, int timeout_ms)
{
    uint64_t deadline = now_ms() + (uint64_t)timeout_ms;
    while (atomic_load(counter) < target && now_ms() < deadline) usleep(2000);
}

/* A bound, non-listening socket: connecting to it is refused. */
static int refused_port(int *fd_out)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bind(fd, (struct sockaddr *)&sa, sizeof sa);
    socklen_t sl = sizeof sa;
    getsockname(fd, (struct sockaddr *)&sa, &sl);
    *fd_out = fd;
    return ntohs(sa.sin_port);
}

/* Loopback tests must not go through a developer's HTTP proxy. */
__attribute__((constructor)) static void no_proxy_for_loopback(void)
{
    setenv("no_proxy", "127.0.0.1,localhost", 1);
    setenv("NO_PROXY", "127.0.0.1,localhost", 1);
}

/* ---- cases -------------------------------------------------------------------- */

T_CASE(actors_get_exactly_their_results)
{
    enum { ACTORS = 6, PER = 20 };
    reset_counters();
    http_testsrv_t *srv = http_testsrv_start();
    T_CHECK(srv != NULL);
    int rfd;
    int rport = refused_port(&rfd);
    http_testsrv_url(srv, "", g_base_url, sizeof g_base_url);
    snprintf(g_refused_url, sizeof g_refused_url, "http://127.0.0.1:%d/", rport);
    g_per_actor = PER;
    g_delay_ms = 10;
    g_with_refused = 1;
    int64_t infl0 = rt_http_stats_inflight();

    rt_runtime_t *rt = start_runtime(NULL);
    spawn_clients(rt, ACTORS);
    wait_for(&g_actors_done, ACTORS, 20000);
    usleep(50 * 1000); /* a duplicate delivery would show up in g_results now */
    T_EQ_INT(atomic_load(&g_start_failed), 0);
    T_EQ_INT(atomic_load(&g_started), ACTORS * (PER + 1));
    T_EQ_INT(atomic_load(&g_actors_done), ACTORS);
    T_EQ_INT(atomic_load(&g_ok), ACTORS * PER);
    T_EQ_INT(atomic_load(&g_refused_ok), ACTORS);
    T_EQ_INT(atomic_load(&g_bad), 0);
    T_EQ_INT(atomic_load(&g_results), ACTORS * (PER + 1));
    T_EQ_INT(rt_http_stats_inflight(), infl0);
    T_EQ_INT(rt_runtime_stop(rt, 2000), RT_OK);
    rt_runtime_free(rt);
    close(rfd);
    http_testsrv_stop(srv);
}

static void raise_nofile(rlim_t want)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want) return;
    rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
    setrlimit(RLIMIT_NOFILE, &rl);
}

/* The non-blocking proof through the runtime: 20 actors x 50 requests to a
 * server that answers after 200 ms. A worker that blocked per request would
 * never have two requests at the server at once; the server's count of
 * requests held together proves it (not a wall-clock bound, which a loaded
 * machine breaks). */
T_CASE_TAGGED(actors_1000_concurrent_over_2_workers, "slow")
{
    enum { ACTORS = 20, PER = 50, N = ACTORS * PER };
    raise_nofile(8192);
    reset_counters();
    http_testsrv_t *srv = http_testsrv_start();
    T_CHECK(srv != NULL);
    http_testsrv_url(srv, "", g_base_url, sizeof g_base_url);
    g_per_actor = PER;
    g_delay_ms = 200;
    g_with_refused = 0;
    rt_http_options_t opt = {.max_host_connections = N};
    rt_runtime_t *rt = start_runtime(&opt);
    uint64_t t0 = now_ms();
    spawn_clients(rt, ACTORS);
    wait_for(&g_actors_done, ACTORS, 20000);
    uint64_t elapsed = atomic_load(&g_t_last_ms) - t0;
    printf("# %d requests from %d actors: all done in %llu ms; workers used mask=%d; "
           "server held %ld at once\n", N, ACTORS, (unsigned long long)elapsed,
           atomic_load(&g_workers_mask), http_testsrv_max_pending(srv));
    T_EQ_INT(atomic_load(&g_start_failed), 0);
    T_EQ_INT(atomic_load(&g_actors_done), ACTORS);
    T_EQ_INT(atomic_load(&g_ok), N);
    T_EQ_INT(atomic_load(&g_bad), 0);
    T_EQ_INT(atomic_load(&g_workers_mask), 3);
    T_CHECK(elapsed >= 200);
    T_CHECK(http_testsrv_max_pending(srv) >= N / 10);
    T_EQ_INT(rt_runtime_stop(rt, 2000), RT_OK);
    rt_runtime_free(rt);
    http_testsrv_stop(srv);
}

T_CASE(graceful_stop_waits_for_inflight)
{
    reset_counters();
    http_testsrv_t *srv = http_testsrv_start();
    T_CHECK(srv != NULL);
    http_testsrv_url(srv, "", g_base_url, sizeof g_base_url);
    g_per_actor = 3;
    g_delay_ms = 300;
    g_with_refused = 0;
    rt_runtime_t *rt = start_runtime(NULL);
    spawn_clients(rt, 1);
    wait_for(&g_started, 3, 5000);
    T_EQ_INT(atomic_load(&g_started), 3);
    T_EQ_INT(rt_runtime_stop(rt, 5000), RT_OK); /* must wait ~300 ms for the replies */
    T_EQ_INT(atomic_load(&g_ok), 3);
    T_EQ_INT(atomic_load(&g_bad), 0);
    T_EQ_INT(rt_http_stats_inflight(), 0);
    rt_runtime_free(rt);
    http_testsrv_stop(srv);
}

T_CASE(hard_stop_cancels_inflight)
{
    reset_counters();
    http_testsrv_t *srv = http_testsrv_start();
    T_CHECK(srv != NULL);
    http_testsrv_url(srv, "", g_base_url, sizeof g_base_url);
    g_per_actor = 2;
    g_delay_ms = 60000; /* never in time */
    g_with_refused = 0;
    rt_runtime_t *rt = start_runtime(NULL);
    spawn_clients(rt, 1);
    wait_for(&g_started, 2, 5000);
    T_EQ_INT(atomic_load(&g_started), 2);
    uint64_t t0 = now_ms();
    rt_runtime_stop(rt, 200);
    printf("# stop with 2 hanging requests returned after %llu ms\n",
           (unsigned long long)(now_ms() - t0));
    T_EQ_INT(atomic_load(&g_ok), 0);
    T_EQ_INT(rt_http_stats_inflight(), 0); /* the worker's fini cancelled them */
    rt_runtime_free(rt);
    http_testsrv_stop(srv);
}

T_CASE(request_outside_a_worker_is_rejected)
{
    rt_http_req_t req = {.url = "http://127.0.0.1:1/"};
    T_EQ_INT(rt_http_request(NULL, 1, &req), RT_EINVAL);
    /* the main thread has no worker slot: refused before `self` is used */
    T_EQ_INT(rt_http_request((rt_actor_t *)&req, 1, &req), RT_EINVAL);
}

T_CASE(perform_blocking_on_main_thread)
{
    http_testsrv_t *srv = http_testsrv_start();
    T_CHECK(srv != NULL);
    char url[256];
    rt_http_req_t req = {.url = http_testsrv_url(srv, "/echo", url, sizeof url),
                         .body = "ping", .body_len = 4};
    rt_http_result_t *r = NULL;
    T_EQ_INT(rt_http_perform(&req, NULL, &r), RT_OK);
    T_CHECK(r != NULL);
    T_EQ_INT(r->status, 200);
    T_EQ_STR(r->body, "ping");
    rt_http_result_free(r);

    int rfd;
    char bad[64];
    snprintf(bad, sizeof bad, "http://127.0.0.1:%d/", refused_port(&rfd));
    rt_http_req_t q = {.url = bad};
    T_EQ_INT(rt_http_perform(&q, NULL, &r), RT_EIO);
    T_CHECK(r != NULL && r->rc == RT_EIO);
    rt_http_result_free(r);
    rt_http_req_t none = {.url = NULL};
    T_EQ_INT(rt_http_perform(&none, NULL, &r), RT_EINVAL);
    T_CHECK(r == NULL);
    close(rfd);
    http_testsrv_stop(srv);
}

T_MAIN()
