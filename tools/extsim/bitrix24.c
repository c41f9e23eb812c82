/* bitrix24.c — the emulated Bitrix24 incoming-webhook REST API and its
 * control routes.
 *
 * Control routes (sub = path after /control/bitrix/):
 *   GET|POST contacts     list / seed contacts (FIELDS-shaped objects)
 *   GET      deals        list deals
 *   GET|POST config       {"user_id","code","rate","burst"}
 *
 * Exports: see bitrix24.h. Threads: civetweb workers.
 */
#include "bitrix24.h"

#include "es_control.h"
#include "es_json.h"
#include "es_limit.h"
#include "es_state.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define BX_PAGE 50

static cJSON *bx_contacts; /* array of contact objects, ascending ID */
static cJSON *bx_deals;    /* array of deal objects, ascending ID */
static long long bx_next_contact = 1, bx_next_deal = 1, bx_next_multi = 1;
static es_limits_t *bx_limits;

static const char *const bx_multi_fields[] = {"PHONE", "EMAIL", "WEB", "IM", "LINK"};

static int bx_is_multi(const char *k)
{
    for (size_t i = 0; i < sizeof bx_multi_fields / sizeof bx_multi_fields[0]; i++)
        if (!strcasecmp(k, bx_multi_fields[i])) return 1;
    return 0;
}

static int bx_owns(const char *path)
{
    return strncmp(path, "/rest/", 6) == 0;
}

static void bx_lists(void)
{
    if (!bx_contacts) bx_contacts = cJSON_CreateArray();
    if (!bx_deals) bx_deals = cJSON_CreateArray();
}

/* "time" block of every answer; date_* in Moscow time as the portal shows. */
static cJSON *bx_time(int64_t start_ms)
{
    int64_t end = es_now_ms();
    cJSON *t = cJSON_CreateObject();
    cJSON_AddNumberToObject(t, "start", (double)start_ms / 1000.0);
    cJSON_AddNumberToObject(t, "finish", (double)end / 1000.0);
    cJSON_AddNumberToObject(t, "duration", (double)(end - start_ms) / 1000.0);
    cJSON_AddNumberToObject(t, "processing", (double)(end - start_ms) / 1000.0);
    char a[40], b[40];
    es_iso_time((start_ms / 1000 + 3 * 3600) * 1000, a);
    es_iso_time((end / 1000 + 3 * 3600) * 1000, b);
    a[19] = b[19] = '\0';
    char da[48], db[48];
    snprintf(da, sizeof da, "%s+03:00", a);
    snprintf(db, sizeof db, "%s+03:00", b);
    cJSON_AddStringToObject(t, "date_start", da);
    cJSON_AddStringToObject(t, "date_finish", db);
    cJSON_AddNumberToObject(t, "operating_reset_at", (double)(start_ms / 1000 + 600));
    cJSON_AddNumberToObject(t, "operating", 0);
    return t;
}

/* A reply prepared under es_lock and written after it is released. */
typedef struct bx_out {
    int http;
    cJSON *doc;
} bx_out_t;

static void bx_error(bx_out_t *out, int http, const char *error, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void bx_error(bx_out_t *out, int http, const char *error, const char *fmt, ...)
{
    char d[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d, sizeof d, fmt, ap);
    va_end(ap);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "error", error);
    cJSON_AddStringToObject(o, "error_description", d);
    out->http = http;
    out->doc = o;
}

static void bx_ok(bx_out_t *out, cJSON *result, int64_t start, int total, int next)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "result", result);
    if (next > 0) cJSON_AddNumberToObject(o, "next", next);
    if (total >= 0) cJSON_AddNumberToObject(o, "total", total);
    cJSON_AddItemToObject(o, "time", bx_time(start));
    out->http = 200;
    out->doc = o;
}

