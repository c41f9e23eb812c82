/* ozon_api.h — the Ozon Seller API's shapes as the gateway uses them (pure):
 * request bodies, the class of an answer, and the readers of the three
 * replies (/v3/posting/fbs/get, /v4/posting/fbs/list, /v2/fbs/posting/<action>).
 *
 * Tolerance (reference/api-facts.md A.1, A.5, A.6): errors come as the
 * grpc-gateway rpcStatus {"code":5,"message":"…","details":[]} or the
 * legacy envelope {"error":{"code":"NOT_FOUND_ERROR","message":"…"}}; the
 * v4 list carries cursor/has_next/postings at the top level (the v3
 * {"result":{…}} wrapper is read too); per-posting push results carry
 * "error" as "" or [] (or a non-empty string/array when refused); unknown
 * fields are ignored everywhere.
 *
 * Exports: ozon_class_t, ozon_class_name, ozon_class_retryable,
 * ozon_error_t, ozon_classify, ozon_body_fetch, ozon_body_push,
 * ozon_list_req_t, ozon_body_list, ozon_fetch_result, ozon_list_page_t,
 * ozon_list_parse, ozon_list_page_free, ozon_push_result_t, ozon_push_parse,
 * ozon_rfc3339.
 * Threads: any (pure).
 */
#ifndef PLUS7_OZON_API_H
#define PLUS7_OZON_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What an answer means for the caller. */
typedef enum ozon_class {
    OZON_OK = 0,        /* 2xx */
    OZON_NOT_FOUND,     /* 404, rpcStatus code 5, legacy NOT_FOUND_ERROR */
    OZON_AUTH,          /* 401/403: Client-Id/Api-Key wrong, key deactivated, company blocked */
    OZON_RATE,          /* 429: over the per-second limit */
    OZON_SERVER,        /* 5xx */
    OZON_NETWORK,       /* no answer: refused, reset, timeout */
    OZON_CLIENT,        /* another 4xx: our request was refused as malformed */
    OZON_BAD_REPLY,     /* 2xx whose body is not the JSON expected */
    OZON_CLASS_N
} ozon_class_t;

/* "ok", "not_found", "auth", "rate_limited", "server", "network", "client",
 * "bad_reply" — the label used in logs and metrics. */
const char *ozon_class_name(ozon_class_t c);

/* Whether a request that got this class may succeed when repeated later
 * (rate limit, server error, network error, unreadable reply). */
bool ozon_class_retryable(ozon_class_t c);

#define OZON_MSG_MAX 160

typedef struct ozon_error {
    ozon_class_t cls;
    long status;                 /* HTTP status, 0 without an answer */
    char code[32];               /* rpcStatus code as digits, or the legacy code; "" */
    char message[OZON_MSG_MAX];  /* the server's message (or the transport's), made
                                    log-safe: no quotes, backslashes or control bytes */
} ozon_error_t;

/* Classify one exchange: `rc` is rt_http_result_t.rc (RT_OK when an HTTP
 * answer arrived), `status` its HTTP status, `body`/`len` its body (may be
 * NULL/0), `transport_error` the transport's reason when rc != RT_OK (may be
 * NULL). Fills *err (always) and returns err->cls. A 2xx answer is OZON_OK
 * here; the reply readers below decide whether its body is usable. */
ozon_class_t ozon_classify(int rc, long status, const char *body, size_t len,
                           const char *transport_error, ozon_error_t *err);

/* ---- request bodies (malloc'd JSON; NULL on ENOMEM) ------------------------ */

/* /v3/posting/fbs/get: {"posting_number":…, "with":{every block false}}. */
char *ozon_body_fetch(const char *posting);

/* /v2/fbs/posting/<action>: {"posting_number":[posting]}. */
char *ozon_body_push(const char *posting);

typedef struct ozon_list_req {
    int64_t since_ms, to_ms;           /* filter.since / filter.to (Unix ms) */
    int64_t changed_from_ms;           /* filter.last_changed_status_date.from; 0 = no such filter */
    int64_t changed_to_ms;             /* .to (used with changed_from_ms) */
    const char *statuses;              /* comma list, NULL/"" = any */
    const char *delivery_methods;      /* comma list of numeric ids, NULL/"" = any */
    const char *cursor;                /* NULL/"" = the first page */
    int limit;                         /* 1..100 */
} ozon_list_req_t;

/* /v4/posting/fbs/list: {"sort_dir":"asc","filter":{…},"limit":…,"cursor":…,
 * "with":{…false}}. Delivery-method ids are written as JSON integers
 * verbatim (they exceed double precision). */
char *ozon_body_list(const ozon_list_req_t *q);

/* RFC 3339 UTC with milliseconds ("2026-04-01T19:47:39.878Z") into out (≥ 25 bytes). */
void ozon_rfc3339(int64_t unix_ms, char *out, size_t outsz);

/* ---- replies ------------------------------------------------------------------ */

/* /v3/posting/fbs/get: the "result" object as compact JSON (malloc'd, in
 * *out). RT_OK, RT_EINVAL (no object "result" carrying a posting_number),
 * RT_ENOMEM. */
int ozon_fetch_result(const char *body, size_t len, char **out);

typedef struct ozon_list_page {
    int n;                       /* usable postings */
    char **json;                 /* n compact JSON posting objects */
    char (*number)[32];          /* their posting numbers */
    int skipped;                 /* elements without a valid posting_number */
    char *cursor;                /* "" when absent */
    bool has_next;
} ozon_list_page_t;

/* Read a list page. RT_OK (free with ozon_list_page_free), RT_EINVAL (no
 * postings array), RT_ENOMEM. */
int ozon_list_parse(const char *body, size_t len, ozon_list_page_t *out);
void ozon_list_page_free(ozon_list_page_t *p);

typedef struct ozon_push_result {
    bool found;                  /* an entry for the posting was there */
    bool ok;                     /* Ozon accepted the transition */
    char error[OZON_MSG_MAX];    /* the refusal ("ACTION_NOT_AVAILABLE"), log-safe; "" */
} ozon_push_result_t;

/* Read a status-method reply {"result":[{"error":""|[]|…,"posting_number",
 * "result":bool}]} for `posting`. RT_OK (see *out) or RT_EINVAL (no result
 * list). A single entry without posting_number counts as the posting's. */
int ozon_push_parse(const char *body, size_t len, const char *posting, ozon_push_result_t *out);

#endif
