/* test_web_limits.c — the HTTP layer under a frozen database, slow clients
 * and a flood of health checks (the real plus7d over loopback, webhook
 * mode, a real PostgreSQL).
 *
 * Purpose: three hostile conditions, each with a positive control:
 *  - frozen_database_503_then_clean_shutdown: the test database's
 *    backends and the postmaster are stopped with SIGSTOP (by a guardian
 *    child that sends SIGCONT when told to, or when the test dies); webhook
 *    requests, several at once (group-commit leader and followers), are
 *    answered 503 instead of hanging; SIGTERM then ends plus7d with status
 *    0; after SIGCONT a restarted plus7d stores updates again.
 *  - slow_loris_cannot_starve_webhook: 200 connections from 127.0.0.2 send
 *    a signed-looking logistics request whose body trickles one byte a
 *    second; the Telegram webhook (from 127.0.0.1) still answers 200 and
 *    stores; the connections over the per-address limit are refused with
 *    503 and the admitted ones end at the request deadline (408).
 *  - unsigned_logistics_refused_before_body: a request without (or with a
 *    malformed) signature is answered 401 although its body never comes.
 *  - healthz_flood_leaves_intake_alone: 16 threads poll /healthz while 100
 *    updates are posted; every update is answered 200 and stored, health
 *    runs on its own single connection and no pool connection ever ran
 *    the probe.
 *
 * Tags: "web", "slow" (the deadline cases wait for the 10 s deadline).
 * Threads: the cases run client threads and join them; the guardian is a
 * child process.
 */
#include "t.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "e2e_harness.h"

#define LOGI_SECRET "web-limits-logistics-secret-0123456789abcdef"
#define LORIS 200
#define UPD0 910000000LL      /* update ids of this test */
#define CHAT0 91000LL

/* ---- helpers -------------------------------------------------------------- */

static int p7_port(void)
{
    const char *b = e2e_p7_base();          /* http://127.0.0.1:PORT */
    const char *c = strrchr(b, ':');
    return c ? atoi(c + 1) : -1;
}

/* A minimal private-chat text Update. */
static void update_json(char *buf, size_t cap, long long update_id, long long chat)
{
    snprintf(buf, cap,
             "{\"update_id\":%lld,\"message\":{\"message_id\":%lld,\"date\":1700000000,"
             "\"chat\":{\"id\":%lld,\"type\":\"private\"},\"from\":{\"id\":%lld,\"is_bot\":false,"
             "\"first_name\":\"W\"},\"text\":\"/help\"}}",
             update_id, update_id, chat, chat);
}

static long post_update(long long update_id, long long chat)
{
    char body[512];
    update_json(body, sizeof body, update_id, chat);
    return e2e_webhook_post(E2E_SECRET, body);
}

static long long stored(long long update_id)
{
    return e2e_sql_int("SELECT count(*) FROM tg_inbox WHERE update_id = $1::bigint",
                       e2e_i(update_id), NULL);
}

/* A TCP connection from `src` (e.g. "127.0.0.2") to plus7d; -1 on error. */
static int connect_from(const char *src, int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    struct sockaddr_in a = {.sin_family = AF_INET};
    inet_pton(AF_INET, src, &a.sin_addr);
    struct sockaddr_in d = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &d.sin_addr);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        connect(fd, (struct sockaddr *)&d, sizeof d) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static bool send_all(int fd, const char *s)
{
    size_t n = strlen(s);
    while (n) {
        ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
        if (w <= 0) return false;
        s += w;
        n -= (size_t)w;
    }
    return true;
}

/* The status of the answer waiting on fd within timeout_ms: the code,
 * 0 when the server hung up without one, -1 when nothing came. */
static int read_status(int fd, int timeout_ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, timeout_ms) <= 0) return -1;
    char buf[256];
    ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
    if (n <= 0) return 0;
    buf[n] = '\0';
    int code = 0;
    return sscanf(buf, "HTTP/1.%*c %d", &code) == 1 ? code : 0;
}