static cJSON *bx_params(const es_req_t *req)
{
    cJSON *p = NULL;
    const char *ct = es_header(req, "Content-Type");
    const char *b = req->body;
    while (b && isspace((unsigned char)*b)) b++;
    if (req->body_len && ((ct && strstr(ct, "json")) || (b && *b == '{'))) {
        p = cJSON_ParseWithLength(req->body, req->body_len);
        if (!cJSON_IsObject(p)) { cJSON_Delete(p); return NULL; }
    } else {
        p = cJSON_CreateObject();
        if (req->body_len) es_form_parse(req->body, req->body_len, p);
    }
    if (req->query) es_form_parse(req->query, strlen(req->query), p);
    return p;
}

/* A scalar as Bitrix shows it: everything is a string. */
static cJSON *bx_scalar(const cJSON *v)
{
    if (cJSON_IsString(v)) return cJSON_CreateString(v->valuestring);
    if (cJSON_IsNumber(v)) {
        char b[64];
        if (v->valuedouble == (double)(long long)v->valuedouble) snprintf(b, sizeof b, "%lld", (long long)v->valuedouble);
        else snprintf(b, sizeof b, "%.2f", v->valuedouble);
        return cJSON_CreateString(b);
    }
    if (cJSON_IsBool(v)) return cJSON_CreateString(cJSON_IsTrue(v) ? "Y" : "N");
    if (cJSON_IsNull(v)) return cJSON_CreateNull();
    return cJSON_Duplicate(v, 1);
}

/* Multi-field items (array, or object with "n0"/"0" keys) → stored form. */
static void bx_multi_add(cJSON *doc, const char *field, const cJSON *in)
{
    cJSON *arr = cJSON_GetObjectItemCaseSensitive(doc, field);
    if (!arr) arr = cJSON_AddArrayToObject(doc, field);
    const cJSON *it;
    for (it = in ? in->child : NULL; it; it = it->next) {
        const char *value = cJSON_IsString(it) ? it->valuestring : es_json_str(it, "VALUE");
        if (!value) {
            const cJSON *v = es_json_get_ci(it, "VALUE");
            value = cJSON_IsString(v) ? v->valuestring : NULL;
        }
        if (!value || !value[0]) continue;
        const cJSON *vt = cJSON_IsObject(it) ? es_json_get_ci(it, "VALUE_TYPE") : NULL;
        cJSON *m = cJSON_CreateObject();
        char id[32];
        snprintf(id, sizeof id, "%lld", bx_next_multi++);
        cJSON_AddStringToObject(m, "ID", id);
        cJSON_AddStringToObject(m, "VALUE_TYPE", cJSON_IsString(vt) ? vt->valuestring : "WORK");
        cJSON_AddStringToObject(m, "VALUE", value);
        cJSON_AddStringToObject(m, "TYPE_ID", field);
        cJSON_AddItemToArray(arr, m);
    }
}

static void bx_now_str(char out[48])
{
    char a[32];
    es_iso_time((es_now_ms() / 1000 + 3 * 3600) * 1000, a);
    a[19] = '\0';
    snprintf(out, 48, "%s+03:00", a);
}

/* Apply FIELDS to a stored entity (create or update). */
static void bx_apply_fields(cJSON *doc, const cJSON *fields)
{
    for (const cJSON *f = fields->child; f; f = f->next) {
        if (!f->string) continue;
        char key[128];
        snprintf(key, sizeof key, "%s", f->string);
        for (char *k = key; *k; k++) *k = (char)toupper((unsigned char)*k);
        if (!strcmp(key, "ID")) continue;
        if (bx_is_multi(key)) bx_multi_add(doc, key, f);
        else if (!strcmp(key, "CONTACT_IDS")) es_json_replace(doc, key, cJSON_Duplicate(f, 1));
        else es_json_replace(doc, key, bx_scalar(f));
    }
    char now[48];
    bx_now_str(now);
    es_json_set_str(doc, "DATE_MODIFY", now);
}

