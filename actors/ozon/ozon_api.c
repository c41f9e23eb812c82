/* ozon_api.c — Ozon Seller API bodies and replies (see ozon_api.h).
 * Exports: the ozon_* functions of ozon_api.h. Threads: any.
 */
#include "ozon_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "posting.h"
#include "rt.h"

static const char *const ozon_class_names[OZON_CLASS_N] = {
    "ok", "not_found", "auth", "rate_limited", "server", "network", "client", "bad_reply",
};

const char *ozon_class_name(ozon_class_t c)
{
    return c >= 0 && c < OZON_CLASS_N ? ozon_class_names[c] : "unknown";
}

bool ozon_class_retryable(ozon_class_t c)
{
    return c == OZON_RATE || c == OZON_SERVER || c == OZON_NETWORK || c == OZON_BAD_REPLY;
}

/* Copy s into out keeping it safe inside a quoted logfmt value. */
static void ozon_safe_copy(char *out, size_t cap, const char *s)
{
    size_t j = 0;
    for (; s && *s && j + 1 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        out[j++] = c < 0x20 || c == 0x7f || c == '"' || c == '\\' ? '_' : (char)c;
    }
    /* do not leave a cut UTF-8 sequence at the end */
    while (j > 0 && ((unsigned char)out[j - 1] & 0xC0) == 0x80) j--;
    if (j > 0 && ((unsigned char)out[j - 1] & 0xC0) == 0xC0) j--;
    out[j] = '\0';
}

/* Recompute the end trim only when the copy was cut (a whole sequence is fine). */
static void ozon_safe_set(char *out, size_t cap, const char *s)
{
    if (s && strlen(s) < cap) {
        size_t j = 0;
        for (; *s; s++) {
            unsigned char c = (unsigned char)*s;
            out[j++] = c < 0x20 || c == 0x7f || c == '"' || c == '\\' ? '_' : (char)c;
        }
        out[j] = '\0';
        return;
    }
    ozon_safe_copy(out, cap, s);
}

/* Read an error envelope: rpcStatus {"code":N,"message":…} or legacy
 * {"error":{"code":"…","message":…}}. */
static void ozon_read_envelope(const char *body, size_t len, ozon_error_t *err)
{
    if (!body || !len) return;
    cJSON *root = cJSON_ParseWithLength(body, len);
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return;
    }
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(root, "code");
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(root, "message");
    const cJSON *legacy = cJSON_GetObjectItemCaseSensitive(root, "error");
    if (cJSON_IsObject(legacy)) {
        code = cJSON_GetObjectItemCaseSensitive(legacy, "code");
        msg = cJSON_GetObjectItemCaseSensitive(legacy, "message");
    } else if (cJSON_IsString(legacy) && !cJSON_IsString(msg)) {
        msg = legacy;                 /* {"error":"…"} seen in some proxies */
    }
    if (cJSON_IsNumber(code) && code->valuedouble >= -1e9 && code->valuedouble <= 1e9)
        snprintf(err->code, sizeof err->code, "%d", (int)code->valuedouble);
    else if (cJSON_IsString(code))
        ozon_safe_set(err->code, sizeof err->code, code->valuestring);
    if (cJSON_IsString(msg)) ozon_safe_set(err->message, sizeof err->message, msg->valuestring);
    cJSON_Delete(root);
}

ozon_class_t ozon_classify(int rc, long status, const char *body, size_t len,
                           const char *transport_error, ozon_error_t *err)
{
    memset(err, 0, sizeof *err);
    err->status = rc == RT_OK ? status : 0;
    if (rc != RT_OK) {
        ozon_safe_set(err->message, sizeof err->message,
                      transport_error && *transport_error ? transport_error : "no answer");
        return err->cls = OZON_NETWORK;
    }
    if (status >= 200 && status < 300) return err->cls = OZON_OK;
    ozon_read_envelope(body, len, err);
    bool nf_code = strcmp(err->code, "5") == 0 || strstr(err->code, "NOT_FOUND") != NULL;
    if (status == 401 || status == 403) err->cls = OZON_AUTH;
    else if (status == 429) err->cls = OZON_RATE;
    else if (status >= 500) err->cls = OZON_SERVER;
    else if (status == 404 || (status >= 400 && nf_code)) err->cls = OZON_NOT_FOUND;
    else if (status >= 400) err->cls = OZON_CLIENT;
    else err->cls = OZON_BAD_REPLY;     /* 1xx/3xx as a final answer */
    if (!err->message[0]) snprintf(err->message, sizeof err->message, "HTTP %ld", status);
    return err->cls;
}

/* ---- bodies --------------------------------------------------------------------- */

static cJSON *ozon_with_none(void)
{
    cJSON *w = cJSON_CreateObject();
    const char *blocks[] = {"analytics_data", "barcodes", "financial_data", "legal_info",
                            "product_exemplars", "related_postings", "translit"};
    for (size_t i = 0; i < sizeof blocks / sizeof blocks[0]; i++) cJSON_AddFalseToObject(w, blocks[i]);
    return w;
}

static char *ozon_print(cJSON *o)
{
    char *s = o ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    return s;
}

