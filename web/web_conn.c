/* web_conn.c — connections per address and each connection's socket (see
 * web_conn.h).
 *
 * The table of addresses is a fixed array scanned under one mutex: it
 * holds only addresses with live connections, and a new connection's
 * first request is the only writer, so its size (WEB_ADDRS_MAX) and a
 * linear scan cost nothing next to the request itself. Every connection
 * owns a web_conn_t (civetweb's per-connection user data, made in
 * init_connection, freed when civetweb closes the connection); its `addr`
 * is set when the connection is counted.
 *
 * The socket: civetweb keeps it private, so the first body read of a
 * connection looks for the descriptor whose peer is the request's remote
 * address and port and whose local port is the server port (one
 * getpeername per open descriptor listed in /proc/self/fd, once per
 * connection; requests without a body never pay for it). The
 * descriptor cannot change while the connection lives: the thread serving
 * it owns it.
 *
 * Guards: active guards form a list under g_guard_mu; the guard thread
 * sleeps until the earliest deadline and shuts that socket's reading side
 * down while holding the mutex. A reader unlinks its guard under the same
 * mutex before it returns, so the descriptor cannot be closed (and reused)
 * while the guard thread may still act on it.
 *
 * Exports: web_conn_setup, web_conn_teardown, web_conn_init,
 * web_conn_closed, web_conn_admit, web_conn_guard_begin,
 * web_conn_guard_end. Threads: see web_conn.h.
 */
#include "web_conn.h"

#include "rt.h"
#include "web_pq.h"

#include <arpa/inet.h>
#include <civetweb.h>
#include <dirent.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define WEB_ADDRS_MAX 1024     /* distinct client addresses with live connections */

typedef struct web_addr {
    char addr[48];   /* mg_request_info.remote_addr */
    int conns;       /* counted connections; 0 = free entry */
} web_addr_t;

#define WEB_FD_UNKNOWN (-2)   /* not looked up yet (-1: looked up, not found) */

typedef struct web_conn {
    web_addr_t *addr;
    int fd;
} web_conn_t;

static int g_max_per_addr = 64;                /* written before the server starts */
static pthread_mutex_t g_addrs_mu = PTHREAD_MUTEX_INITIALIZER;
static web_addr_t g_addrs[WEB_ADDRS_MAX];      /* guarded by g_addrs_mu */

static pthread_mutex_t g_guard_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_guard_cv = PTHREAD_COND_INITIALIZER;
static web_conn_guard_t *g_guards;             /* guarded by g_guard_mu */
static bool g_guard_stop, g_guard_running;     /* guarded by g_guard_mu */
static uint64_t g_guard_sleep_until = UINT64_MAX; /* guarded by g_guard_mu: the guard thread's wake-up */
static pthread_t g_guard_thread;               /* main thread only */

static void *web_conn_guard_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&g_guard_mu);
    while (!g_guard_stop) {
        web_conn_guard_t *first = NULL;
        for (web_conn_guard_t *g = g_guards; g; g = g->next)
            if (!g->fired && (!first || g->deadline_ms < first->deadline_ms)) first = g;
        if (!first) {
            g_guard_sleep_until = UINT64_MAX;
            pthread_cond_wait(&g_guard_cv, &g_guard_mu);
        } else if (rt_now_ms() >= first->deadline_ms) {
            shutdown(first->fd, SHUT_RD);   /* the reader's mg_read returns */
            first->fired = true;
        } else {
            g_guard_sleep_until = first->deadline_ms;
            web_wait_until(&g_guard_cv, &g_guard_mu, first->deadline_ms);
        }
    }
    pthread_mutex_unlock(&g_guard_mu);
    return NULL;
}

/* Contract: see web_conn.h. */
int web_conn_setup(int max_per_addr)
{
    g_max_per_addr = max_per_addr > 0 ? max_per_addr : 1;
    pthread_mutex_lock(&g_guard_mu);
    g_guard_stop = false;
    pthread_mutex_unlock(&g_guard_mu);
    if (g_guard_running) return RT_OK;
    if (pthread_create(&g_guard_thread, NULL, web_conn_guard_main, NULL) != 0) return RT_EIO;
    g_guard_running = true;
    return RT_OK;
}

/* Contract: see web_conn.h. */
void web_conn_teardown(void)
{
    if (!g_guard_running) return;
    pthread_mutex_lock(&g_guard_mu);
    g_guard_stop = true;
    pthread_cond_signal(&g_guard_cv);
    pthread_mutex_unlock(&g_guard_mu);
    pthread_join(g_guard_thread, NULL);
    g_guard_running = false;
}

/* Contract: see web_conn.h. civetweb keeps the pointer given here for
 * the connection's whole life (request_info is reset between requests). */
int web_conn_init(const struct mg_connection *c, void **conn_data)
{
    (void)c;
    web_conn_t *wc = malloc(sizeof *wc);
    if (wc) {
        wc->addr = NULL;
        wc->fd = WEB_FD_UNKNOWN;
    }
    *conn_data = wc;
    return 0;
}