static cJSON *bx_find(cJSON *list, long long id)
{
    cJSON *it;
    cJSON_ArrayForEach(it, list) {
        long long x;
        if (es_json_int(it, "ID", &x) == 0 && x == id) return it;
    }
    return NULL;
}

static const cJSON *bx_fields_param(const cJSON *p)
{
    const cJSON *f = es_json_get_ci(p, "fields");
    return cJSON_IsObject(f) ? f : NULL;
}

static long long bx_contact_add(const cJSON *fields)
{
    bx_lists();
    cJSON *c = cJSON_CreateObject();
    long long id = bx_next_contact++;
    char ids[32], now[48];
    snprintf(ids, sizeof ids, "%lld", id);
    bx_now_str(now);
    cJSON_AddStringToObject(c, "ID", ids);
    cJSON_AddStringToObject(c, "NAME", "");
    cJSON_AddStringToObject(c, "SECOND_NAME", "");
    cJSON_AddStringToObject(c, "LAST_NAME", "");
    cJSON_AddStringToObject(c, "TYPE_ID", "CLIENT");
    cJSON_AddStringToObject(c, "SOURCE_ID", "");
    cJSON_AddStringToObject(c, "COMMENTS", "");
    cJSON_AddStringToObject(c, "OPENED", "Y");
    cJSON_AddStringToObject(c, "ASSIGNED_BY_ID", es_cfg.bitrix_user_id);
    cJSON_AddStringToObject(c, "CREATED_BY_ID", es_cfg.bitrix_user_id);
    cJSON_AddStringToObject(c, "DATE_CREATE", now);
    bx_apply_fields(c, fields);
    cJSON *ph = cJSON_GetObjectItemCaseSensitive(c, "PHONE"), *em = cJSON_GetObjectItemCaseSensitive(c, "EMAIL");
    es_json_set_str(c, "HAS_PHONE", cJSON_GetArraySize(ph) ? "Y" : "N");
    es_json_set_str(c, "HAS_EMAIL", cJSON_GetArraySize(em) ? "Y" : "N");
    cJSON_AddItemToArray(bx_contacts, c);
    return id;
}

/* Does stored entity `e` match one filter entry (key with optional
 * operator prefix, value or array of values)? */
static int bx_value_match(const char *op, const char *have, const cJSON *want)
{
    const cJSON *w;
    int any = 0;
    const cJSON *single = cJSON_IsArray(want) ? NULL : want;
    for (w = single ? single : want->child; w; w = single ? NULL : w->next) {
        char buf[64];
        const char *ws = cJSON_IsString(w) ? w->valuestring : NULL;
        if (!ws && cJSON_IsNumber(w)) {
            snprintf(buf, sizeof buf, "%lld", (long long)w->valuedouble);
            ws = buf;
        }
        if (!ws) continue;
        int hit = !strcmp(op, "%") ? (have && strcasestr(have, ws) != NULL) : (have && !strcmp(have, ws));
        if (hit) any = 1;
    }
    return !strcmp(op, "!") ? !any : any;
}

static int bx_match(const cJSON *e, const cJSON *filter)
{
    for (const cJSON *f = filter ? filter->child : NULL; f; f = f->next) {
        if (!f->string) continue;
        const char *k = f->string;
        char op[3] = "";
        if (k[0] == '!' || k[0] == '%' || k[0] == '=') {
            op[0] = k[0] == '=' ? '\0' : k[0];
            k++;
            if (*k == '=') k++;
        }
        char key[128];
        snprintf(key, sizeof key, "%s", k);
        for (char *q = key; *q; q++) *q = (char)toupper((unsigned char)*q);
        const cJSON *have = cJSON_GetObjectItemCaseSensitive(e, key);
        if (bx_is_multi(key)) {
            /* multiple fields: exact match against any stored value */
            int hit = 0;
            const cJSON *m;
            cJSON_ArrayForEach(m, have) if (bx_value_match("", es_json_str(m, "VALUE"), f)) hit = 1;
            if (op[0] == '!' ? hit : !hit) return 0;
        } else {
            if (!bx_value_match(op, cJSON_IsString(have) ? have->valuestring : NULL, f)) return 0;
        }
    }
    return 1;
}

