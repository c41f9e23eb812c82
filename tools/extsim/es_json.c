/* es_json.c — cJSON and form-encoding helpers (see es_json.h).
 *
 * Threads: pure functions; any thread.
 */
#include "es_json.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

cJSON *es_json_get_ci(const cJSON *obj, const char *key)
{
    if (!cJSON_IsObject(obj)) return NULL;
    for (cJSON *c = obj->child; c; c = c->next)
        if (c->string && strcasecmp(c->string, key) == 0) return c;
    return NULL;
}

const char *es_json_str(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

int es_json_item_int(const cJSON *v, long long *out)
{
    if (cJSON_IsNumber(v)) {
        double d = v->valuedouble;
        if (!isfinite(d) || d != floor(d) || fabs(d) > 9007199254740992.0) return -1;
        *out = (long long)d;
        return 0;
    }
    if (cJSON_IsString(v) && v->valuestring[0]) {
        char *end;
        errno = 0;
        long long x = strtoll(v->valuestring, &end, 10);
        if (errno || *end) return -1;
        *out = x;
        return 0;
    }
    return -1;
}

int es_json_int(const cJSON *obj, const char *key, long long *out)
{
    return es_json_item_int(cJSON_GetObjectItemCaseSensitive(obj, key), out);
}

int es_json_num(const cJSON *obj, const char *key, double *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (cJSON_IsNumber(v)) { *out = v->valuedouble; return 0; }
    if (cJSON_IsString(v) && v->valuestring[0]) {
        char *end;
        double d = strtod(v->valuestring, &end);
        if (*end || !isfinite(d)) return -1;
        *out = d;
        return 0;
    }
    return -1;
}

int es_json_bool(const cJSON *obj, const char *key, int dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (cJSON_IsBool(v)) return cJSON_IsTrue(v);
    if (cJSON_IsNumber(v)) return v->valuedouble != 0;
    if (cJSON_IsString(v)) {
        const char *s = v->valuestring;
        if (!strcasecmp(s, "y") || !strcasecmp(s, "true") || !strcmp(s, "1")) return 1;
        if (!strcasecmp(s, "n") || !strcasecmp(s, "false") || !strcmp(s, "0")) return 0;
    }
    return dflt;
}

void es_json_replace(cJSON *obj, const char *key, cJSON *val)
{
    if (!val) return;
    if (cJSON_GetObjectItemCaseSensitive(obj, key))
        cJSON_ReplaceItemInObjectCaseSensitive(obj, key, val);
    else
        cJSON_AddItemToObject(obj, key, val);
}

void es_json_set_str(cJSON *obj, const char *key, const char *s)
{
    es_json_replace(obj, key, s ? cJSON_CreateString(s) : cJSON_CreateNull());
}

char *es_json_print(const cJSON *item)
{
    return cJSON_PrintUnformatted(item);
}

char *es_json_print_owned(cJSON *item)
{
    char *s = cJSON_PrintUnformatted(item);
    cJSON_Delete(item);
    return s;
}

static int es_hex(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

size_t es_url_decode(char *s, size_t len)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        int hi, lo;
        if (s[i] == '+') s[o++] = ' ';
        else if (s[i] == '%' && i + 2 < len && (hi = es_hex((unsigned char)s[i + 1])) >= 0 &&
                 (lo = es_hex((unsigned char)s[i + 2])) >= 0) {
            s[o++] = (char)(hi * 16 + lo);
            i += 2;
        } else s[o++] = s[i];
    }
    s[o] = '\0';
    return o;
}

/* Walk one PHP-style name ("a[b][]") down from `into`, creating containers,
 * and store `val` at the leaf. */
