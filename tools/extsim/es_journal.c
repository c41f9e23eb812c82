/* es_journal.c — bounded ring of received requests (see es_journal.h).
 *
 * Threads: callers hold es_lock.
 */
#include "es_journal.h"

#include "es_json.h"
#include "es_state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct es_entry {
    int64_t seq;
    int64_t at_ms;
    char method[16];
    char *path;
    char *query;
    char remote[64];
    char service[16];
    cJSON *headers;
    char *body;
    size_t body_len;
    int status;
} es_entry_t;

static es_entry_t es_ring[ES_JOURNAL_CAP];
static int64_t es_next_seq = 1;  /* seq of the next entry */
static int64_t es_first_seq = 1; /* oldest seq still held */

static void es_entry_free(es_entry_t *e)
{
    free(e->path);
    free(e->query);
    free(e->body);
    cJSON_Delete(e->headers);
    memset(e, 0, sizeof *e);
}

static char *es_dup(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* Copy `len` bytes replacing invalid UTF-8 and NUL bytes with '?', so the
 * body can travel inside a JSON string. */
static char *es_utf8_copy(const char *s, size_t len)
{
    char *o = malloc(len + 1);
    if (!o) return NULL;
    size_t i = 0, j = 0;
    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        int n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        int ok = n > 0 && c != 0 && i + (size_t)n <= len;
        for (int k = 1; ok && k < n; k++)
            if (((unsigned char)s[i + (size_t)k] >> 6) != 2) ok = 0;
        if (!ok) { o[j++] = '?'; i++; continue; }
        memcpy(o + j, s + i, (size_t)n);
        i += (size_t)n;
        j += (size_t)n;
    }
    o[j] = '\0';
    return o;
}

int64_t es_journal_add(const char *method, const char *path, const char *query,
                       const char *remote, const char *service, cJSON *headers,
                       const char *body, size_t body_len)
{
    int64_t seq = es_next_seq++;
    es_entry_t *e = &es_ring[seq % ES_JOURNAL_CAP];
    if (e->seq) es_entry_free(e);
    if (seq - es_first_seq >= ES_JOURNAL_CAP) es_first_seq = seq - ES_JOURNAL_CAP + 1;
    e->seq = seq;
    e->at_ms = es_now_ms();
    snprintf(e->method, sizeof e->method, "%s", method ? method : "");
    e->path = es_dup(path ? path : "");
    e->query = es_dup(query);
    snprintf(e->remote, sizeof e->remote, "%s", remote ? remote : "");
    snprintf(e->service, sizeof e->service, "%s", service ? service : "");
    e->headers = headers;
    /* keep at most ES_JOURNAL_BODY_MAX bytes of each body */
    e->body = es_utf8_copy(body ? body : "", body ? (body_len > ES_JOURNAL_BODY_MAX ? ES_JOURNAL_BODY_MAX : body_len) : 0);
    e->body_len = body_len;
    return seq;
}

void es_journal_set_status(int64_t seq, int status)
{
    if (seq < es_first_seq || seq >= es_next_seq) return;
    es_entry_t *e = &es_ring[seq % ES_JOURNAL_CAP];
    if (e->seq == seq) e->status = status;
}

static cJSON *es_entry_json(const es_entry_t *e)
{
    cJSON *o = cJSON_CreateObject();
    char at[32];
    es_iso_time(e->at_ms, at);
    cJSON_AddNumberToObject(o, "seq", (double)e->seq);
    cJSON_AddStringToObject(o, "at", at);
    cJSON_AddStringToObject(o, "method", e->method);
    cJSON_AddStringToObject(o, "path", e->path ? e->path : "");
    if (e->query) cJSON_AddStringToObject(o, "query", e->query);
    else cJSON_AddNullToObject(o, "query");
    cJSON_AddStringToObject(o, "remote", e->remote);
    cJSON_AddStringToObject(o, "service", e->service);
    cJSON_AddItemToObject(o, "headers", e->headers ? cJSON_Duplicate(e->headers, 1) : cJSON_CreateObject());
    cJSON_AddStringToObject(o, "body", e->body ? e->body : "");
    cJSON_AddNumberToObject(o, "body_len", (double)e->body_len);
    cJSON *parsed = e->body && e->body[0] ? cJSON_Parse(e->body) : NULL;
    if (parsed) cJSON_AddItemToObject(o, "json", parsed);
    else cJSON_AddNullToObject(o, "json");
    const cJSON *ct = es_json_get_ci(e->headers, "Content-Type");
    if (cJSON_IsString(ct) && strncasecmp(ct->valuestring, "application/x-www-form-urlencoded", 33) == 0) {
        cJSON *form = cJSON_CreateObject();
        es_form_parse(e->body, strlen(e->body), form);
        cJSON_AddItemToObject(o, "form", form);
    } else cJSON_AddNullToObject(o, "form");
    cJSON_AddNumberToObject(o, "status", e->status);
    return o;
}

cJSON *es_journal_query(const char *path, const char *prefix, const char *service,
                        const char *method, int64_t since, int limit)
{
    /* Walk newest to oldest collecting up to `limit`, then reverse. */
    cJSON *list = cJSON_CreateArray();
    int n = 0;
    for (int64_t s = es_next_seq - 1; s >= es_first_seq && s > since; s--) {
        const es_entry_t *e = &es_ring[s % ES_JOURNAL_CAP];
        if (e->seq != s) continue;
        if (path && *path && strcmp(e->path, path) != 0) continue;
        if (prefix && *prefix && strncmp(e->path, prefix, strlen(prefix)) != 0) continue;
        if (service && *service && strcmp(e->service, service) != 0) continue;
        if (method && *method && strcasecmp(e->method, method) != 0) continue;
        cJSON_InsertItemInArray(list, 0, es_entry_json(e));
        if (limit > 0 && ++n >= limit) break;
    }
    cJSON *out = cJSON_CreateObject();
    cJSON_AddNumberToObject(out, "count", cJSON_GetArraySize(list));
    cJSON_AddItemToObject(out, "requests", list);
    return out;
}

void es_journal_clear(void)
{
    for (int i = 0; i < ES_JOURNAL_CAP; i++)
        if (es_ring[i].seq) es_entry_free(&es_ring[i]);
    es_next_seq = 1;
    es_first_seq = 1;
}

void es_journal_free(void)
{
    es_journal_clear();
}