/* Copy of `e` with the fields `select` asks for (ID always; multiple
 * fields only when named; "*" or none = every single-valued field). */
static cJSON *bx_project(const cJSON *e, const cJSON *select, int hide_internal)
{
    int all = !cJSON_IsArray(select) || cJSON_GetArraySize(select) == 0;
    const cJSON *s;
    cJSON_ArrayForEach(s, select) if (cJSON_IsString(s) && !strcmp(s->valuestring, "*")) all = 1;
    cJSON *o = cJSON_CreateObject();
    for (const cJSON *f = e->child; f; f = f->next) {
        int want = !strcmp(f->string, "ID");
        if (hide_internal && !strcmp(f->string, "CONTACT_IDS")) continue;
        if (!want && all && !bx_is_multi(f->string)) want = 1;
        cJSON_ArrayForEach(s, select)
            if (cJSON_IsString(s) && !strcasecmp(s->valuestring, f->string)) want = 1;
        if (want) cJSON_AddItemToObject(o, f->string, cJSON_Duplicate(f, 1));
    }
    return o;
}

static void bx_list(bx_out_t *out, const cJSON *p, cJSON *list, int64_t start_ms)
{
    const cJSON *filter = es_json_get_ci(p, "filter");
    const cJSON *select = es_json_get_ci(p, "select");
    const cJSON *order = es_json_get_ci(p, "order");
    long long start = 0;
    const cJSON *st = es_json_get_ci(p, "start");
    if (st && (es_json_item_int(st, &start) || start < 0)) start = 0;
    if (filter && !cJSON_IsObject(filter)) {
        bx_error(out, 400, "", "Parameter 'filter' must be array.");
        return;
    }
    int desc = 0;
    const cJSON *oid = es_json_get_ci(order, "ID");
    if (cJSON_IsString(oid) && !strcasecmp(oid->valuestring, "DESC")) desc = 1;
    /* select "PHONE" may arrive as a form object {"0":"ID","1":"PHONE"} */
    cJSON *sel = NULL;
    if (cJSON_IsObject(select)) {
        sel = cJSON_CreateArray();
        for (const cJSON *x = select->child; x; x = x->next)
            if (cJSON_IsString(x)) cJSON_AddItemToArray(sel, cJSON_CreateString(x->valuestring));
    }
    cJSON *matched = cJSON_CreateArray();
    int n = cJSON_GetArraySize(list);
    for (int i = 0; i < n; i++) {
        const cJSON *e = cJSON_GetArrayItem(list, desc ? n - 1 - i : i);
        if (bx_match(e, filter)) cJSON_AddItemReferenceToArray(matched, (cJSON *)e);
    }
    int total = cJSON_GetArraySize(matched), k = 0;
    cJSON *page = cJSON_CreateArray();
    const cJSON *e;
    cJSON_ArrayForEach(e, matched) {
        if (k >= start && k < start + BX_PAGE) cJSON_AddItemToArray(page, bx_project(e, sel ? sel : select, 1));
        k++;
    }
    cJSON_Delete(matched);
    cJSON_Delete(sel);
    bx_ok(out, page, start_ms, total, start + BX_PAGE < total ? (int)(start + BX_PAGE) : 0);
}

static int bx_digits_eq(const char *a, const char *b)
{
    for (;;) {
        while (*a && !isdigit((unsigned char)*a)) a++;
        while (*b && !isdigit((unsigned char)*b)) b++;
        if (!*a || !*b) return !*a && !*b;
        if (*a++ != *b++) return 0;
    }
}

