/* http_testsrv.c — a loopback evhttp server on its own thread (tests only).
 *
 * Purpose: see http_testsrv.h. One event_base + evhttp on a private thread;
 * the listener is made by us with a 4096-deep backlog (evhttp's own bind
 * uses a shallow one, which would drop SYNs when a thousand clients
 * connect at once). Each accepted connection is counted in the bufferevent
 * factory (evhttp_set_bevcb), which evhttp calls once per connection.
 *
 * Exports: see http_testsrv.h.
 * Threads: the server thread runs every callback here; the accessors take
 * atomics or the upload mutex.
 */
#include "http_testsrv.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <event2/thread.h>

typedef struct pending {
    struct event *ev;
    struct evhttp_request *req;
    struct evhttp_connection *evcon;
    struct http_testsrv *s;
    struct pending *prev, *next;
} pending_t;

struct http_testsrv {
    struct event_base *base;
    struct evhttp *http;
    pthread_t thread;
    int port;
    /* Counters: relaxed, they are read by the test thread only after the
     * requests they count have completed on the client side, and nothing
     * else is ordered by them. */
    atomic_long accepted, requests, max_pending;
    long npending;             /* server thread only */
    pending_t *pending;        /* server thread only */
    pthread_mutex_t mu;        /* guards upload_* and running */
    pthread_cond_t cv;
    int running;               /* the loop is dispatching: a loopbreak now is not lost */
    unsigned char *upload;
    size_t upload_len;
    char upload_ct[256];
};

static struct bufferevent *on_new_conn(struct event_base *base, void *arg)
{
    http_testsrv_t *s = arg;
    atomic_fetch_add_explicit(&s->accepted, 1, memory_order_relaxed); /* counter only */
    return bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
}

static const char *method_name(enum evhttp_cmd_type c)
{
    switch (c) {
    case EVHTTP_REQ_GET: return "GET";
    case EVHTTP_REQ_POST: return "POST";
    case EVHTTP_REQ_HEAD: return "HEAD";
    case EVHTTP_REQ_PUT: return "PUT";
    case EVHTTP_REQ_DELETE: return "DELETE";
    case EVHTTP_REQ_OPTIONS: return "OPTIONS";
    case EVHTTP_REQ_PATCH: return "PATCH";
    default: return "OTHER";
    }
}

static void reply_text(struct evhttp_request *req, int code, const char *text)
{
    struct evbuffer *b = evbuffer_new();
    evbuffer_add(b, text, strlen(text));
    evhttp_send_reply(req, code, "X", b);
    evbuffer_free(b);
}

static void pending_unlink(http_testsrv_t *s, pending_t *p)
{
    if (p->prev) p->prev->next = p->next;
    else s->pending = p->next;
    if (p->next) p->next->prev = p->prev;
    s->npending--;
}

/* The client went away before the delayed reply: drop the reply. */
static void on_conn_close(struct evhttp_connection *evcon, void *arg)
{
    pending_t *p = arg;
    pending_unlink(p->s, p);
    event_free(p->ev);
    free(p);
}

static void on_delay_fire(evutil_socket_t fd, short what, void *arg)
{
    pending_t *p = arg;
    pending_unlink(p->s, p);
    evhttp_connection_set_closecb(p->evcon, NULL, NULL); /* before the reply may free it */
    reply_text(p->req, 200, evhttp_request_get_uri(p->req));
    event_free(p->ev);
    free(p);
}

static void handle_delay(http_testsrv_t *s, struct evhttp_request *req, long ms)
{
    pending_t *p = calloc(1, sizeof *p);
    p->s = s;
    p->req = req;
    p->evcon = evhttp_request_get_connection(req);
    p->ev = evtimer_new(s->base, on_delay_fire, p);
    p->next = s->pending;
    if (s->pending) s->pending->prev = p;
    s->pending = p;
    s->npending++;
    if (s->npending > atomic_load_explicit(&s->max_pending, memory_order_relaxed))
        atomic_store_explicit(&s->max_pending, s->npending, memory_order_relaxed); /* only writer */
    evhttp_connection_set_closecb(p->evcon, on_conn_close, p);
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    evtimer_add(p->ev, &tv);
}

