/* web_server.c — civetweb wrapper: route table, dispatcher, request counters.
 *
 * Purpose: implements the server half of web_server.h. Every request enters
 * web_dispatch (civetweb's begin_request callback), which picks the route
 * with the longest matching prefix, runs its handler, guarantees a response
 * (JSON 500 if the handler wrote none) and counts the outcome per route and
 * status for /metrics. Reply helpers live in web_reply.c.
 *
 * Connections per client address are counted by web_conn.c; above the
 * limit a request is answered 503 and its connection closed, so a flood
 * from one address costs one short request per connection rather than a
 * thread each.
 *
 * Exports: web_route_add, web_server_start, web_server_stop,
 * web_server_stats_each, web_server_inflight.
 *
 * Threads: web_route_add/start/stop on the main thread; web_dispatch on
 * civetweb worker threads; stats readers on any thread. The route table is
 * written only before mg_start2 and read-only afterwards: mg_start2 creates
 * the civetweb threads, and thread creation orders the table writes before
 * every read, so no lock is needed.
 */
#include "web_server.h"

#include "rt.h"
#include "rt_log.h"
#include "web_conn.h"

#include <civetweb.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define WEB_ROUTES_MAX 64
#define WEB_STATUS_SLOTS 600   /* counters indexed by status code 100..599 */
#define WEB_DEFAULT_DEADLINE_MS 10000
#define WEB_DEFAULT_CONNS_PER_ADDR 64

typedef struct web_route {
    char method[16];
    const char *prefix;
    size_t prefix_len;
    web_handler_fn handler;
    /* relaxed: independent event counters read by /metrics */
    _Atomic uint64_t counts[WEB_STATUS_SLOTS];
} web_route_t;

static web_route_t *g_routes[WEB_ROUTES_MAX];
static int g_nroutes;
static web_route_t g_unmatched = {.method = "*", .prefix = "unmatched"};
static struct mg_context *g_ctx;
static char g_listen[96];   /* the listening address, for web_server_poke */
static bool g_started;  /* main thread only */
static int g_deadline_ms = WEB_DEFAULT_DEADLINE_MS;         /* set before mg_start2 */

/* relaxed: a gauge for /metrics; nothing is ordered by it */
static _Atomic uint64_t g_inflight;

/* Contract: see web_server.h. */
int web_route_add(const char *method, const char *path_prefix, web_handler_fn handler)
{
    if (g_started || !method || !*method || strlen(method) >= sizeof g_routes[0]->method ||
        !path_prefix || path_prefix[0] != '/' || !handler)
        return RT_EINVAL;
    for (int i = 0; i < g_nroutes; i++) {
        if (strcmp(g_routes[i]->method, method) == 0 && strcmp(g_routes[i]->prefix, path_prefix) == 0) {
            g_routes[i]->handler = handler;
            return RT_OK;
        }
    }
    if (g_nroutes >= WEB_ROUTES_MAX) return RT_EFULL;
    web_route_t *r = calloc(1, sizeof *r);
    if (!r) return RT_ENOMEM;
    char *prefix = strdup(path_prefix);
    if (!prefix) {
        free(r);
        return RT_ENOMEM;
    }
    r->prefix = prefix;
    snprintf(r->method, sizeof r->method, "%s", method);
    r->prefix_len = strlen(path_prefix);
    r->handler = handler;
    g_routes[g_nroutes++] = r;
    return RT_OK;
}

/* Does route prefix r cover path? */
static bool web_prefix_match(const web_route_t *r, const char *path)
{
    if (strncmp(path, r->prefix, r->prefix_len) != 0) return false;
    char next = path[r->prefix_len];
    return next == '\0' || next == '/' || r->prefix[r->prefix_len - 1] == '/';
}

static bool web_method_match(const web_route_t *r, const char *method)
{
    return strcmp(r->method, "*") == 0 || strcmp(r->method, method) == 0 ||
           (strcmp(method, "HEAD") == 0 && strcmp(r->method, "GET") == 0);
}

static void web_count(web_route_t *r, int status)
{
    if (status >= 100 && status < WEB_STATUS_SLOTS)
        atomic_fetch_add_explicit(&r->counts[status], 1, memory_order_relaxed); /* counter */
}

#define WEB_WS_ROUTES_MAX 4

typedef struct web_ws_route {
    char path[64];
    web_ws_connect_fn connect;
    web_ws_ready_fn ready;
    web_ws_data_fn data;
    web_ws_close_fn close;
    void *arg;
} web_ws_route_t;

static web_ws_route_t g_ws[WEB_WS_ROUTES_MAX];   /* like g_routes: frozen at start */
static int g_nws;