static void bx_findbycomm(bx_out_t *out, const cJSON *p, int64_t start)
{
    const cJSON *et = es_json_get_ci(p, "entity_type"), *ty = es_json_get_ci(p, "type");
    const cJSON *vals = es_json_get_ci(p, "values");
    const char *type = cJSON_IsString(ty) ? ty->valuestring : NULL;
    if (!type || (strcasecmp(type, "PHONE") && strcasecmp(type, "EMAIL"))) {
        bx_error(out, 400, "", "Communication type '%s' is not supported in current context.", type ? type : "");
        return;
    }
    if (!vals || (!cJSON_IsArray(vals) && !cJSON_IsObject(vals)) || !vals->child) {
        bx_error(out, 400, "", "Parameter 'values' must be array.");
        return;
    }
    if (cJSON_GetArraySize(vals) > 20) {
        bx_error(out, 400, "", "Too many values: at most 20 are allowed.");
        return;
    }
    const char *entity = cJSON_IsString(et) ? et->valuestring : "";
    cJSON *ids = cJSON_CreateArray();
    if (!entity[0] || !strcasecmp(entity, "CONTACT")) {
        bx_lists();
        const cJSON *c;
        cJSON_ArrayForEach(c, bx_contacts) {
            const cJSON *items = cJSON_GetObjectItemCaseSensitive(c, strcasecmp(type, "PHONE") ? "EMAIL" : "PHONE");
            int hit = 0;
            const cJSON *m, *v;
            cJSON_ArrayForEach(m, items) {
                const char *have = es_json_str(m, "VALUE");
                for (v = vals->child; v && have; v = v->next) {
                    if (!cJSON_IsString(v)) continue;
                    if (strcasecmp(type, "PHONE") ? !strcasecmp(have, v->valuestring) : bx_digits_eq(have, v->valuestring))
                        hit = 1;
                }
            }
            long long id;
            if (hit && es_json_int(c, "ID", &id) == 0) cJSON_AddItemToArray(ids, cJSON_CreateNumber((double)id));
        }
    }
    cJSON *result;
    if (cJSON_GetArraySize(ids)) {
        result = cJSON_CreateObject();
        cJSON_AddItemToObject(result, "CONTACT", ids);
    } else {
        cJSON_Delete(ids);
        result = cJSON_CreateArray();
    }
    bx_ok(out, result, start, -1, 0);
}

static long long bx_deal_add(const cJSON *fields)
{
    bx_lists();
    cJSON *d = cJSON_CreateObject();
    long long id = bx_next_deal++;
    char ids[32], now[48];
    snprintf(ids, sizeof ids, "%lld", id);
    bx_now_str(now);
    cJSON_AddStringToObject(d, "ID", ids);
    cJSON_AddStringToObject(d, "TITLE", "");
    cJSON_AddStringToObject(d, "TYPE_ID", "SALE");
    cJSON_AddStringToObject(d, "STAGE_ID", "NEW");
    cJSON_AddStringToObject(d, "CATEGORY_ID", "0");
    cJSON_AddStringToObject(d, "CURRENCY_ID", "RUB");
    cJSON_AddStringToObject(d, "OPPORTUNITY", "0.00");
    cJSON_AddNullToObject(d, "CONTACT_ID");
    cJSON_AddStringToObject(d, "OPENED", "Y");
    cJSON_AddStringToObject(d, "CLOSED", "N");
    cJSON_AddStringToObject(d, "ASSIGNED_BY_ID", es_cfg.bitrix_user_id);
    cJSON_AddStringToObject(d, "CREATED_BY_ID", es_cfg.bitrix_user_id);
    cJSON_AddStringToObject(d, "DATE_CREATE", now);
    bx_apply_fields(d, fields);
    /* OPPORTUNITY is shown with two decimals */
    double opp;
    if (es_json_num(d, "OPPORTUNITY", &opp) == 0) {
        char b[64];
        snprintf(b, sizeof b, "%.2f", opp);
        es_json_set_str(d, "OPPORTUNITY", b);
    }
    const cJSON *cids = cJSON_GetObjectItemCaseSensitive(d, "CONTACT_IDS");
    if (cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(d, "CONTACT_ID")) && cids && cids->child)
        es_json_replace(d, "CONTACT_ID", bx_scalar(cids->child));
    cJSON_AddItemToArray(bx_deals, d);
    return id;
}