static void handle_big(struct evhttp_request *req, size_t n, int chunked)
{
    struct evbuffer *b = evbuffer_new();
    unsigned char chunk[65536];
    if (!chunked) {
        for (size_t off = 0; off < n;) {
            size_t k = n - off < sizeof chunk ? n - off : sizeof chunk;
            for (size_t i = 0; i < k; i++) chunk[i] = http_testsrv_pattern(off + i);
            evbuffer_add(b, chunk, k);
            off += k;
        }
        evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "application/octet-stream");
        evhttp_send_reply(req, 200, "OK", b);
    } else {
        evhttp_send_reply_start(req, 200, "OK");
        for (size_t off = 0; off < n;) {
            size_t k = n - off < sizeof chunk ? n - off : sizeof chunk;
            for (size_t i = 0; i < k; i++) chunk[i] = http_testsrv_pattern(off + i);
            evbuffer_add(b, chunk, k);
            evhttp_send_reply_chunk(req, b); /* drains b */
            off += k;
        }
        evhttp_send_reply_end(req);
    }
    evbuffer_free(b);
}

static void on_request(struct evhttp_request *req, void *arg)
{
    http_testsrv_t *s = arg;
    atomic_fetch_add_explicit(&s->requests, 1, memory_order_relaxed); /* counter only */
    const char *uri = evhttp_request_get_uri(req);
    struct evkeyvalq *in = evhttp_request_get_input_headers(req);
    struct evkeyvalq *out = evhttp_request_get_output_headers(req);
    struct evbuffer *body = evhttp_request_get_input_buffer(req);

    if (strcmp(uri, "/echo") == 0) {
        const char *x = evhttp_find_header(in, "X-Test");
        const char *ct = evhttp_find_header(in, "Content-Type");
        evhttp_add_header(out, "X-Method", method_name(evhttp_request_get_command(req)));
        evhttp_add_header(out, "X-Test-Echo", x ? x : "");
        evhttp_add_header(out, "X-Req-Content-Type", ct ? ct : "");
        evhttp_add_header(out, "Content-Type", "application/octet-stream");
        evhttp_send_reply(req, 200, "OK", body); /* echoes (and drains) the body */
    } else if (strncmp(uri, "/status/", 8) == 0) {
        int code = atoi(uri + 8);
        char text[64];
        snprintf(text, sizeof text, "status %d", code);
        if (code == 429 || code == 503) evhttp_add_header(out, "Retry-After", "7");
        evhttp_add_header(out, "Content-Type", "text/plain; charset=utf-8");
        reply_text(req, code, text);
    } else if (strncmp(uri, "/delay/", 7) == 0) {
        handle_delay(s, req, atol(uri + 7));
    } else if (strcmp(uri, "/hang") == 0) {
        /* never answered; evhttp frees the request with its connection */
    } else if (strncmp(uri, "/big/", 5) == 0) {
        handle_big(req, (size_t)atoll(uri + 5), 0);
    } else if (strncmp(uri, "/bigchunk/", 10) == 0) {
        handle_big(req, (size_t)atoll(uri + 10), 1);
    } else if (strcmp(uri, "/upload") == 0) {
        const char *ct = evhttp_find_header(in, "Content-Type");
        size_t n = evbuffer_get_length(body);
        unsigned char *copy = malloc(n ? n : 1);
        evbuffer_copyout(body, copy, n);
        pthread_mutex_lock(&s->mu);
        free(s->upload);
        s->upload = copy;
        s->upload_len = n;
        snprintf(s->upload_ct, sizeof s->upload_ct, "%s", ct ? ct : "");
        pthread_mutex_unlock(&s->mu);
        reply_text(req, 200, "ok");
    } else {
        reply_text(req, 404, "no such route");
    }
}

