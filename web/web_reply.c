/* web_reply.c — writing responses and reading requests (see web_server.h).
 *
 * Purpose: every response is assembled in memory (status line, headers,
 * body) and written with a single mg_write, which on a tcp_nodelay socket
 * is one segment train instead of a header packet and a body packet.
 * Also the JSON error shape {"error":"...","field":"..."}, body reading
 * with a size limit and the request's deadline, and the decision to close
 * a connection whose request body was not read (civetweb would otherwise
 * drain it, at the client's pace, before serving the next request).
 *
 * Exports: web_reply, web_reply_json, web_reply_error, web_req_header,
 * web_read_body, web_read_body_or_reply, web_req_close, web_req_remaining_ms,
 * web_status_text.
 * Threads: civetweb worker threads (one request per thread at a time).
 */
#include "web_server.h"
#include "web_buf.h"
#include "web_conn.h"

#include "rt.h"

#include <civetweb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Contract: see web_server.h. */
const char *web_status_text(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Entity";
    case 426: return "Upgrade Required";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Unknown";
    }
}

/* Contract: see web_server.h. */
const char *web_req_header(web_req_t *req, const char *name)
{
    return mg_get_header(req->conn, name);
}

/* Contract: see web_server.h. */
void web_req_close(web_req_t *req)
{
    if (req->close) return;
    req->close = 1;
    mg_disable_connection_keep_alive(req->conn);
}

/* Contract: see web_server.h. */
int web_req_remaining_ms(const web_req_t *req)
{
    uint64_t now = rt_now_ms();
    return now >= req->deadline_ms ? 0 : (int)(req->deadline_ms - now);
}

/* Did the client announce a body (Content-Length > 0 or chunked)? */
static bool web_req_has_body(web_req_t *req)
{
    return (req->ri && req->ri->content_length > 0) ||
           mg_get_header(req->conn, "Transfer-Encoding") != NULL;
}

/* The Connection header civetweb's keep-alive decision implies: HTTP/1.0
 * keeps the connection only when asked; "close" is honoured; a connection
 * we close says so. */
static const char *web_connection_header(web_req_t *req)
{
    if (req->close) return "Connection: close\r\n";
    const char *conn = mg_get_header(req->conn, "Connection");
    const char *ver = req->ri && req->ri->http_version ? req->ri->http_version : "1.1";
    if (conn && strcasestr(conn, "close")) return "Connection: close\r\n";
    if (strcmp(ver, "1.1") != 0) {
        if (conn && strcasestr(conn, "keep-alive")) return "Connection: keep-alive\r\n";
        return "Connection: close\r\n";
    }
    return "";
}

/* Contract: see web_server.h. Headers longer than 2 KiB are refused
 * (RT_EINVAL, 500 is not attempted: the caller's bug). */
int web_reply(web_req_t *req, int status, const char *content_type,
              const char *extra_headers, const void *body, size_t len)
{
    if (req->status != 0) return RT_EINVAL;
    if (status < 100 || status > 599) status = 500;
    if (!req->body_read && web_req_has_body(req)) web_req_close(req);
    bool no_body = status == 204 || status == 304;
    bool send_body = !no_body && !req->head_only && len > 0;
    char stack[8192];
    int n = snprintf(stack, 2048,
                     "HTTP/1.1 %d %s\r\n"
                     "%s%s%s"
                     "Content-Length: %zu\r\n"
                     "X-Content-Type-Options: nosniff\r\n"
                     "%s%s\r\n",
                     status, web_status_text(status),
                     content_type ? "Content-Type: " : "", content_type ? content_type : "",
                     content_type ? "\r\n" : "",
                     no_body ? (size_t)0 : len,
                     web_connection_header(req), extra_headers ? extra_headers : "");
    if (n < 0 || n >= 2048) return RT_EINVAL;
    req->status = status;
    size_t hl = (size_t)n, total = hl + (send_body ? len : 0);
    char *out = stack;
    if (total > sizeof stack) {
        out = malloc(total);
        if (!out) return RT_ENOMEM;
        memcpy(out, stack, hl);
    }
    if (send_body) memcpy(out + hl, body, len);
    int w = mg_write(req->conn, out, total);
    if (out != stack) free(out);
    return w == (int)total ? RT_OK : RT_EIO;
}