static void bx_handle(es_req_t *req)
{
    int64_t start = es_now_ms();
    /* /rest/<user_id>/<code>/<method>[.json] */
    char user[64] = "", code[160] = "", method[128] = "";
    const char *p = req->path + 6, *s1 = strchr(p, '/'), *s2 = s1 ? strchr(s1 + 1, '/') : NULL;
    if (s1 && s2 && (size_t)(s1 - p) < sizeof user && (size_t)(s2 - s1 - 1) < sizeof code &&
        strlen(s2 + 1) < sizeof method) {
        snprintf(user, sizeof user, "%.*s", (int)(s1 - p), p);
        snprintf(code, sizeof code, "%.*s", (int)(s2 - s1 - 1), s1 + 1);
        snprintf(method, sizeof method, "%s", s2 + 1);
    }
    size_t ml = strlen(method);
    if (ml > 5 && (!strcasecmp(method + ml - 5, ".json"))) method[ml - 5] = '\0';
    else if (ml > 4 && !strcasecmp(method + ml - 4, ".xml")) method[ml - 4] = '\0';
    for (char *c = method; *c; c++) *c = (char)tolower((unsigned char)*c);

    es_lock();
    int creds = !strcmp(user, es_cfg.bitrix_user_id) && !strcmp(code, es_cfg.bitrix_code);
    int allowed = creds && es_bucket_allow(&bx_limits, req->remote ? req->remote : "", es_cfg.bitrix_rate,
                                           es_cfg.bitrix_burst, es_mono_ms());
    es_unlock();
    bx_out_t out = {0, NULL};
    if (!creds) { bx_error(&out, 401, "INVALID_CREDENTIALS", "Invalid request credentials"); goto reply; }
    if (!allowed) { bx_error(&out, 503, "QUERY_LIMIT_EXCEEDED", "Too many requests"); goto reply; }
    if (!method[0]) { bx_error(&out, 404, "ERROR_METHOD_NOT_FOUND", "Method not found!"); goto reply; }

    cJSON *prm = bx_params(req);
    if (!prm) { bx_error(&out, 400, "", "Invalid JSON in the request body."); goto reply; }
    long long id;
    const cJSON *fields = bx_fields_param(prm);
    const cJSON *idv = es_json_get_ci(prm, "id");
    es_lock();
    bx_lists();
    if (!strcmp(method, "crm.contact.list")) {
        bx_list(&out, prm, bx_contacts, start);
    } else if (!strcmp(method, "crm.deal.list")) {
        bx_list(&out, prm, bx_deals, start);
    } else if (!strcmp(method, "crm.contact.add") || !strcmp(method, "crm.deal.add")) {
        int contact = !strcmp(method, "crm.contact.add");
        if (!fields) bx_error(&out, 400, "", "Parameter 'fields' must be array.");
        else {
            id = contact ? bx_contact_add(fields) : bx_deal_add(fields);
            ES_LOG_INFO("bitrix_added", "method=%s id=%lld", method, id);
            bx_ok(&out, cJSON_CreateNumber((double)id), start, -1, 0);
        }
    } else if (!strcmp(method, "crm.contact.get") || !strcmp(method, "crm.deal.get")) {
        cJSON *list = !strcmp(method, "crm.contact.get") ? bx_contacts : bx_deals;
        cJSON *e = NULL;
        if (!idv || es_json_item_int(idv, &id) || id <= 0) bx_error(&out, 400, "", "ID is not defined or invalid.");
        else if (!(e = bx_find(list, id))) bx_error(&out, 400, "", "Not found");
        else {
            cJSON *all = cJSON_CreateArray();
            cJSON_AddItemToArray(all, cJSON_CreateString("*"));
            for (size_t i = 0; i < sizeof bx_multi_fields / sizeof bx_multi_fields[0]; i++)
                cJSON_AddItemToArray(all, cJSON_CreateString(bx_multi_fields[i]));
            bx_ok(&out, bx_project(e, all, 1), start, -1, 0);
            cJSON_Delete(all);
        }
    } else if (!strcmp(method, "crm.contact.update")) {
        cJSON *e = NULL;
        if (!idv || es_json_item_int(idv, &id) || id <= 0) bx_error(&out, 400, "", "ID is not defined or invalid.");
        else if (!(e = bx_find(bx_contacts, id))) bx_error(&out, 400, "", "Not found");
        else if (!fields) bx_error(&out, 400, "", "Parameter 'fields' must be array.");
        else {
            bx_apply_fields(e, fields);
            es_json_set_str(e, "HAS_PHONE", cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(e, "PHONE")) ? "Y" : "N");
            bx_ok(&out, cJSON_CreateTrue(), start, -1, 0);
        }
    } else if (!strcmp(method, "crm.duplicate.findbycomm")) {
        bx_findbycomm(&out, prm, start);
    } else {
        bx_error(&out, 404, "ERROR_METHOD_NOT_FOUND", "Method not found!");
    }
    es_unlock();
    cJSON_Delete(prm);
