/* es_server.h — the HTTP front of extsim: one civetweb listener that serves
 * the control API and the three emulated services by path.
 *
 * Purpose: every request is read whole (body up to ES_BODY_MAX), recorded in
 * the journal (unless it is a /control/ request), checked against the fault
 * rules, and then handed to the service that owns its path:
 *   /control/…              es_control (never journaled, never faulted)
 *   /v1/…  /v2/…  /v3/… /v4/…   Ozon Seller API (ozon.c)
 *   /sms/…                  SMS.ru (smsru.c)
 *   /rest/…                 Bitrix24 incoming webhook (bitrix24.c)
 * Each reply is written with one mg_write call (headers and body together).
 *
 * Exports: es_req_t, es_service_t, ES_BODY_MAX, es_server_start,
 * es_server_stop, es_reply, es_reply_json, es_reply_text, es_header.
 *
 * Threads: es_server_start/stop from main; handlers run on civetweb worker
 * threads, one request per thread at a time.
 */
#ifndef EXTSIM_ES_SERVER_H
#define EXTSIM_ES_SERVER_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#define ES_BODY_MAX (8 * 1024 * 1024)

struct mg_connection;

typedef struct es_req {
    struct mg_connection *conn;
    const char *method;
    const char *path;        /* decoded path, no query */
    const char *query;       /* raw query string or NULL */
    const char *remote;      /* client IP */
    char *body;              /* NUL-terminated copy of the body */
    size_t body_len;
    int64_t journal_seq;     /* 0 for control requests */
    int status;              /* status answered (0 until es_reply) */
} es_req_t;

/* One emulated service: the paths it owns, its handler, and the body it
 * gives an injected fault that has none of its own. */
typedef struct es_service {
    const char *name;
    int (*owns)(const char *path);
    void (*handle)(es_req_t *req);
    /* malloc'd body for an injected `status`; *ctype set to its type */
    char *(*fault_body)(int status, const char **ctype);
} es_service_t;

/* Start listening on es_cfg.listen with es_cfg.threads workers. On success
 * returns 0 and writes the bound "host:port" into `bound`; on failure
 * returns -1 (the reason is logged). Call once, from main. */
int es_server_start(char *bound, size_t boundlen);

/* Stop accepting, wait for running handlers, free the listener. */
void es_server_stop(void);

/* Write one complete response: status line, Content-Type, Content-Length,
 * `extra_headers` (lines ending "\r\n", may be NULL), then the body — in one
 * write. Records the status in the journal. Returns 0, or -1 if the client
 * went away. A request is answered at most once; later calls are ignored. */
int es_reply(es_req_t *req, int status, const char *ctype, const char *body, size_t len,
             const char *extra_headers);

/* Serialise `obj` (ownership taken, may be NULL → "null") and reply with
 * application/json; charset=utf-8. */
int es_reply_json(es_req_t *req, int status, cJSON *obj);

/* Reply text/plain; charset=utf-8. */
int es_reply_text(es_req_t *req, int status, const char *text);

/* Value of request header `name` (case-insensitive) or NULL. */
const char *es_header(const es_req_t *req, const char *name);

#endif
