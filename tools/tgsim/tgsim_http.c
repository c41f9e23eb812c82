/* tgsim_http.c — civetweb glue: one handler for every URI.
 *
 * Routes:
 *   /bot<token>/<method>          Bot API (GET or POST; any encoding)
 *   /file/bot<token>/<file_path>  file download (getFile paths)
 *   /control/...                  control API (tgsim_control.c)
 *   /  and /index.html            the web chat page (embedded)
 * The body is read whole (up to cfg.max_body) and every response is written
 * with one mg_write call (headers and body together), with
 * Connection: keep-alive semantics left to civetweb.
 *
 * Exports: tgsim_http_start, tgsim_http_stop.
 * Threads: civetweb worker threads call the handler; start/stop from main.
 */
#include "tgsim.h"
#include "tgsim_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <civetweb.h>

typedef struct {
    struct mg_context *ctx;
    tgsim_world_t *w;
} tgsim_http_t;

static const char *tgsim_status_text(int s)
{
    switch (s) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 413: return "Request Entity Too Large";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Unknown";
    }
}

static void tgsim_http_send(struct mg_connection *conn, const tgsim_resp_t *r, int head_only)
{
    tgsim_buf_t out = {0};
    int status = r->status ? r->status : 500;
    tgsim_buf_printf(&out, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                           "Cache-Control: no-store\r\n%s\r\n",
                     status, tgsim_status_text(status), r->ctype ? r->ctype : "application/json",
                     r->body.len, r->extra_headers ? r->extra_headers : "");
    if (!head_only && r->body.len) tgsim_buf_put(&out, r->body.p, r->body.len);
    mg_write(conn, out.p, out.len);
    tgsim_buf_free(&out);
}

/* Read the whole request body; -1 if it exceeds max. */
static int tgsim_http_body(struct mg_connection *conn, size_t max, tgsim_buf_t *b)
{
    /* civetweb threads have 100 KB stacks: read through a heap buffer */
    enum { CHUNK = 65536 };
    char *tmp = tgsim_xmalloc(CHUNK);
    int rc = 0;
    for (;;) {
        int n = mg_read(conn, tmp, CHUNK);
        if (n <= 0) break;
        if (b->len + (size_t)n > max) { rc = -1; break; }
        tgsim_buf_put(b, tmp, (size_t)n);
    }
    free(tmp);
    return rc;
}

static int tgsim_http_handler(struct mg_connection *conn, void *cbdata)
{
    tgsim_http_t *h = cbdata;
    tgsim_world_t *w = h->w;
    const struct mg_request_info *ri = mg_get_request_info(conn);
    const char *uri = ri->local_uri ? ri->local_uri : "/";
    tgsim_resp_t r = {0};
    tgsim_buf_t body = {0};
    int head = !strcmp(ri->request_method, "HEAD");

    if (tgsim_http_body(conn, w->cfg.max_body, &body) != 0) {
        r.status = 413;
        tgsim_buf_puts(&r.body, "{\"ok\":false,\"error_code\":413,\"description\":\"Request Entity Too Large\"}");
        tgsim_http_send(conn, &r, head);
        tgsim_buf_free(&r.body);
        tgsim_buf_free(&body);
        return 413;
    }

    if (!strncmp(uri, "/bot", 4)) {
        const char *tok = uri + 4;
        const char *slash = strchr(tok, '/');
        char *token = tgsim_xstrndup(tok, slash ? (size_t)(slash - tok) : strlen(tok));
        const char *method = slash ? slash + 1 : "";
        tgsim_params_t p = {0};
        tgsim_params_parse_query(&p, ri->query_string);
        char err[256];
        if (tgsim_params_parse_body(&p, mg_get_header(conn, "Content-Type"), body.p, body.len, err, sizeof err) != 0) {
            char d[320];
            snprintf(d, sizeof d, "Bad Request: %s", err);
            tgsim_api_error(&r, 400, d, 0);
        } else if (!*method || strchr(method, '/')) {
            tgsim_api_error(&r, 404, "Not Found", 0);
        } else {
            tgsim_api_handle(w, token, method, &p, &r);
        }
        tgsim_params_free(&p);
        free(token);
    } else if (!strncmp(uri, "/file/bot", 9)) {
        const char *tok = uri + 9;
        const char *slash = strchr(tok, '/');
        char *token = tgsim_xstrndup(tok, slash ? (size_t)(slash - tok) : strlen(tok));
        if (!slash || !tgsim_api_token_ok(w, token)) {
            tgsim_api_error(&r, slash ? 401 : 404, slash ? "Unauthorized" : "Not Found", 0);
        } else {
            tgsim_file_serve(w, slash + 1, &r);
        }
        free(token);
    } else if (!strncmp(uri, "/control/", 9)) {
        tgsim_control_handle(w, ri->request_method, uri, ri->query_string, body.p, body.len, &r);
    } else if (!strcmp(uri, "/") || !strcmp(uri, "/index.html")) {
        r.status = 200;
        r.ctype = "text/html; charset=utf-8";
        tgsim_buf_put(&r.body, tgsim_www_index, tgsim_www_index_len);
    } else {
        r.status = 404;
        r.ctype = "text/plain";
        tgsim_buf_puts(&r.body, "Not Found\n");
    }
    tgsim_http_send(conn, &r, head);
    int status = r.status;
    tgsim_buf_free(&r.body);
    tgsim_buf_free(&body);
    return status;
}

static int tgsim_http_log(const struct mg_connection *conn, const char *message)
{
    (void)conn;
    TGSIM_WARN("civetweb", "message=\"%s\"", message);
    return 1;
}

void *tgsim_http_start(tgsim_world_t *w, int *port)
{
    tgsim_http_t *h = tgsim_xcalloc(1, sizeof *h);
    h->w = w;
    char threads[16], timeout[16];
    snprintf(threads, sizeof threads, "%d", w->cfg.threads);
    /* long polls hold a request up to 600 s; keep sockets open that long */
    snprintf(timeout, sizeof timeout, "%d", 660000);
    const char *opts[] = {
        "listening_ports", w->cfg.listen,
        "num_threads", threads,
        "request_timeout_ms", timeout,
        "enable_keep_alive", "yes",
        "keep_alive_timeout_ms", "30000",
        "tcp_nodelay", "1",
        NULL,
    };
    struct mg_callbacks cb;
    memset(&cb, 0, sizeof cb);
    cb.log_message = tgsim_http_log;
    h->ctx = mg_start(&cb, h, opts);
    if (!h->ctx) {
        TGSIM_ERROR("listen_failed", "listen=%s", w->cfg.listen);
        free(h);
        return NULL;
    }
    mg_set_request_handler(h->ctx, "**", tgsim_http_handler, h);
    struct mg_server_port ports[4];
    memset(ports, 0, sizeof ports);
    int n = mg_get_server_ports(h->ctx, 4, ports);
    *port = n > 0 ? ports[0].port : 0;
    return h;
}

void tgsim_http_stop(void *server)
{
    tgsim_http_t *h = server;
    if (!h) return;
    mg_stop(h->ctx);
    free(h);
}
