/* es_server.c — civetweb listener, request intake, journal, faults and
 * dispatch (see es_server.h).
 *
 * Threads: es_server_start/stop on main; es_server_handler on civetweb
 * workers.
 */
#include "es_server.h"

#include "bitrix24.h"
#include "es_control.h"
#include "es_fault.h"
#include "es_journal.h"
#include "es_json.h"
#include "es_state.h"
#include "ozon.h"
#include "smsru.h"
#include "yookassa.h"

#include <civetweb.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static struct mg_context *es_ctx;

static const es_service_t *const es_services[] = {&ozon_service, &smsru_service, &bitrix24_service, &yookassa_service};

const char *es_header(const es_req_t *req, const char *name)
{
    return mg_get_header(req->conn, name);
}

int es_reply(es_req_t *req, int status, const char *ctype, const char *body, size_t len,
             const char *extra_headers)
{
    if (req->status) return 0;
    req->status = status;
    if (req->journal_seq) {
        es_lock();
        es_journal_set_status(req->journal_seq, status);
        es_unlock();
    }
    char head[1024];
    int hn = snprintf(head, sizeof head,
                      "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                      "Cache-Control: no-store\r\n",
                      status, mg_get_response_code_text(req->conn, status), ctype, len);
    if (hn < 0 || (size_t)hn >= sizeof head) return -1;
    size_t xl = extra_headers ? strlen(extra_headers) : 0;
    size_t total = (size_t)hn + xl + 2 + len;
    char *buf = malloc(total);
    if (!buf) return -1;
    memcpy(buf, head, (size_t)hn);
    if (xl) memcpy(buf + hn, extra_headers, xl);
    memcpy(buf + (size_t)hn + xl, "\r\n", 2);
    if (len) memcpy(buf + (size_t)hn + xl + 2, body, len);
    int w = mg_write(req->conn, buf, total);
    free(buf);
    return w == (int)total ? 0 : -1;
}

int es_reply_json(es_req_t *req, int status, cJSON *obj)
{
    char *s = obj ? es_json_print_owned(obj) : NULL;
    int rc = es_reply(req, status, "application/json; charset=utf-8", s ? s : "null",
                      s ? strlen(s) : 4, NULL);
    free(s);
    return rc;
}

int es_reply_text(es_req_t *req, int status, const char *text)
{
    return es_reply(req, status, "text/plain; charset=utf-8", text, strlen(text), NULL);
}

/* Read the whole body into a NUL-terminated buffer. Returns 0, -1 on a read
 * error, -2 when it exceeds ES_BODY_MAX. */
static int es_read_body(struct mg_connection *conn, char **out, size_t *outlen)
{
    const struct mg_request_info *ri = mg_get_request_info(conn);
    size_t cap = ri->content_length > 0 ? (size_t)ri->content_length + 1 : 4096, len = 0;
    if (ri->content_length > ES_BODY_MAX) return -2;
    char *buf = malloc(cap);
    if (!buf) return -1;
    for (;;) {
        if (len + 1 >= cap) {
            if (cap > ES_BODY_MAX) { free(buf); return -2; }
            char *nb = realloc(buf, cap * 2);
            if (!nb) { free(buf); return -1; }
            buf = nb;
            cap *= 2;
        }
        int n = mg_read(conn, buf + len, cap - len - 1);
        if (n < 0) { free(buf); return -1; }
        if (n == 0) break;
        len += (size_t)n;
    }
    buf[len] = '\0';
    *out = buf;
    *outlen = len;
    return 0;
}

static void es_sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

static cJSON *es_headers_json(const struct mg_request_info *ri)
{
    cJSON *h = cJSON_CreateObject();
    for (int i = 0; i < ri->num_headers; i++)
        if (ri->http_headers[i].name && ri->http_headers[i].value &&
            !cJSON_GetObjectItemCaseSensitive(h, ri->http_headers[i].name))
            cJSON_AddStringToObject(h, ri->http_headers[i].name, ri->http_headers[i].value);
    return h;
}

