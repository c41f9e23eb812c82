/* es_fault.h — fault and latency injection for the emulated services.
 *
 * Purpose: a test says "the next 2 requests to /v3/posting/fbs/get answer
 * 500 with this body" or "every request under /sms/ waits 300 ms first". A
 * fault is matched by path (exact, or a prefix when the pattern ends in '*';
 * "*" alone matches every path) and optionally by method; the first matching
 * rule, in the order added, is used and its count decremented. A rule with
 * status 0 only delays and then lets the request through.
 *
 * Exports: es_fault_t, es_fault_add, es_fault_take, es_fault_release,
 * es_fault_list, es_fault_clear.
 *
 * Threads: every function must be called with es_lock held.
 */
#ifndef EXTSIM_ES_FAULT_H
#define EXTSIM_ES_FAULT_H

#include <cjson/cJSON.h>
#include <stddef.h>

typedef struct es_fault {
    int id;
    int status;          /* HTTP status to answer; 0 = pass through */
    int delay_ms;        /* sleep before answering or passing through */
    int has_body;        /* 0: the service renders its own error body */
    char *body;          /* owned copy (es_fault_release) */
    char content_type[96];
    char *headers;       /* extra header lines "Name: value\r\n…" or NULL */
} es_fault_t;

/* Add a rule from a JSON spec {"path", "method"?, "count"? (default 1, -1 =
 * until cleared), "status"? (default 0), "body"? (string, or any JSON which is
 * sent serialised), "content_type"?, "headers"? {name: value}, "delay_ms"?}.
 * Returns the rule id (> 0), or -1 with a message in err. */
int es_fault_add(const cJSON *spec, char *err, size_t errlen);

/* If a rule matches (method, path), consume one use and copy it into *out
 * (release with es_fault_release). Returns 1 when matched, 0 otherwise. */
int es_fault_take(const char *method, const char *path, es_fault_t *out);

void es_fault_release(es_fault_t *f);

/* {"faults":[{id, path, method, remaining, status, delay_ms, body?}]} */
cJSON *es_fault_list(void);

/* Remove every rule. */
void es_fault_clear(void);

#endif