char *ozon_body_fetch(const char *posting)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddStringToObject(o, "posting_number", posting ? posting : "");
    cJSON_AddItemToObject(o, "with", ozon_with_none());
    return ozon_print(o);
}

char *ozon_body_push(const char *posting)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON *a = cJSON_AddArrayToObject(o, "posting_number");
    cJSON_AddItemToArray(a, cJSON_CreateString(posting ? posting : ""));
    return ozon_print(o);
}

void ozon_rfc3339(int64_t unix_ms, char *out, size_t outsz)
{
    time_t t = (time_t)(unix_ms >= 0 ? unix_ms / 1000 : (unix_ms - 999) / 1000);
    int ms = (int)(unix_ms - (int64_t)t * 1000);
    struct tm tm;
    if (!gmtime_r(&t, &tm)) {
        snprintf(out, outsz, "1970-01-01T00:00:00.000Z");
        return;
    }
    snprintf(out, outsz, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
}

/* Split a comma list into items added to `arr`: strings, or raw integers
 * (digits only; other items are skipped). */
static void ozon_add_list(cJSON *arr, const char *list, bool numeric)
{
    for (const char *p = list; p && *p;) {
        size_t n = strcspn(p, ",");
        char item[64];
        size_t a = 0, b = n;
        while (a < b && (p[a] == ' ' || p[a] == '\t')) a++;
        while (b > a && (p[b - 1] == ' ' || p[b - 1] == '\t')) b--;
        if (b > a && b - a < sizeof item) {
            memcpy(item, p + a, b - a);
            item[b - a] = '\0';
            if (!numeric) cJSON_AddItemToArray(arr, cJSON_CreateString(item));
            else if (strspn(item, "0123456789") == b - a) cJSON_AddItemToArray(arr, cJSON_CreateRaw(item));
        }
        p += n + (p[n] == ',');
    }
}

char *ozon_body_list(const ozon_list_req_t *q)
{
    char t[40];
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddStringToObject(o, "sort_dir", "asc");
    cJSON *f = cJSON_AddObjectToObject(o, "filter");
    ozon_rfc3339(q->since_ms, t, sizeof t);
    cJSON_AddStringToObject(f, "since", t);
    ozon_rfc3339(q->to_ms, t, sizeof t);
    cJSON_AddStringToObject(f, "to", t);
    if (q->changed_from_ms) {
        cJSON *lc = cJSON_AddObjectToObject(f, "last_changed_status_date");
        ozon_rfc3339(q->changed_from_ms, t, sizeof t);
        cJSON_AddStringToObject(lc, "from", t);
        ozon_rfc3339(q->changed_to_ms, t, sizeof t);
        cJSON_AddStringToObject(lc, "to", t);
    }
    if (q->statuses && *q->statuses) ozon_add_list(cJSON_AddArrayToObject(f, "statuses"), q->statuses, false);
    if (q->delivery_methods && *q->delivery_methods)
        ozon_add_list(cJSON_AddArrayToObject(f, "delivery_method_ids"), q->delivery_methods, true);
    cJSON_AddNumberToObject(o, "limit", q->limit >= 1 && q->limit <= 100 ? q->limit : 100);
    cJSON_AddStringToObject(o, "cursor", q->cursor ? q->cursor : "");
    cJSON *w = ozon_with_none();
    cJSON_DeleteItemFromObject(w, "product_exemplars");
    cJSON_DeleteItemFromObject(w, "related_postings");
    cJSON_AddItemToObject(o, "with", w);
    return ozon_print(o);
}

/* ---- replies -------------------------------------------------------------------- */

int ozon_fetch_result(const char *body, size_t len, char **out)
{
    *out = NULL;
    cJSON *root = body ? cJSON_ParseWithLength(body, len) : NULL;
    const cJSON *res = cJSON_IsObject(root) ? cJSON_GetObjectItemCaseSensitive(root, "result") : NULL;
    const cJSON *pn = cJSON_IsObject(res) ? cJSON_GetObjectItemCaseSensitive(res, "posting_number") : NULL;
    if (!cJSON_IsString(pn) || !posting_is_valid(pn->valuestring)) {
        cJSON_Delete(root);
        return RT_EINVAL;
    }
    *out = cJSON_PrintUnformatted(res);
    cJSON_Delete(root);
    return *out ? RT_OK : RT_ENOMEM;
}

void ozon_list_page_free(ozon_list_page_t *p)
{
    for (int i = 0; i < p->n; i++) free(p->json[i]);
    free(p->json);
    free(p->number);
    free(p->cursor);
    memset(p, 0, sizeof *p);
}

int ozon_list_parse(const char *body, size_t len, ozon_list_page_t *out)
{
    memset(out, 0, sizeof *out);
    cJSON *root = body ? cJSON_ParseWithLength(body, len) : NULL;
    const cJSON *top = root;
    const cJSON *arr = cJSON_IsObject(top) ? cJSON_GetObjectItemCaseSensitive(top, "postings") : NULL;
    if (!cJSON_IsArray(arr) && cJSON_IsObject(top)) {        /* the v3 {"result":{…}} wrapper */
        const cJSON *res = cJSON_GetObjectItemCaseSensitive(top, "result");
        if (cJSON_IsObject(res)) {
            top = res;
            arr = cJSON_GetObjectItemCaseSensitive(top, "postings");
        }
    }
    if (!cJSON_IsArray(arr)) {
        cJSON_Delete(root);
        return RT_EINVAL;
    }
    int cap = cJSON_GetArraySize(arr);
    int rc = RT_OK;
    out->json = calloc((size_t)(cap ? cap : 1), sizeof *out->json);
    out->number = calloc((size_t)(cap ? cap : 1), sizeof *out->number);
    const cJSON *cur = cJSON_GetObjectItemCaseSensitive(top, "cursor");
    if (!cJSON_IsString(cur)) cur = cJSON_GetObjectItemCaseSensitive(root, "cursor");
    out->cursor = strdup(cJSON_IsString(cur) ? cur->valuestring : "");
    const cJSON *hn = cJSON_GetObjectItemCaseSensitive(top, "has_next");
    out->has_next = cJSON_IsTrue(hn);
    if (!out->json || !out->number || !out->cursor) rc = RT_ENOMEM;
    const cJSON *p;
    cJSON_ArrayForEach(p, arr) {
        if (rc != RT_OK) break;
        const cJSON *pn = cJSON_IsObject(p) ? cJSON_GetObjectItemCaseSensitive(p, "posting_number") : NULL;
        if (!cJSON_IsString(pn) || !posting_is_valid(pn->valuestring)) {
            out->skipped++;
            continue;
        }
        char *s = cJSON_PrintUnformatted(p);
        if (!s) { rc = RT_ENOMEM; break; }
        out->json[out->n] = s;
        snprintf(out->number[out->n], sizeof out->number[0], "%s", pn->valuestring);
        out->n++;
    }
    cJSON_Delete(root);
    if (rc != RT_OK) ozon_list_page_free(out);
    return rc;
}

/* The refusal text of an "error" member: "" / [] / null mean none. */
static void ozon_push_error(const cJSON *e, char *out, size_t cap)
{
    out[0] = '\0';
    if (cJSON_IsString(e)) {
        ozon_safe_set(out, cap, e->valuestring);
    } else if (cJSON_IsArray(e)) {
        size_t n = 0;
        const cJSON *it;
        cJSON_ArrayForEach(it, e) {
            char one[OZON_MSG_MAX];
            one[0] = '\0';
            if (cJSON_IsString(it)) ozon_safe_set(one, sizeof one, it->valuestring);
            else if (cJSON_IsObject(it)) {            /* {"code":…,"message":…} items */
                const cJSON *c = cJSON_GetObjectItemCaseSensitive(it, "code");
                const cJSON *m = cJSON_GetObjectItemCaseSensitive(it, "message");
                ozon_safe_set(one, sizeof one, cJSON_IsString(c) ? c->valuestring
                                               : cJSON_IsString(m) ? m->valuestring : "error");
            } else if (!cJSON_IsNull(it)) {
                snprintf(one, sizeof one, "error");
            }
            if (!one[0] || n + 2 >= cap) continue;
            n += (size_t)snprintf(out + n, cap - n, "%s%s", n ? "," : "", one);
            if (n >= cap) n = cap - 1;
        }
    } else if (e && !cJSON_IsNull(e) && !cJSON_IsFalse(e)) {
        snprintf(out, cap, "error");
    }
}

int ozon_push_parse(const char *body, size_t len, const char *posting, ozon_push_result_t *out)
{
    memset(out, 0, sizeof *out);
    cJSON *root = body ? cJSON_ParseWithLength(body, len) : NULL;
    const cJSON *res = cJSON_IsObject(root) ? cJSON_GetObjectItemCaseSensitive(root, "result") : NULL;
    if (cJSON_IsBool(res)) {                  /* {"result": true} */
        out->found = true;
        out->ok = cJSON_IsTrue(res);
        if (!out->ok) snprintf(out->error, sizeof out->error, "result false");
        cJSON_Delete(root);
        return RT_OK;
    }
    if (!cJSON_IsArray(res)) {
        cJSON_Delete(root);
        return RT_EINVAL;
    }
    const cJSON *it, *mine = NULL;
    int n = cJSON_GetArraySize(res);
    cJSON_ArrayForEach(it, res) {
        if (!cJSON_IsObject(it)) continue;
        const cJSON *pn = cJSON_GetObjectItemCaseSensitive(it, "posting_number");
        if ((cJSON_IsString(pn) && posting && strcmp(pn->valuestring, posting) == 0) || (!pn && n == 1)) {
            mine = it;
            break;
        }
    }
    if (mine) {
        out->found = true;
        ozon_push_error(cJSON_GetObjectItemCaseSensitive(mine, "error"), out->error, sizeof out->error);
        const cJSON *r = cJSON_GetObjectItemCaseSensitive(mine, "result");
        out->ok = !out->error[0] && (cJSON_IsTrue(r) || !r);
        if (!out->ok && !out->error[0]) snprintf(out->error, sizeof out->error, "result false");
    }
    cJSON_Delete(root);
    return RT_OK;
}
