/* tgsim_params.c — query string, form, JSON and multipart parameter parsing.
 *
 * Exports: see tgsim_params.h. Threads: the request's thread only.
 */
#include "tgsim_params.h"
#include "tgsim_util.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

static tgsim_param_t *tgsim_params_slot(tgsim_params_t *p, const char *name, size_t name_len)
{
    for (size_t i = 0; i < p->n; i++) {
        if (strlen(p->v[i].name) == name_len && memcmp(p->v[i].name, name, name_len) == 0) {
            free(p->v[i].value);
            free(p->v[i].filename);
            free(p->v[i].content_type);
            char *nm = p->v[i].name;
            memset(&p->v[i], 0, sizeof p->v[i]);
            p->v[i].name = nm;
            return &p->v[i];
        }
    }
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 8;
        p->v = tgsim_xrealloc(p->v, p->cap * sizeof *p->v);
    }
    tgsim_param_t *s = &p->v[p->n++];
    memset(s, 0, sizeof *s);
    s->name = tgsim_xstrndup(name, name_len);
    return s;
}

void tgsim_params_set(tgsim_params_t *p, const char *name, const char *value, size_t len)
{
    tgsim_param_t *s = tgsim_params_slot(p, name, strlen(name));
    s->value = tgsim_xstrndup(value, len);
    s->len = len;
}

void tgsim_params_set_file(tgsim_params_t *p, const char *name, char *data, size_t len,
                           const char *filename, const char *content_type)
{
    tgsim_param_t *s = tgsim_params_slot(p, name, strlen(name));
    data[len] = '\0';
    s->value = data;
    s->len = len;
    s->is_file = 1;
    s->filename = tgsim_xstrdup(filename ? filename : "file");
    s->content_type = tgsim_xstrdup(content_type);
}

static void tgsim_params_parse_form(tgsim_params_t *p, const char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        size_t j = i;
        while (j < len && s[j] != '&') j++;
        size_t eq = i;
        while (eq < j && s[eq] != '=') eq++;
        if (eq > i) {
            size_t nl, vl = 0;
            char *name = tgsim_url_decode(s + i, eq - i, 1, &nl);
            char *val = eq < j ? tgsim_url_decode(s + eq + 1, j - eq - 1, 1, &vl) : tgsim_xstrdup("");
            if (eq >= j) vl = 0;
            tgsim_param_t *slot = tgsim_params_slot(p, name, nl);
            slot->value = val;
            slot->len = vl;
            free(name);
        }
        i = j + 1;
    }
}

void tgsim_params_parse_query(tgsim_params_t *p, const char *qs)
{
    if (qs) tgsim_params_parse_form(p, qs, strlen(qs));
}

static void tgsim_params_parse_json(tgsim_params_t *p, const char *body, size_t len)
{
    cJSON *root = tgsim_json_parse(body, len);
    if (!cJSON_IsObject(root)) { cJSON_Delete(root); return; }
    for (cJSON *it = root->child; it; it = it->next) {
        if (!it->string || cJSON_IsNull(it)) continue;
        char *val;
        if (cJSON_IsString(it)) {
            val = tgsim_xstrdup(it->valuestring);
        } else if (cJSON_IsNumber(it)) {
            char t[64];
            double d = it->valuedouble;
            if (d == floor(d) && fabs(d) < 9e18) snprintf(t, sizeof t, "%lld", (long long)d);
            else snprintf(t, sizeof t, "%.17g", d);
            val = tgsim_xstrdup(t);
        } else if (cJSON_IsBool(it)) {
            val = tgsim_xstrdup(cJSON_IsTrue(it) ? "true" : "false");
        } else {
            char *j = cJSON_PrintUnformatted(it);
            val = tgsim_xstrdup(j ? j : "");
            cJSON_free(j);
        }
        tgsim_param_t *slot = tgsim_params_slot(p, it->string, strlen(it->string));
        slot->value = val;
        slot->len = strlen(val);
    }
    cJSON_Delete(root);
}

/* Find the value of `key` (e.g. "boundary", "name") in a header value like
 * `form-data; name="x"; filename="y"`. Returns a malloc'd string or NULL. */
static char *tgsim_header_attr(const char *h, size_t hlen, const char *key)
{
    size_t kl = strlen(key);
    for (size_t i = 0; i + kl < hlen; i++) {
        if ((i == 0 || h[i - 1] == ';' || h[i - 1] == ' ' || h[i - 1] == '\t') &&
            strncasecmp(h + i, key, kl) == 0 && h[i + kl] == '=') {
            size_t j = i + kl + 1;
            if (j < hlen && h[j] == '"') {
                size_t k = ++j;
                while (k < hlen && h[k] != '"') k++;
                return tgsim_xstrndup(h + j, k - j);
            }
            size_t k = j;
            while (k < hlen && h[k] != ';' && h[k] != ' ' && h[k] != '\r') k++;
            return tgsim_xstrndup(h + j, k - j);
        }
    }
    return NULL;
}