/* Contract: see web_server.h. */
int web_ws_route_add(const char *path, web_ws_connect_fn connect, web_ws_ready_fn ready, web_ws_data_fn data,
                     web_ws_close_fn close, void *arg)
{
    if (g_started || !path || path[0] != '/' || strlen(path) >= sizeof g_ws[0].path) return RT_EINVAL;
    if (g_nws >= WEB_WS_ROUTES_MAX) return RT_EFULL;
    web_ws_route_t *w = &g_ws[g_nws++];
    snprintf(w->path, sizeof w->path, "%s", path);
    w->connect = connect, w->ready = ready, w->data = data, w->close = close, w->arg = arg;
    return RT_OK;
}

/* An upgrade to a registered websocket path? */
static bool web_ws_upgrade(struct mg_connection *c, const char *path)
{
    const char *up = mg_get_header(c, "Upgrade");
    if (!up || strcasecmp(up, "websocket") != 0 || !path) return false;
    for (int i = 0; i < g_nws; i++)
        if (strcmp(g_ws[i].path, path) == 0) return true;
    return false;
}

/* civetweb begin_request: the single entry of every HTTP request. */
static int web_dispatch(struct mg_connection *c)
{
    const struct mg_request_info *ri = mg_get_request_info(c);
    if (web_ws_upgrade(c, ri->local_uri) && web_conn_admit(c)) return 0;   /* civetweb's websocket callbacks */
    uint64_t t0 = rt_now_ms();
    web_req_t req = {
        .conn = c,
        .ri = ri,
        .method = ri->request_method ? ri->request_method : "",
        .path = ri->local_uri,
        .query = ri->query_string,
        .deadline_ms = t0 + (uint64_t)g_deadline_ms,
    };
    req.head_only = strcmp(req.method, "HEAD") == 0;

    web_route_t *best = NULL;
    bool path_known = false;
    if (req.path && req.path[0] == '/') {
        for (int i = 0; i < g_nroutes; i++) {
            web_route_t *r = g_routes[i];
            if (!web_prefix_match(r, req.path)) continue;
            /* the catch-all "/" (static files) does not make every path
             * "known": POST /nope is 404, not 405 */
            if (r->prefix_len > 1) path_known = true;
            if (web_method_match(r, req.method) && (!best || r->prefix_len > best->prefix_len))
                best = r;
        }
    }

    atomic_fetch_add_explicit(&g_inflight, 1, memory_order_relaxed); /* gauge */
    if (!web_conn_admit(c)) {
        web_req_close(&req);
        web_reply_error(&req, 503, "too many connections from this address", NULL);
    } else if (!req.path || req.path[0] != '/') {
        web_reply_error(&req, 400, "bad request target", NULL);
    } else if (!best && path_known) {
        /* 405 with the methods that would have matched */
        char allow[256] = "";
        size_t n = 0;
        for (int i = 0; i < g_nroutes && n + 20 < sizeof allow; i++)
            if (web_prefix_match(g_routes[i], req.path) && !strstr(allow, g_routes[i]->method))
                n += (size_t)snprintf(allow + n, sizeof allow - n, "%s%s", n ? ", " : "",
                                      g_routes[i]->method);
        char hdr[300];
        snprintf(hdr, sizeof hdr, "Allow: %s\r\n", allow);
        static const char body[] = "{\"error\":\"method not allowed\"}";
        web_reply(&req, 405, "application/json", hdr, body, sizeof body - 1);
    } else if (!best) {
        web_reply_error(&req, 404, "not found", NULL);
    } else {
        int rc = best->handler(&req);
        if (req.status == 0) {
            LOG_ERROR("http_handler_no_reply", "route=\"%s\" rc=%s", best->prefix, rt_strerror(rc));
            web_reply_error(&req, 500, "internal error", NULL);
        }
    }
    atomic_fetch_sub_explicit(&g_inflight, 1, memory_order_relaxed); /* gauge */

    web_count(best ? best : &g_unmatched, req.status);
    LOG_DEBUG("http_request", "method=%s path=\"%s\" status=%d ms=%llu", req.method,
              req.path ? req.path : "", req.status, (unsigned long long)(rt_now_ms() - t0));
    return req.status > 0 ? req.status : 500;
}

/* civetweb's own diagnostics go to our log. */
static int web_log_message(const struct mg_connection *c, const char *message)
{
    (void)c;
    char buf[512];
    LOG_WARN("civetweb", "msg=\"%s\"", rt_log_value(buf, sizeof buf, message));
    return 1;
}

