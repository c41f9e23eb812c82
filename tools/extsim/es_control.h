/* es_control.h — extsim's control API under /control/ (JSON in, JSON out).
 *
 * Purpose: tests and ./dev drive the emulators here: reset, read the
 * request journal, add faults and delays, and reach each service's own
 * control routes (/control/ozon/…, /control/sms/…, /control/bitrix/…).
 * docs/extsim.md lists every route. Control requests are never journaled,
 * faulted or rate limited.
 *
 * Exports: es_control_handle and helpers for the services' control
 * handlers: es_control_body, es_control_error, es_control_ok,
 * es_control_query_int, es_control_query_str.
 *
 * Threads: civetweb workers.
 */
#ifndef EXTSIM_ES_CONTROL_H
#define EXTSIM_ES_CONTROL_H

#include "es_server.h"

#include <cjson/cJSON.h>

/* Answer one /control/… request. */
void es_control_handle(es_req_t *req);

/* The request body parsed as JSON (an empty body is {}). On a parse error
 * replies 400 {"error": "…"} and returns NULL. Caller frees the result. */
cJSON *es_control_body(es_req_t *req);

/* Reply `status` with {"error": "<formatted message>"}. */
void es_control_error(es_req_t *req, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Reply 200 with `obj` (ownership taken). */
void es_control_ok(es_req_t *req, cJSON *obj);

/* Query parameter `name` as an integer, or `dflt` when absent/unreadable. */
long long es_control_query_int(const es_req_t *req, const char *name, long long dflt);

/* Query parameter `name` decoded into `out`; returns out, or NULL when
 * absent. */
const char *es_control_query_str(const es_req_t *req, const char *name, char *out, size_t outlen);

#endif