static int es_server_handler(struct mg_connection *conn, void *cbdata)
{
    (void)cbdata;
    const struct mg_request_info *ri = mg_get_request_info(conn);
    es_req_t req = {.conn = conn, .method = ri->request_method,
                    .path = ri->local_uri ? ri->local_uri : "/", .query = ri->query_string,
                    .remote = ri->remote_addr};
    int rb = es_read_body(conn, &req.body, &req.body_len);
    if (rb == -2) {
        es_reply_text(&req, 413, "request body too large\n");
        return 413;
    }
    if (rb < 0) return 400; /* the client went away mid-body; nothing to answer */

    if (strncmp(req.path, "/control/", 9) == 0 || strcmp(req.path, "/control") == 0) {
        es_control_handle(&req);
        free(req.body);
        return req.status ? req.status : 500;
    }

    const es_service_t *svc = NULL;
    for (size_t i = 0; i < sizeof es_services / sizeof es_services[0]; i++)
        if (es_services[i]->owns(req.path)) { svc = es_services[i]; break; }

    es_fault_t fault;
    es_lock();
    req.journal_seq = es_journal_add(req.method, req.path, req.query, req.remote,
                                     svc ? svc->name : "none", es_headers_json(ri),
                                     req.body, req.body_len);
    int faulted = es_fault_take(req.method, req.path, &fault);
    es_unlock();

    if (faulted) {
        if (fault.delay_ms > 0) es_sleep_ms(fault.delay_ms);
        if (fault.status > 0) {
            const char *ctype = fault.content_type;
            char *body = fault.has_body ? fault.body : NULL, *own = NULL;
            if (!fault.has_body && svc && svc->fault_body) body = own = svc->fault_body(fault.status, &ctype);
            es_reply(&req, fault.status, ctype, body ? body : "", body ? strlen(body) : 0, fault.headers);
            ES_LOG_INFO("fault_injected", "method=%s path=%s status=%d", req.method, req.path, fault.status);
            free(own);
        }
        es_fault_release(&fault);
    }
    if (!req.status) {
        if (svc) svc->handle(&req);
        else {
            cJSON *e = cJSON_CreateObject();
            cJSON_AddStringToObject(e, "error", "not_found");
            cJSON_AddStringToObject(e, "message", "extsim serves Ozon at /v1../v4.., SMS.ru at /sms/, "
                                                  "Bitrix24 at /rest/ and its control API at /control/");
            es_reply_json(&req, 404, e);
        }
    }
    if (!req.status) es_reply_text(&req, 500, "handler gave no answer\n");
    free(req.body);
    return req.status;
}

static int es_log_message(const struct mg_connection *conn, const char *message)
{
    (void)conn;
    ES_LOG_WARN("civetweb", "message=\"%s\"", message);
    return 1;
}

int es_server_start(char *bound, size_t boundlen)
{
    char threads[16];
    snprintf(threads, sizeof threads, "%d", es_cfg.threads > 0 ? es_cfg.threads : 32);
    const char *opts[] = {
        "listening_ports", es_cfg.listen,
        "num_threads", threads,
        "tcp_nodelay", "1",
        "enable_keep_alive", "yes",
        "keep_alive_timeout_ms", "30000",
        "request_timeout_ms", "120000",
        NULL};
    struct mg_callbacks cb;
    memset(&cb, 0, sizeof cb);
    cb.log_message = es_log_message;
    es_ctx = mg_start(&cb, NULL, opts);
    if (!es_ctx) {
        ES_LOG_ERROR("listen_failed", "listen=%s", es_cfg.listen);
        return -1;
    }
    mg_set_request_handler(es_ctx, "/", es_server_handler, NULL);
    struct mg_server_port ports[4];
    int n = mg_get_server_ports(es_ctx, 4, ports);
    /* The host part is whatever was asked for; the port is the bound one. */
    char host[128];
    snprintf(host, sizeof host, "%s", es_cfg.listen);
    char *colon = strrchr(host, ':');
    if (colon) *colon = '\0';
    else snprintf(host, sizeof host, "0.0.0.0");
    snprintf(bound, boundlen, "%s:%d", host, n > 0 ? ports[0].port : 0);
    return 0;
}

void es_server_stop(void)
{
    if (es_ctx) mg_stop(es_ctx);
    es_ctx = NULL;
}