/* Contract: see web_server.h. */
int web_server_start(const web_server_opts_t *o, char *err, size_t errlen)
{
    if (g_started || !o || !o->listen || o->threads < 1) {
        snprintf(err, errlen, "web server: bad options or already started");
        return RT_EINVAL;
    }
    char threads[16], req_to[16], ka_to[16];
    snprintf(threads, sizeof threads, "%d", o->threads);
    snprintf(req_to, sizeof req_to, "%d", o->request_timeout_ms > 0 ? o->request_timeout_ms : 10000);
    snprintf(ka_to, sizeof ka_to, "%d", o->keep_alive_timeout_ms > 0 ? o->keep_alive_timeout_ms : 10000);
    const char *options[] = {
        "listening_ports", o->listen,
        "num_threads", threads,
        "tcp_nodelay", "1",
        "enable_keep_alive", "yes",
        "keep_alive_timeout_ms", ka_to,
        "request_timeout_ms", req_to,
        NULL,
    };
    static struct mg_callbacks cb;
    memset(&cb, 0, sizeof cb);
    cb.begin_request = web_dispatch;
    cb.log_message = web_log_message;
    cb.init_connection = web_conn_init;
    cb.connection_close = web_conn_closed;
    g_deadline_ms = o->request_deadline_ms > 0 ? o->request_deadline_ms : WEB_DEFAULT_DEADLINE_MS;
    if (web_conn_setup(o->max_conns_per_addr > 0 ? o->max_conns_per_addr : WEB_DEFAULT_CONNS_PER_ADDR) != RT_OK) {
        snprintf(err, errlen, "web server: cannot start the read guard thread");
        return RT_EIO;
    }

    snprintf(g_listen, sizeof g_listen, "%s", o->listen);
    mg_init_library(0);
    g_started = true;   /* the table is frozen from here on */
    char text[256] = "";
    unsigned code = 0;
    struct mg_error_data ed = {.code = &code, .text = text, .text_buffer_size = sizeof text};
    struct mg_init_data init = {.callbacks = &cb, .user_data = NULL, .configuration_options = options};
    g_ctx = mg_start2(&init, &ed);
    if (!g_ctx) {
        char shown[256];
        snprintf(err, errlen, "cannot listen on %s: %s", o->listen,
                 text[0] ? rt_log_value(shown, sizeof shown, text) : "civetweb failed to start");
        web_conn_teardown();
        mg_exit_library();
        return RT_EIO;
    }
    for (int i = 0; i < g_nws; i++)
        mg_set_websocket_handler(g_ctx, g_ws[i].path, g_ws[i].connect, g_ws[i].ready, g_ws[i].data, g_ws[i].close,
                                 g_ws[i].arg);
    LOG_INFO("http_listening", "listen=%s threads=%d routes=%d", o->listen, o->threads, g_nroutes);
    return RT_OK;
}

static void *web_stop_thread(void *ctx)
{
    mg_stop(ctx);
    return NULL;
}

/* Wake civetweb's accept loop, which otherwise notices the stop flag only
 * when its poll times out (2 s): connect to our own listening address and
 * hang up. Best effort. */
static void web_server_poke(void)
{
    char host[64];
    const char *colon = strrchr(g_listen, ':');
    if (!colon) return;
    size_t hl = (size_t)(colon - g_listen);
    if (hl >= sizeof host) return;
    memcpy(host, g_listen, hl);
    host[hl] = '\0';
    char *h = host;
    if (h[0] == '[') {
        h++;
        char *rb = strchr(h, ']');
        if (rb) *rb = '\0';
    }
    if (strcmp(h, "0.0.0.0") == 0) h = "127.0.0.1";
    if (strcmp(h, "::") == 0) h = "::1";
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST};
    struct addrinfo *ai = NULL;
    if (getaddrinfo(h, colon + 1, &hints, &ai) != 0 || !ai) return;
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0) {
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) { /* best effort */ }
        close(fd);
    }
    freeaddrinfo(ai);
}

/* Contract: see web_server.h. mg_stop runs on a helper thread while this
 * thread pokes the accept loop awake. */
void web_server_stop(void)
{
    if (!g_ctx) return;
    pthread_t t;
    if (pthread_create(&t, NULL, web_stop_thread, g_ctx) == 0) {
        struct timespec ts = {0, 20 * 1000000L};
        nanosleep(&ts, NULL);           /* let mg_stop raise its stop flag */
        web_server_poke();
        pthread_join(t, NULL);
    } else {
        mg_stop(g_ctx);
    }
    g_ctx = NULL;
    web_conn_teardown();
    mg_exit_library();
    LOG_INFO("http_stopped", "inflight=%llu",
             (unsigned long long)atomic_load_explicit(&g_inflight, memory_order_relaxed)); /* gauge */
}

static void web_stats_route(const web_route_t *r, web_stats_fn fn, void *arg)
{
    for (int s = 100; s < WEB_STATUS_SLOTS; s++) {
        uint64_t n = atomic_load_explicit(&r->counts[s], memory_order_relaxed); /* counter */
        if (n) fn(r->prefix, r->method, s, n, arg);
    }
}

/* Contract: see web_server.h. Routes are read-only once the server runs;
 * before that this is called only from the main thread. */
void web_server_stats_each(web_stats_fn fn, void *arg)
{
    for (int i = 0; i < g_nroutes; i++) web_stats_route(g_routes[i], fn, arg);
    web_stats_route(&g_unmatched, fn, arg);
}

/* Contract: see web_server.h. */
uint64_t web_server_inflight(void)
{
    return atomic_load_explicit(&g_inflight, memory_order_relaxed); /* gauge */
}