/* Contract: see web_server.h. */
int web_reply_json(web_req_t *req, int status, const char *json)
{
    return web_reply(req, status, "application/json", "Cache-Control: no-store\r\n",
                     json, strlen(json));
}

/* Contract: see web_server.h. */
int web_reply_error(web_req_t *req, int status, const char *error, const char *field)
{
    web_buf_t b = WEB_BUF_INIT;
    web_buf_append(&b, "{\"error\":\"", 10);
    web_buf_json_str(&b, error ? error : "error");
    if (field) {
        web_buf_append(&b, "\",\"field\":\"", 11);
        web_buf_json_str(&b, field);
    }
    web_buf_append(&b, "\"}", 2);
    int rc;
    if (b.oom) {
        static const char fallback[] = "{\"error\":\"out of memory\"}";
        rc = web_reply(req, 500, "application/json", NULL, fallback, sizeof fallback - 1);
    } else {
        rc = web_reply(req, status, "application/json", "Cache-Control: no-store\r\n", b.p, b.len);
    }
    web_buf_free(&b);
    return rc;
}

/* Contract: see web_server.h. */
int web_read_body(web_req_t *req, size_t max, char **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    long long cl = req->ri ? req->ri->content_length : -1;
    if (cl > 0 && (unsigned long long)cl > max) {
        web_req_close(req);
        return RT_EFULL;
    }
    /* read at most max + 1 bytes: one more than allowed proves overflow */
    size_t limit = max + 1;
    size_t cap = cl > 0 ? (size_t)cl + 1 : 4096;
    if (cap > limit + 1) cap = limit + 1;
    char *buf = malloc(cap);
    if (!buf) return RT_ENOMEM;
    size_t n = 0;
    int rc = RT_OK;
    /* civetweb's read loop returns only when it has all it asked for,
     * however slowly the bytes come: the guard ends it at the deadline */
    web_conn_guard_t guard;
    web_conn_guard_begin(&guard, req->conn, req->deadline_ms);
    for (;;) {
        if (rt_now_ms() >= req->deadline_ms) { rc = RT_ETIMEDOUT; break; }
        if (n == cap - 1) {              /* full: n <= max here, so cap <= limit */
            size_t ncap = cap * 2 > limit + 1 ? limit + 1 : cap * 2;
            char *nb = realloc(buf, ncap);
            if (!nb) { rc = RT_ENOMEM; break; }
            buf = nb;
            cap = ncap;
        }
        int r = mg_read(req->conn, buf + n, cap - 1 - n);
        if (r < 0) { rc = RT_EIO; break; }
        if (r == 0) break;
        n += (size_t)r;
        if (n > max) { rc = RT_EFULL; break; }
        if (cl >= 0 && (long long)n == cl) break;   /* all there: no empty read */
    }
    bool fired = web_conn_guard_end(&guard);
    if (fired) web_req_close(req);   /* its reading side is shut: no next request */
    if (rc == RT_OK && cl >= 0 && (long long)n != cl) rc = fired ? RT_ETIMEDOUT : RT_EIO;
    if (rc == RT_EIO && fired) rc = RT_ETIMEDOUT;
    if (rc != RT_OK) {
        free(buf);
        web_req_close(req);
        return rc;
    }
    req->body_read = 1;
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return RT_OK;
}

/* Contract: see web_server.h. */
bool web_read_body_or_reply(web_req_t *req, size_t max, char **out, size_t *len)
{
    int rc = web_read_body(req, max, out, len);
    if (rc == RT_OK) return true;
    if (rc == RT_EFULL) web_reply_error(req, 413, "body too large", "body");
    else if (rc == RT_ETIMEDOUT) web_reply_error(req, 408, "body not received in time", "body");
    else if (rc == RT_ENOMEM) web_reply_error(req, 500, "out of memory", NULL);
    else web_reply_error(req, 400, "could not read the body", "body");
    return false;
}
