/* es_fault.c — fault and latency rules (see es_fault.h).
 *
 * Threads: callers hold es_lock.
 */
#include "es_fault.h"

#include "es_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct es_rule {
    es_fault_t f;
    char path[256];
    int prefix;          /* path is a prefix ("…*") */
    char method[16];     /* empty = any */
    int remaining;       /* -1 = until cleared */
    struct es_rule *next;
} es_rule_t;

static es_rule_t *es_rules;
static int es_rule_next_id = 1;

int es_fault_add(const cJSON *spec, char *err, size_t errlen)
{
    const char *path = es_json_str(spec, "path");
    if (!path || !path[0] || strlen(path) >= 256) {
        snprintf(err, errlen, "path: a string like \"/v3/posting/fbs/get\" or \"/v2/*\" is required");
        return -1;
    }
    long long count = 1, status = 0, delay = 0;
    if (cJSON_GetObjectItemCaseSensitive(spec, "count") && (es_json_int(spec, "count", &count) || count == 0 || count < -1)) {
        snprintf(err, errlen, "count: a positive integer or -1 (until cleared)");
        return -1;
    }
    if (cJSON_GetObjectItemCaseSensitive(spec, "status") &&
        (es_json_int(spec, "status", &status) || (status != 0 && (status < 100 || status > 599)))) {
        snprintf(err, errlen, "status: an HTTP status 100..599 or 0 (delay only)");
        return -1;
    }
    if (cJSON_GetObjectItemCaseSensitive(spec, "delay_ms") &&
        (es_json_int(spec, "delay_ms", &delay) || delay < 0 || delay > 120000)) {
        snprintf(err, errlen, "delay_ms: 0..120000");
        return -1;
    }
    if (status == 0 && delay == 0) {
        snprintf(err, errlen, "status or delay_ms: a rule must answer a status or add a delay");
        return -1;
    }
    const char *method = es_json_str(spec, "method");
    const cJSON *headers = cJSON_GetObjectItemCaseSensitive(spec, "headers");
    if (headers && !cJSON_IsObject(headers)) {
        snprintf(err, errlen, "headers: an object of name -> string");
        return -1;
    }
    es_rule_t *r = calloc(1, sizeof *r);
    if (!r) { snprintf(err, errlen, "out of memory"); return -1; }
    size_t pl = strlen(path);
    r->prefix = path[pl - 1] == '*';
    snprintf(r->path, sizeof r->path, "%.*s", (int)(r->prefix ? pl - 1 : pl), path);
    snprintf(r->method, sizeof r->method, "%s", method ? method : "");
    r->remaining = (int)count;
    r->f.id = es_rule_next_id++;
    r->f.status = (int)status;
    r->f.delay_ms = (int)delay;
    const cJSON *body = cJSON_GetObjectItemCaseSensitive(spec, "body");
    if (cJSON_IsString(body)) { r->f.body = strdup(body->valuestring); r->f.has_body = 1; }
    else if (body && !cJSON_IsNull(body)) { r->f.body = es_json_print(body); r->f.has_body = 1; }
    const char *ct = es_json_str(spec, "content_type");
    snprintf(r->f.content_type, sizeof r->f.content_type, "%s", ct ? ct : "application/json");
    if (headers) {
        size_t cap = 1, len = 0;
        for (cJSON *h = headers->child; h; h = h->next)
            if (cJSON_IsString(h)) cap += strlen(h->string) + strlen(h->valuestring) + 4;
        r->f.headers = calloc(1, cap);
        for (cJSON *h = headers->child; r->f.headers && h; h = h->next)
            if (cJSON_IsString(h) && !strpbrk(h->string, "\r\n:") && !strpbrk(h->valuestring, "\r\n"))
                len += (size_t)snprintf(r->f.headers + len, cap - len, "%s: %s\r\n", h->string, h->valuestring);
    }
    es_rule_t **tail = &es_rules;
    while (*tail) tail = &(*tail)->next;
    *tail = r;
    return r->f.id;
}

static void es_rule_free(es_rule_t *r)
{
    free(r->f.body);
    free(r->f.headers);
    free(r);
}

int es_fault_take(const char *method, const char *path, es_fault_t *out)
{
    for (es_rule_t **pp = &es_rules; *pp; pp = &(*pp)->next) {
        es_rule_t *r = *pp;
        if (r->method[0] && strcasecmp(r->method, method) != 0) continue;
        if (r->prefix ? strncmp(path, r->path, strlen(r->path)) != 0 : strcmp(path, r->path) != 0)
            continue;
        *out = r->f;
        out->body = r->f.body ? strdup(r->f.body) : NULL;
        out->headers = r->f.headers ? strdup(r->f.headers) : NULL;
        if (r->remaining > 0 && --r->remaining == 0) {
            *pp = r->next;
            es_rule_free(r);
        }
        return 1;
    }
    return 0;
}

void es_fault_release(es_fault_t *f)
{
    free(f->body);
    free(f->headers);
    f->body = f->headers = NULL;
}

cJSON *es_fault_list(void)
{
    cJSON *arr = cJSON_CreateArray();
    for (es_rule_t *r = es_rules; r; r = r->next) {
        cJSON *o = cJSON_CreateObject();
        char path[300];
        snprintf(path, sizeof path, "%s%s", r->path, r->prefix ? "*" : "");
        cJSON_AddNumberToObject(o, "id", r->f.id);
        cJSON_AddStringToObject(o, "path", path);
        cJSON_AddStringToObject(o, "method", r->method);
        cJSON_AddNumberToObject(o, "remaining", r->remaining);
        cJSON_AddNumberToObject(o, "status", r->f.status);
        cJSON_AddNumberToObject(o, "delay_ms", r->f.delay_ms);
        if (r->f.has_body) cJSON_AddStringToObject(o, "body", r->f.body ? r->f.body : "");
        cJSON_AddItemToArray(arr, o);
    }
    cJSON *out = cJSON_CreateObject();
    cJSON_AddItemToObject(out, "faults", arr);
    return out;
}

void es_fault_clear(void)
{
    while (es_rules) {
        es_rule_t *r = es_rules;
        es_rules = r->next;
        es_rule_free(r);
    }
}