/* First callback of the loop: tell start() that dispatch is under way
 * (event_base_loop clears an earlier loopbreak when it begins). */
static void on_loop_started(evutil_socket_t fd, short what, void *arg)
{
    http_testsrv_t *s = arg;
    pthread_mutex_lock(&s->mu);
    s->running = 1;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

static void *server_main(void *arg)
{
    http_testsrv_t *s = arg;
    event_base_dispatch(s->base);
    return NULL;
}

http_testsrv_t *http_testsrv_start(void)
{
    evthread_use_pthreads();
    http_testsrv_t *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    s->base = event_base_new();
    s->http = s->base ? evhttp_new(s->base) : NULL;
    if (!s->http) goto fail;
    evhttp_set_allowed_methods(s->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
                                        EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE | EVHTTP_REQ_PATCH |
                                        EVHTTP_REQ_OPTIONS);
    evhttp_set_bevcb(s->http, on_new_conn, s);
    evhttp_set_gencb(s->http, on_request, s);

    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = 0;
    struct evconnlistener *lev = evconnlistener_new_bind(
        s->base, NULL, NULL, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 4096,
        (struct sockaddr *)&sa, sizeof sa);
    if (!lev) goto fail;
    if (!evhttp_bind_listener(s->http, lev)) {
        evconnlistener_free(lev);
        goto fail;
    }
    struct sockaddr_in got;
    socklen_t len = sizeof got;
    if (getsockname(evconnlistener_get_fd(lev), (struct sockaddr *)&got, &len) != 0) goto fail;
    s->port = ntohs(got.sin_port);
    struct timeval zero = {0, 0};
    if (event_base_once(s->base, -1, EV_TIMEOUT, on_loop_started, s, &zero) != 0) goto fail;
    if (pthread_create(&s->thread, NULL, server_main, s) != 0) goto fail;
    pthread_mutex_lock(&s->mu);
    while (!s->running) pthread_cond_wait(&s->cv, &s->mu);
    pthread_mutex_unlock(&s->mu);
    return s;
fail:
    if (s->http) evhttp_free(s->http);
    if (s->base) event_base_free(s->base);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s);
    return NULL;
}

void http_testsrv_stop(http_testsrv_t *s)
{
    if (!s) return;
    event_base_loopbreak(s->base);
    pthread_join(s->thread, NULL);
    evhttp_free(s->http); /* close callbacks drop pending delayed replies */
    while (s->pending) {
        pending_t *p = s->pending;
        pending_unlink(s, p);
        event_free(p->ev);
        free(p);
    }
    event_base_free(s->base);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s->upload);
    free(s);
}

char *http_testsrv_url(const http_testsrv_t *s, const char *path, char *buf, size_t cap)
{
    snprintf(buf, cap, "http://127.0.0.1:%d%s", s->port, path);
    return buf;
}

int http_testsrv_port(const http_testsrv_t *s) { return s->port; }

long http_testsrv_accepted(http_testsrv_t *s)
{
    return atomic_load_explicit(&s->accepted, memory_order_relaxed); /* counter only */
}

long http_testsrv_requests(http_testsrv_t *s)
{
    return atomic_load_explicit(&s->requests, memory_order_relaxed); /* counter only */
}

long http_testsrv_max_pending(http_testsrv_t *s)
{
    return atomic_load_explicit(&s->max_pending, memory_order_relaxed); /* counter only */
}

unsigned char *http_testsrv_upload(http_testsrv_t *s, size_t *len, char *ct, size_t ctcap)
{
    pthread_mutex_lock(&s->mu);
    unsigned char *copy = NULL;
    if (s->upload) {
        copy = malloc(s->upload_len ? s->upload_len : 1);
        memcpy(copy, s->upload, s->upload_len);
        *len = s->upload_len;
        snprintf(ct, ctcap, "%s", s->upload_ct);
    }
    pthread_mutex_unlock(&s->mu);
    return copy;
}