/* ---- freezing the database --------------------------------------------------- */

typedef struct freezer {
    pid_t child;
    int release_fd;       /* closing it (or our death) sends SIGCONT */
    int nstopped;
} freezer_t;

/* Stop `pids` with SIGSTOP from a guardian child that resumes them with
 * SIGCONT when release_fd is closed, or after 120 s whatever happens. */
static bool freeze(freezer_t *f, const long long *pids, int n)
{
    int go[2], ready[2];
    if (pipe(go) != 0 || pipe(ready) != 0) return false;
    pid_t c = fork();
    if (c < 0) return false;
    if (c == 0) {
        close(go[1]);
        close(ready[0]);
        int stopped = 0;
        for (int i = 0; i < n; i++) stopped += kill((pid_t)pids[i], SIGSTOP) == 0;
        if (write(ready[1], &stopped, sizeof stopped) != (ssize_t)sizeof stopped) { /* parent sees 0 */ }
        struct pollfd p = {.fd = go[0], .events = POLLIN};
        poll(&p, 1, 120000);
        for (int i = 0; i < n; i++) kill((pid_t)pids[i], SIGCONT);
        _exit(0);
    }
    close(go[0]);
    close(ready[1]);
    f->child = c;
    f->release_fd = go[1];
    f->nstopped = 0;
    if (read(ready[0], &f->nstopped, sizeof f->nstopped) != (ssize_t)sizeof f->nstopped) f->nstopped = 0;
    close(ready[0]);
    return f->nstopped == n;
}

static void thaw(freezer_t *f)
{
    if (f->child <= 0) return;
    close(f->release_fd);
    waitpid(f->child, NULL, 0);
    f->child = 0;
}

/* The parent process id of pid (from /proc), or -1. */
static long long parent_of(long long pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%lld/stat", pid);
    FILE *fp = fopen(path, "r");
    if (!fp) return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    const char *rp = strrchr(buf, ')');      /* comm may hold spaces */
    long long ppid = -1;
    if (!rp || sscanf(rp + 1, " %*c %lld", &ppid) != 1) return -1;
    return ppid;
}

static atomic_int g_frozen_503, g_frozen_other;   /* relaxed: read after join */

static void *frozen_poster(void *arg)
{
    long long id = (long long)(intptr_t)arg;
    long code = post_update(id, CHAT0 + (id % 7));
    atomic_fetch_add_explicit(code == 503 ? &g_frozen_503 : &g_frozen_other, 1, memory_order_relaxed);
    if (code != 503) printf("# update %lld while frozen: HTTP %ld\n", id, code);
    return NULL;
}