static int tgsim_params_parse_multipart(tgsim_params_t *p, const char *ctype, const char *body, size_t len,
                                        char *err, size_t errlen)
{
    char *boundary = tgsim_header_attr(ctype, strlen(ctype), "boundary");
    if (!boundary || !*boundary) {
        free(boundary);
        snprintf(err, errlen, "multipart boundary is missing");
        return -1;
    }
    size_t bl = strlen(boundary);
    char *delim = tgsim_xmalloc(bl + 5);
    snprintf(delim, bl + 5, "\r\n--%s", boundary);
    size_t dl = bl + 4;
    /* the first delimiter may come without the leading CRLF */
    const char *end = body + len;
    const char *cur = memmem(body, len, delim + 2, dl - 2);
    int rc = 0;
    if (!cur) { snprintf(err, errlen, "multipart body has no boundary"); rc = -1; goto out; }
    cur += dl - 2;
    for (;;) {
        if (end - cur >= 2 && cur[0] == '-' && cur[1] == '-') break;       /* closing delimiter */
        const char *eol = memmem(cur, (size_t)(end - cur), "\r\n", 2);
        if (!eol) { snprintf(err, errlen, "truncated multipart body"); rc = -1; goto out; }
        const char *hdr = eol + 2;
        const char *hdr_end = memmem(hdr, (size_t)(end - hdr), "\r\n\r\n", 4);
        const char *data;
        if (hdr_end) data = hdr_end + 4;
        else if (end - hdr >= 2 && hdr[0] == '\r' && hdr[1] == '\n') { hdr_end = hdr; data = hdr + 2; }
        else { snprintf(err, errlen, "truncated multipart headers"); rc = -1; goto out; }
        const char *next = memmem(data, (size_t)(end - data), delim, dl);
        if (!next) { snprintf(err, errlen, "multipart part is not terminated"); rc = -1; goto out; }
        char *name = NULL, *filename = NULL, *pctype = NULL;
        for (const char *h = hdr; h < hdr_end;) {
            const char *he = memmem(h, (size_t)(hdr_end - h), "\r\n", 2);
            if (!he) he = hdr_end;
            size_t hl = (size_t)(he - h);
            if (hl > 20 && strncasecmp(h, "Content-Disposition:", 20) == 0) {
                free(name); free(filename);
                name = tgsim_header_attr(h + 20, hl - 20, "name");
                filename = tgsim_header_attr(h + 20, hl - 20, "filename");
            } else if (hl > 13 && strncasecmp(h, "Content-Type:", 13) == 0) {
                const char *v = h + 13;
                while (v < he && (*v == ' ' || *v == '\t')) v++;
                free(pctype);
                pctype = tgsim_xstrndup(v, (size_t)(he - v));
            }
            h = he + 2;
        }
        if (name && *name) {
            tgsim_param_t *slot = tgsim_params_slot(p, name, strlen(name));
            slot->value = tgsim_xstrndup(data, (size_t)(next - data));
            slot->len = (size_t)(next - data);
            if (filename) {
                slot->is_file = 1;
                slot->filename = filename;
                slot->content_type = pctype;
                filename = pctype = NULL;
            }
        }
        free(name); free(filename); free(pctype);
        cur = next + dl;
    }
out:
    free(delim);
    free(boundary);
    return rc;
}

int tgsim_params_parse_body(tgsim_params_t *p, const char *content_type,
                            const char *body, size_t len, char *err, size_t errlen)
{
    if (!body || !len) return 0;
    const char *ct = content_type ? content_type : "";
    while (*ct == ' ') ct++;
    if (strncasecmp(ct, "application/json", 16) == 0) {
        tgsim_params_parse_json(p, body, len);
        return 0;
    }
    if (strncasecmp(ct, "multipart/form-data", 19) == 0)
        return tgsim_params_parse_multipart(p, ct, body, len, err, errlen);
    if (strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0 || !*ct) {
        if (!*ct && len && body[0] == '{') tgsim_params_parse_json(p, body, len);
        else tgsim_params_parse_form(p, body, len);
    }
    return 0;
}

const tgsim_param_t *tgsim_params_get(const tgsim_params_t *p, const char *name)
{
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->v[i].name, name) == 0) return &p->v[i];
    return NULL;
}

const char *tgsim_params_str(const tgsim_params_t *p, const char *name)
{
    const tgsim_param_t *v = tgsim_params_get(p, name);
    return v && !v->is_file ? v->value : NULL;
}

void tgsim_params_free(tgsim_params_t *p)
{
    for (size_t i = 0; i < p->n; i++) {
        free(p->v[i].name);
        free(p->v[i].value);
        free(p->v[i].filename);
        free(p->v[i].content_type);
    }
    free(p->v);
    p->v = NULL;
    p->n = p->cap = 0;
}
