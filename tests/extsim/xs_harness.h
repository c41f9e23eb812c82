/* xs_harness.h — test helpers for extsim: run the emulator as a child
 * process on a free port, talk HTTP to it with libcurl, parse JSON replies.
 *
 * Purpose: every extsim test executable starts one real extsim (the binary
 * named by env EXTSIM_BIN, set by tests/extsim/meson.build) with
 * --listen 127.0.0.1:0, learns the port from its "listening on" line, and
 * sends real HTTP over loopback.
 *
 * Exports: xs_server_t, xs_resp_t, xs_start, xs_stop, xs_run_exit, xs_http,
 * xs_ozon, xs_ctl, xs_resp_free, xs_get (JSON path lookup), xs_str, xs_num,
 * XS_OZON_CLIENT_ID, XS_OZON_API_KEY, XS_SMS_API_ID, XS_BITRIX_PATH.
 *
 * Threads: the test's main thread (xs_http is also safe from other threads).
 */
#ifndef PLUS7_XS_HARNESS_H
#define PLUS7_XS_HARNESS_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <sys/types.h>

/* extsim's defaults (tools/extsim/main.c, docs/extsim.md) */
#define XS_OZON_CLIENT_ID "123456"
#define XS_OZON_API_KEY "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
#define XS_SMS_API_ID "EXTSIM-SMS-API-ID"
#define XS_BITRIX_PATH "/rest/1/extsimwebhook001/"

typedef struct xs_server {
    pid_t pid;
    int port;
    char base[64];       /* "http://127.0.0.1:PORT" */
} xs_server_t;

typedef struct xs_resp {
    long status;         /* HTTP status, 0 when the request failed */
    char *body;          /* NUL-terminated */
    size_t len;
    char *headers;       /* raw response header block */
    cJSON *json;         /* body parsed, or NULL */
    double seconds;      /* total time of the request */
} xs_resp_t;

/* Start extsim with --listen 127.0.0.1:0 plus `args` (NULL-terminated, may
 * be NULL). Returns 0 when it printed its listening line within 20 s. */
int xs_start(xs_server_t *s, const char *const *args);

/* SIGTERM the child and wait (up to 20 s). Returns its exit status (0..255),
 * 128+signal if it died of a signal, or -1 on timeout (then it is killed). */
int xs_stop(xs_server_t *s);

/* Run extsim with `args` (NULL-terminated) to completion with stdout and
 * stderr to /dev/null; returns its exit status or -1. */
int xs_run_exit(const char *const *args);

/* One HTTP request. `headers` is NULL-terminated ("Name: value") or NULL;
 * `body` NULL sends none. Returns 0 when an HTTP answer arrived. */
int xs_http(const xs_server_t *s, const char *method, const char *path, const char *const *headers,
            const char *body, xs_resp_t *out);

/* POST JSON to an Ozon path with the default Client-Id and Api-Key. */
int xs_ozon(const xs_server_t *s, const char *path, const char *json, xs_resp_t *out);

/* A control API call with a JSON body (or NULL). */
int xs_ctl(const xs_server_t *s, const char *method, const char *path, const char *json, xs_resp_t *out);

void xs_resp_free(xs_resp_t *r);

/* Walk a JSON path like "result.customer.phone" or "postings.0.status"
 * (numbers index arrays). NULL when absent. */
const cJSON *xs_get(const cJSON *root, const char *path);
/* String at path, or NULL. */
const char *xs_str(const cJSON *root, const char *path);
/* Number at path, or -999999 when absent/not a number. */
double xs_num(const cJSON *root, const char *path);

#endif