T_CASE_TAGGED(frozen_database_503_then_clean_shutdown, "web slow")
{
    T_CHECK(e2e_p7_ensure() == 0);
    /* positive control: the pool has live connections that will freeze */
    T_EQ_INT(post_update(UPD0 + 1, CHAT0), 200);
    T_EQ_INT(stored(UPD0 + 1), 1);

    /* every backend of the test database (plus7d's: pool, health, workers)
     * and the postmaster, so no new connection can be made either */
    long long pids[64];
    int n = 0;
    for (int i = 0; i < 60; i++) {
        char sql[200];
        snprintf(sql, sizeof sql,
                 "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                 " AND pid <> pg_backend_pid() ORDER BY pid OFFSET %d LIMIT 1", i);
        long long pid = e2e_sql_int(sql, NULL);
        if (pid <= 0) break;
        pids[n++] = pid;
    }
    T_CHECK(n >= 2);
    long long postmaster = parent_of(pids[0]);
    T_CHECK(postmaster > 1);
    pids[n++] = postmaster;

    freezer_t f = {0};
    bool frozen = freeze(&f, pids, n);
    if (!frozen) thaw(&f);
    T_CHECK(frozen);

    atomic_store(&g_frozen_503, 0);
    atomic_store(&g_frozen_other, 0);
    pthread_t th[6];
    for (int i = 0; i < 6; i++)
        pthread_create(&th[i], NULL, frozen_poster, (void *)(intptr_t)(UPD0 + 10 + i));
    for (int i = 0; i < 6; i++) pthread_join(th[i], NULL);
    double secs = 0;
    int st = e2e_p7_stop(&secs);            /* SIGTERM while the database is still frozen */
    thaw(&f);
    printf("# frozen: %d answered 503, %d otherwise; shutdown status %d after %.1f s\n",
           atomic_load(&g_frozen_503), atomic_load(&g_frozen_other), st, secs);
    T_EQ_INT(atomic_load(&g_frozen_503), 6);
    T_EQ_INT(st, 0);

    /* thawed: a new plus7d stores again */
    T_CHECK(e2e_p7_start() == 0);
    T_EQ_INT(post_update(UPD0 + 20, CHAT0), 200);
    T_EQ_INT(stored(UPD0 + 20), 1);
}

/* ---- slow clients ------------------------------------------------------------ */

static int g_loris[LORIS];
static int g_loris_status[LORIS];   /* -1: no answer yet; written by the trickler, read after join */

/* Every second: collect the answers that came (the status, then close),
 * and send one more body byte on every connection still waiting. Ends
 * when all are answered or after 40 s. Reading before writing matters: a
 * byte sent after the server closed would be answered with a reset that
 * can discard the unread answer. */
static void *trickler(void *arg)
{
    (void)arg;
    for (int round = 0; round < 40; round++) {
        int waiting = 0;
        for (int i = 0; i < LORIS; i++) {
            if (g_loris[i] < 0) continue;
            int s = read_status(g_loris[i], 0);
            if (s >= 0) {
                g_loris_status[i] = s;
                close(g_loris[i]);
                g_loris[i] = -1;
                continue;
            }
            waiting++;
            if (send(g_loris[i], " ", 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) { /* seen next round */ }
        }
        if (!waiting) break;
        e2e_sleep_ms(1000);
    }
    return NULL;
}

T_CASE_TAGGED(slow_loris_cannot_starve_webhook, "web slow")
{
    T_CHECK(e2e_p7_ensure() == 0);
    int port = p7_port();
    const char *head =
        "POST /api/logistics/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "X-Plus7-Signature: sha256=00000000000000000000000000000000"
        "00000000000000000000000000000000\r\n"
        "Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{";
    int opened = 0;
    for (int i = 0; i < LORIS; i++) {
        g_loris_status[i] = -1;
        g_loris[i] = connect_from("127.0.0.2", port);
        if (g_loris[i] >= 0 && send_all(g_loris[i], head)) opened++;
    }
    T_EQ_INT(opened, LORIS);
    pthread_t tr;
    T_EQ_INT(pthread_create(&tr, NULL, trickler, NULL), 0);

    /* the webhook, from another address, is served and stores */
    long code = post_update(UPD0 + 100, CHAT0);
    long long n_stored = stored(UPD0 + 100);

    /* every slow client gets an answer: 503 over the per-address limit
     * at once, 408 for the admitted ones at the request deadline */
    pthread_join(tr, NULL);
    int c503 = 0, c408 = 0, other = 0;
    for (int i = 0; i < LORIS; i++) {
        if (g_loris[i] >= 0) close(g_loris[i]);
        g_loris[i] = -1;
        if (g_loris_status[i] == 503) c503++;
        else if (g_loris_status[i] == 408) c408++;
        else other++;
    }
    printf("# slow clients: %d refused (503), %d cut at the deadline (408), %d otherwise\n",
           c503, c408, other);
    T_EQ_INT(code, 200);
    T_EQ_INT(n_stored, 1);
    T_CHECK(c503 > 0);
    T_CHECK(c408 > 0);
    T_EQ_INT(other, 0);
    /* and the server still serves after the storm */
    T_EQ_INT(post_update(UPD0 + 101, CHAT0), 200);
}

T_CASE_TAGGED(unsigned_logistics_refused_before_body, "web")
{
    T_CHECK(e2e_p7_ensure() == 0);
    int port = p7_port();
    const char *bad[] = {
        "",                                                      /* missing */
        "X-Plus7-Signature: sha256=abc\r\n",                     /* too short */
        "X-Plus7-Signature: md5=0000000000000000000000000000000000000000000000000000000000000000\r\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int fd = connect_from("127.0.0.1", port);
        T_CHECK(fd >= 0);
        char req[512];
        snprintf(req, sizeof req,
                 "POST /api/logistics/events HTTP/1.1\r\nHost: 127.0.0.1\r\n%s"
                 "Content-Type: application/json\r\nContent-Length: 4000\r\n\r\n", bad[i]);
        T_CHECK(send_all(fd, req));
        int s = read_status(fd, 20000);       /* the body is never sent */
        close(fd);
        T_EQ_INT(s, 401);
    }
}

/* ---- health checks ------------------------------------------------------------- */

static atomic_int g_flood_stop, g_flood_ok, g_flood_bad;   /* relaxed: counters read after join */

static size_t sink_cb(char *p, size_t sz, size_t n, void *arg)
{
    (void)p;
    (void)arg;
    return sz * n;
}

static void *health_flooder(void *arg)
{
    (void)arg;
    char url[128];
    snprintf(url, sizeof url, "%s/healthz", e2e_p7_base());
    CURL *h = curl_easy_init();
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink_cb);
    while (!atomic_load_explicit(&g_flood_stop, memory_order_relaxed)) {
        long code = 0;
        if (curl_easy_perform(h) == CURLE_OK) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
        atomic_fetch_add_explicit(code == 200 ? &g_flood_ok : &g_flood_bad, 1, memory_order_relaxed);
    }
    curl_easy_cleanup(h);
    return NULL;
}

T_CASE_TAGGED(healthz_flood_leaves_intake_alone, "web")
{
    T_CHECK(e2e_p7_ensure() == 0);
    atomic_store(&g_flood_stop, 0);
    atomic_store(&g_flood_ok, 0);
    atomic_store(&g_flood_bad, 0);
    pthread_t th[16];
    for (int i = 0; i < 16; i++) T_EQ_INT(pthread_create(&th[i], NULL, health_flooder, NULL), 0);
    int ok = 0;
    for (int i = 0; i < 100; i++) ok += post_update(UPD0 + 200 + i, CHAT0 + 1 + i % 5) == 200;
    /* sessions while the flood still runs */
    long long health_sessions = e2e_sql_int(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
        " AND application_name = 'plus7d-health'", NULL);
    long long pool_probes = e2e_sql_int(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
        " AND application_name = 'plus7d-web' AND query = 'SELECT 1'", NULL);
    atomic_store(&g_flood_stop, 1);
    for (int i = 0; i < 16; i++) pthread_join(th[i], NULL);
    long long n = e2e_sql_int("SELECT count(*) FROM tg_inbox WHERE update_id BETWEEN $1::bigint AND $2::bigint",
                              e2e_i(UPD0 + 200), e2e_i(UPD0 + 299), NULL);
    printf("# health checks answered 200: %d (other: %d); webhook 200: %d\n",
           atomic_load(&g_flood_ok), atomic_load(&g_flood_bad), ok);
    T_EQ_INT(ok, 100);
    T_EQ_INT(n, 100);
    T_CHECK(atomic_load(&g_flood_ok) > 100);
    T_EQ_INT(atomic_load(&g_flood_bad), 0);
    T_EQ_INT(health_sessions, 1);
    T_EQ_INT(pool_probes, 0);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    for (int i = 0; i < LORIS; i++) g_loris[i] = -1;
    e2e_p7_setenv("PLUS7_LOGISTICS_SECRET", LOGI_SECRET);
    e2e_init("web_limits", E2E_WEBHOOK);
    int rc = e2e_finish(t_run_all());
    curl_global_cleanup();
    return rc;
}