reply:
    es_reply_json(req, out.http ? out.http : 500, out.doc);
}

static char *bx_fault_body(int status, const char **ctype)
{
    *ctype = "application/json; charset=utf-8";
    cJSON *o = cJSON_CreateObject();
    if (status == 503) {
        cJSON_AddStringToObject(o, "error", "QUERY_LIMIT_EXCEEDED");
        cJSON_AddStringToObject(o, "error_description", "Too many requests");
    } else if (status == 429) {
        cJSON_AddStringToObject(o, "error", "OPERATION_TIME_LIMIT");
        cJSON_AddStringToObject(o, "error_description", "Method is blocked due to operation time limit.");
    } else if (status == 401) {
        cJSON_AddStringToObject(o, "error", "INVALID_CREDENTIALS");
        cJSON_AddStringToObject(o, "error_description", "Invalid request credentials");
    } else if (status == 400 || status == 403) {
        cJSON_AddStringToObject(o, "error", "");
        cJSON_AddStringToObject(o, "error_description", "Access denied.");
    } else {
        cJSON_AddStringToObject(o, "error", "INTERNAL_SERVER_ERROR");
        cJSON_AddStringToObject(o, "error_description", "Internal server error");
    }
    return es_json_print_owned(o);
}

const es_service_t bitrix24_service = {
    .name = "bitrix24",
    .owns = bx_owns,
    .handle = bx_handle,
    .fault_body = bx_fault_body,
};

/* ---- control ------------------------------------------------------------ */

static cJSON *bx_config_json(void)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "user_id", es_cfg.bitrix_user_id);
    cJSON_AddStringToObject(o, "code", es_cfg.bitrix_code);
    cJSON_AddNumberToObject(o, "rate", es_cfg.bitrix_rate);
    cJSON_AddNumberToObject(o, "burst", es_cfg.bitrix_burst);
    char path[256];
    snprintf(path, sizeof path, "/rest/%s/%s/", es_cfg.bitrix_user_id, es_cfg.bitrix_code);
    cJSON_AddStringToObject(o, "webhook_path", path);
    return o;
}