static int es_form_store(cJSON *into, char *name, const char *val)
{
    char *br = strchr(name, '[');
    if (!br || br == name) {
        if (!cJSON_GetObjectItemCaseSensitive(into, name))
            return cJSON_AddStringToObject(into, name, val) ? 0 : -1;
        return 0;
    }
    /* Collect the segments: base, then each [...] content. */
    char *segs[16];
    int n = 0;
    *br = '\0';
    segs[n++] = name;
    char *p = br + 1;
    while (n < 16) {
        char *close = strchr(p, ']');
        if (!close) break;
        *close = '\0';
        segs[n++] = p;
        if (close[1] != '[') break;
        p = close + 2;
    }
    cJSON *cur = into;
    for (int i = 0; i < n; i++) {
        int leaf = i == n - 1;
        int next_is_append = !leaf && segs[i + 1][0] == '\0';
        if (cJSON_IsArray(cur)) {
            /* Only "[]" segments reach arrays: append. */
            cJSON *child = leaf ? cJSON_CreateString(val)
                                : (next_is_append ? cJSON_CreateArray() : cJSON_CreateObject());
            if (!child) return -1;
            cJSON_AddItemToArray(cur, child);
            cur = child;
            continue;
        }
        if (!cJSON_IsObject(cur)) return 0;
        const char *key = segs[i];
        if (key[0] == '\0') return 0; /* "[]" under an object: ignore */
        cJSON *child = cJSON_GetObjectItemCaseSensitive(cur, key);
        if (leaf) {
            if (!child) return cJSON_AddStringToObject(cur, key, val) ? 0 : -1;
            return 0;
        }
        if (!child) {
            child = next_is_append ? cJSON_CreateArray() : cJSON_CreateObject();
            if (!child) return -1;
            cJSON_AddItemToObject(cur, key, child);
        }
        cur = child;
    }
    return 0;
}

int es_form_parse(const char *s, size_t len, cJSON *into)
{
    char *buf = malloc(len + 1);
    if (!buf) return -1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    int rc = 0;
    char *save = NULL;
    for (char *pair = strtok_r(buf, "&", &save); pair && rc == 0; pair = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(pair, '=');
        char *val = eq ? eq + 1 : pair + strlen(pair);
        if (eq) *eq = '\0';
        es_url_decode(pair, strlen(pair));
        es_url_decode(val, strlen(val));
        if (!pair[0]) continue;
        rc = es_form_store(into, pair, val);
    }
    free(buf);
    return rc;
}

int es_query_get(const char *query, const char *name, char *out, size_t outlen)
{
    if (!query || !outlen) return -1;
    size_t nl = strlen(name);
    for (const char *p = query; *p;) {
        const char *end = strchr(p, '&');
        if (!end) end = p + strlen(p);
        if ((size_t)(end - p) >= nl && strncmp(p, name, nl) == 0 && (p[nl] == '=' || p + nl == end)) {
            const char *v = p[nl] == '=' ? p + nl + 1 : end;
            size_t vl = (size_t)(end - v);
            if (vl >= outlen) vl = outlen - 1;
            memcpy(out, v, vl);
            return (int)es_url_decode(out, vl);
        }
        p = *end ? end + 1 : end;
    }
    return -1;
}

static const char es_b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *es_base64_encode(const unsigned char *src, size_t len)
{
    char *o = malloc((len + 2) / 3 * 4 + 1);
    if (!o) return NULL;
    size_t j = 0;
    for (size_t i = 0; i < len; i += 3) {
        unsigned v = (unsigned)src[i] << 16;
        if (i + 1 < len) v |= (unsigned)src[i + 1] << 8;
        if (i + 2 < len) v |= src[i + 2];
        o[j++] = es_b64[(v >> 18) & 63];
        o[j++] = es_b64[(v >> 12) & 63];
        o[j++] = i + 1 < len ? es_b64[(v >> 6) & 63] : '=';
        o[j++] = i + 2 < len ? es_b64[v & 63] : '=';
    }
    o[j] = '\0';
    return o;
}

static int es_b64_val(int c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
}

int es_base64_decode(const char *src, unsigned char *out, size_t outlen)
{
    size_t o = 0;
    unsigned acc = 0;
    int bits = 0;
    for (const char *p = src; *p; p++) {
        if (*p == '=') {
            for (; *p; p++) if (*p != '=') return -1;
            break;
        }
        int v = es_b64_val((unsigned char)*p);
        if (v < 0) return -1;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o + 1 >= outlen) return -1;
            out[o++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    out[o] = '\0';
    return (int)o;
}