/* Contract: see web_conn.h. civetweb may hold its own locks here; we take
 * only g_addrs_mu, which is never held while calling into civetweb. */
void web_conn_closed(const struct mg_connection *c)
{
    web_conn_t *wc = mg_get_user_connection_data(c);
    if (!wc) return;
    if (wc->addr) {
        pthread_mutex_lock(&g_addrs_mu);
        wc->addr->conns--;
        pthread_mutex_unlock(&g_addrs_mu);
    }
    mg_set_user_connection_data(c, NULL);
    free(wc);
}

/* Does socket fd connect remote (addr, port) to our local `port`? */
static bool web_conn_is(int fd, const char *addr, int rport, int lport)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getpeername(fd, (struct sockaddr *)&ss, &len) != 0) return false;
    char text[INET6_ADDRSTRLEN];
    int port;
    if (ss.ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)&ss;
        port = ntohs(a->sin_port);
        if (!inet_ntop(AF_INET, &a->sin_addr, text, sizeof text)) return false;
    } else if (ss.ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&ss;
        port = ntohs(a->sin6_port);
        if (!inet_ntop(AF_INET6, &a->sin6_addr, text, sizeof text)) return false;
    } else {
        return false;
    }
    if (port != rport || strcmp(text, addr) != 0) return false;
    len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0) return false;
    port = ss.ss_family == AF_INET ? ntohs(((const struct sockaddr_in *)&ss)->sin_port)
                                   : ntohs(((const struct sockaddr_in6 *)&ss)->sin6_port);
    return port == lport;
}

/* The open descriptors are listed by /proc/self/fd (a few hundred: the
 * connections, the database's, the runtime's), not probed up to the
 * descriptor limit (65536 under systemd). */
static int web_conn_find_fd(const struct mg_request_info *ri)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d) return -1;
    int found = -1, dfd = dirfd(d);
    struct dirent *e;
    while (found < 0 && (e = readdir(d))) {
        char *end;
        long fd = strtol(e->d_name, &end, 10);
        if (*end || end == e->d_name || fd < 3 || fd == dfd || fd > INT_MAX) continue;
        if (web_conn_is((int)fd, ri->remote_addr, ri->remote_port, ri->server_port)) found = (int)fd;
    }
    closedir(d);
    return found;
}

/* Contract: see web_conn.h. */
bool web_conn_admit(struct mg_connection *c)
{
    web_conn_t *wc = mg_get_user_connection_data(c);
    if (!wc) return false;                   /* out of memory at web_conn_init */
    if (wc->addr) return true;               /* counted at its first request */
    const struct mg_request_info *ri = mg_get_request_info(c);
    web_addr_t *e = NULL, *free_e = NULL;
    pthread_mutex_lock(&g_addrs_mu);
    for (int i = 0; i < WEB_ADDRS_MAX && !e; i++) {
        if (g_addrs[i].conns == 0) { if (!free_e) free_e = &g_addrs[i]; }
        else if (strcmp(g_addrs[i].addr, ri->remote_addr) == 0) e = &g_addrs[i];
    }
    if (!e && free_e) {
        e = free_e;
        snprintf(e->addr, sizeof e->addr, "%s", ri->remote_addr);
    }
    bool ok = e && e->conns < g_max_per_addr;
    if (ok) e->conns++;
    pthread_mutex_unlock(&g_addrs_mu);
    if (!ok) return false;
    wc->addr = e;
    return true;
}

/* Contract: see web_conn.h. */
void web_conn_guard_begin(web_conn_guard_t *g, const struct mg_connection *c,
                          uint64_t deadline_ms)
{
    web_conn_t *wc = mg_get_user_connection_data(c);
    if (wc && wc->fd == WEB_FD_UNKNOWN) wc->fd = web_conn_find_fd(mg_get_request_info(c));
    g->next = NULL;
    g->fd = wc ? wc->fd : -1;
    g->deadline_ms = deadline_ms;
    g->fired = false;
    if (g->fd < 0) return;
    pthread_mutex_lock(&g_guard_mu);
    g->next = g_guards;
    g_guards = g;
    /* deadlines are mostly later than the one the thread sleeps for:
     * wake it only when this one comes first */
    if (deadline_ms < g_guard_sleep_until) {
        g_guard_sleep_until = deadline_ms;
        pthread_cond_signal(&g_guard_cv);
    }
    pthread_mutex_unlock(&g_guard_mu);
}

/* Contract: see web_conn.h. */
bool web_conn_guard_end(web_conn_guard_t *g)
{
    if (g->fd < 0) return rt_now_ms() >= g->deadline_ms;
    pthread_mutex_lock(&g_guard_mu);
    web_conn_guard_t **pp = &g_guards;
    while (*pp && *pp != g) pp = &(*pp)->next;
    if (*pp) *pp = g->next;
    bool fired = g->fired;
    pthread_mutex_unlock(&g_guard_mu);
    return fired;
}