static void bx_control_config(es_req_t *req)
{
    if (strcmp(req->method, "POST") != 0) {
        es_lock();
        cJSON *o = bx_config_json();
        es_unlock();
        es_control_ok(req, o);
        return;
    }
    cJSON *b = es_control_body(req);
    if (!b) return;
    double rate = 0;
    long long burst = 0;
    int has_rate = cJSON_GetObjectItemCaseSensitive(b, "rate") != NULL;
    int has_burst = cJSON_GetObjectItemCaseSensitive(b, "burst") != NULL;
    const char *user = es_json_str(b, "user_id"), *code = es_json_str(b, "code");
    const char *bad = NULL;
    if (has_rate && (es_json_num(b, "rate", &rate) || rate < 0)) bad = "rate: requests per second, >= 0";
    else if (has_burst && (es_json_int(b, "burst", &burst) || burst < 0)) bad = "burst: an integer >= 0 (0 = no limit)";
    else if (user && (!user[0] || strlen(user) >= sizeof es_cfg.bitrix_user_id || strchr(user, '/')))
        bad = "user_id: a short string without '/'";
    else if (code && (!code[0] || strlen(code) >= sizeof es_cfg.bitrix_code || strchr(code, '/')))
        bad = "code: a string without '/'";
    if (bad) {
        cJSON_Delete(b);
        es_control_error(req, 400, "%s", bad);
        return;
    }
    es_lock();
    if (has_rate) es_cfg.bitrix_rate = rate;
    if (has_burst) es_cfg.bitrix_burst = (int)burst;
    if (user) snprintf(es_cfg.bitrix_user_id, sizeof es_cfg.bitrix_user_id, "%s", user);
    if (code) snprintf(es_cfg.bitrix_code, sizeof es_cfg.bitrix_code, "%s", code);
    if (has_rate || has_burst) es_limits_free(&bx_limits);
    cJSON *o = bx_config_json();
    es_unlock();
    cJSON_Delete(b);
    es_control_ok(req, o);
}

void bitrix24_control(es_req_t *req, const char *sub)
{
    int get = !strcmp(req->method, "GET");
    if (!strcmp(sub, "contacts") && get) {
        es_lock();
        bx_lists();
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "count", cJSON_GetArraySize(bx_contacts));
        cJSON_AddItemToObject(o, "contacts", cJSON_Duplicate(bx_contacts, 1));
        es_unlock();
        es_control_ok(req, o);
    } else if (!strcmp(sub, "contacts") && !strcmp(req->method, "POST")) {
        cJSON *b = es_control_body(req);
        if (!b) return;
        const cJSON *list = cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(b, "contacts"))
                                ? cJSON_GetObjectItemCaseSensitive(b, "contacts") : b;
        cJSON *ids = cJSON_CreateArray();
        es_lock();
        const cJSON *single = cJSON_IsArray(list) ? NULL : list;
        for (const cJSON *c = single ? single : list->child; c; c = single ? NULL : c->next) {
            const cJSON *f = bx_fields_param(c);
            if (cJSON_IsObject(c)) cJSON_AddItemToArray(ids, cJSON_CreateNumber((double)bx_contact_add(f ? f : c)));
        }
        es_unlock();
        cJSON_Delete(b);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToObject(o, "ids", ids);
        es_control_ok(req, o);
    } else if (!strcmp(sub, "deals") && get) {
        es_lock();
        bx_lists();
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "count", cJSON_GetArraySize(bx_deals));
        cJSON_AddItemToObject(o, "deals", cJSON_Duplicate(bx_deals, 1));
        es_unlock();
        es_control_ok(req, o);
    } else if (!strcmp(sub, "config")) {
        bx_control_config(req);
    } else {
        es_control_error(req, 404, "unknown control route /control/bitrix/%s", sub);
    }
}

void bitrix24_free(void)
{
    cJSON_Delete(bx_contacts);
    cJSON_Delete(bx_deals);
    bx_contacts = bx_deals = NULL;
    es_limits_free(&bx_limits);
}

void bitrix24_reset(void)
{
    bitrix24_free();
    bx_next_contact = bx_next_deal = bx_next_multi = 1;
}
