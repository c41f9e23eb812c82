/* ozon_postings.c — the posting methods of the emulated Ozon Seller API:
 * /v3/posting/fbs/get, /v3/posting/fbs/list (offset), /v4/posting/fbs/list
 * (cursor), the rFBS status methods (delivering, last-mile, delivered) and
 * tracking-number/set.
 *
 * Exports: ozon_m_get, ozon_m_list_v3, ozon_m_list_v4, ozon_m_delivering,
 * ozon_m_last_mile, ozon_m_delivered, ozon_m_tracking_set (ozon_api.h).
 *
 * Threads: called by ozon.c with es_lock held.
 */
#include "es_json.h"
#include "es_state.h"
#include "ozon_api.h"
#include "ozon_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- get --------------------------------------------------------------- */

int ozon_m_get(const cJSON *body, cJSON **out, ozon_err_t *e)
{
    const char *number = es_json_str(body, "posting_number");
    if (!number || !number[0]) return ozon_fail(e, 3, "posting_number: required");
    ozon_posting_t *p = ozon_store_find(number);
    if (!p) return ozon_fail(e, 5, "POSTING_NOT_FOUND");
    *out = cJSON_CreateObject();
    cJSON_AddItemToObject(*out, "result", ozon_render(p, 0, cJSON_GetObjectItemCaseSensitive(body, "with")));
    return 200;
}

/* ---- list filters ------------------------------------------------------ */

typedef struct ozon_filter {
    int has_since, has_to, has_lc_from, has_lc_to;
    int64_t since, to, lc_from, lc_to;
    const cJSON *statuses;      /* array of strings or NULL */
    const char *status;         /* v3 single status or NULL */
    long long order_id;
    const cJSON *order_numbers;
    const cJSON *warehouses, *methods, *providers;
} ozon_filter_t;

static int ozon_time_field(const cJSON *obj, const char *key, const char *label, int *has,
                           int64_t *ms, ozon_err_t *e)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v || cJSON_IsNull(v) || (cJSON_IsString(v) && !v->valuestring[0])) return 0;
    if (!cJSON_IsString(v) || es_parse_iso(v->valuestring, ms))
        return ozon_fail(e, 3, "%s: an RFC 3339 date is required", label);
    *has = 1;
    return 0;
}

static int ozon_id_list(const cJSON *obj, const char *key, const char *label, const cJSON **out,
                        ozon_err_t *e)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v || cJSON_IsNull(v)) return 0;
    if (!cJSON_IsArray(v)) return ozon_fail(e, 3, "%s: an array is required", label);
    *out = cJSON_GetArraySize(v) ? v : NULL;
    return 0;
}

static int ozon_parse_filter(const cJSON *f, int v4, ozon_filter_t *flt, ozon_err_t *e)
{
    memset(flt, 0, sizeof *flt);
    if (!f || cJSON_IsNull(f)) return 0;
    if (!cJSON_IsObject(f)) return ozon_fail(e, 3, "filter: an object is required");
    int rc;
    if ((rc = ozon_time_field(f, "since", "filter.since", &flt->has_since, &flt->since, e)) ||
        (rc = ozon_time_field(f, "to", "filter.to", &flt->has_to, &flt->to, e)))
        return rc;
    const cJSON *lc = cJSON_GetObjectItemCaseSensitive(f, "last_changed_status_date");
    if (lc && !cJSON_IsNull(lc)) {
        if (!cJSON_IsObject(lc)) return ozon_fail(e, 3, "filter.last_changed_status_date: an object is required");
        if ((rc = ozon_time_field(lc, "from", "filter.last_changed_status_date.from", &flt->has_lc_from, &flt->lc_from, e)) ||
            (rc = ozon_time_field(lc, "to", "filter.last_changed_status_date.to", &flt->has_lc_to, &flt->lc_to, e)))
            return rc;
    }
    const cJSON *oid = cJSON_GetObjectItemCaseSensitive(f, "order_id");
    if (oid && !cJSON_IsNull(oid) && es_json_item_int(oid, &flt->order_id))
        return ozon_fail(e, 3, "filter.order_id: an integer is required");
    if (v4) {
        if ((rc = ozon_id_list(f, "statuses", "filter.statuses", &flt->statuses, e)) ||
            (rc = ozon_id_list(f, "order_numbers", "filter.order_numbers", &flt->order_numbers, e)) ||
            (rc = ozon_id_list(f, "warehouse_ids", "filter.warehouse_ids", &flt->warehouses, e)) ||
            (rc = ozon_id_list(f, "delivery_method_ids", "filter.delivery_method_ids", &flt->methods, e)) ||
            (rc = ozon_id_list(f, "provider_ids", "filter.provider_ids", &flt->providers, e)))
            return rc;
    } else {
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(f, "status");
        if (st && !cJSON_IsNull(st) && !cJSON_IsString(st))
            return ozon_fail(e, 3, "filter.status: a string is required");
        flt->status = cJSON_IsString(st) && st->valuestring[0] ? st->valuestring : NULL;
        if ((rc = ozon_id_list(f, "warehouse_id", "filter.warehouse_id", &flt->warehouses, e)) ||
            (rc = ozon_id_list(f, "delivery_method_id", "filter.delivery_method_id", &flt->methods, e)) ||
            (rc = ozon_id_list(f, "provider_id", "filter.provider_id", &flt->providers, e)))
            return rc;
    }
    return 0;
}

static int ozon_id_in(const cJSON *list, const cJSON *value)
{
    long long v;
    if (es_json_item_int(value, &v)) return 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, list) {
        long long x;
        if (es_json_item_int(it, &x) == 0 && x == v) return 1;
    }
    return 0;
}

static int ozon_str_in(const cJSON *list, const char *s)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, list)
        if (cJSON_IsString(it) && s && strcmp(it->valuestring, s) == 0) return 1;
    return 0;
}

static int ozon_match(const ozon_posting_t *p, const ozon_filter_t *f)
{
    if (f->has_since && p->in_process_ms < f->since) return 0;
    if (f->has_to && p->in_process_ms > f->to) return 0;
    if (f->has_lc_from && p->changed_ms < f->lc_from) return 0;
    if (f->has_lc_to && p->changed_ms > f->lc_to) return 0;
    const char *status = es_json_str(p->doc, "status");
    if (f->status && (!status || strcmp(status, f->status) != 0)) return 0;
    if (f->statuses && !ozon_str_in(f->statuses, status)) return 0;
    if (f->order_id) {
        long long oid = 0;
        es_json_int(p->doc, "order_id", &oid);
        if (oid != f->order_id) return 0;
    }
    if (f->order_numbers && !ozon_str_in(f->order_numbers, es_json_str(p->doc, "order_number"))) return 0;
    const cJSON *dm = cJSON_GetObjectItemCaseSensitive(p->doc, "delivery_method");
    if (f->warehouses && !ozon_id_in(f->warehouses, cJSON_GetObjectItemCaseSensitive(dm, "warehouse_id"))) return 0;
    if (f->methods && !ozon_id_in(f->methods, cJSON_GetObjectItemCaseSensitive(dm, "id"))) return 0;
    if (f->providers && !ozon_id_in(f->providers, cJSON_GetObjectItemCaseSensitive(dm, "tpl_provider_id"))) return 0;
    return 1;
}

static int ozon_cmp_asc(const void *a, const void *b)
{
    const ozon_posting_t *x = *(ozon_posting_t *const *)a, *y = *(ozon_posting_t *const *)b;
    if (x->in_process_ms != y->in_process_ms) return x->in_process_ms < y->in_process_ms ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int ozon_cmp_desc(const void *a, const void *b)
{
    return ozon_cmp_asc(b, a);
}

/* The postings matching `f`, sorted; caller frees the array. */
static ozon_posting_t **ozon_select(const ozon_filter_t *f, int desc, int *n_out)
{
    int n = ozon_store_count(), k = 0;
    ozon_posting_t **v = calloc((size_t)(n ? n : 1), sizeof *v);
    if (!v) { *n_out = 0; return NULL; }
    for (int i = 0; i < n; i++)
        if (ozon_match(ozon_store_at(i), f)) v[k++] = ozon_store_at(i);
    qsort(v, (size_t)k, sizeof *v, desc ? ozon_cmp_desc : ozon_cmp_asc);
    *n_out = k;
    return v;
}

/* ---- /v3/posting/fbs/list (offset) ------------------------------------- */

int ozon_m_list_v3(const cJSON *body, cJSON **out, ozon_err_t *e)
{
    long long limit, offset = 0;
    if (es_json_int(body, "limit", &limit) || limit < 1 || limit > 1000)
        return ozon_fail(e, 3, "limit: an integer 1..1000 is required");
    if (cJSON_GetObjectItemCaseSensitive(body, "offset") && (es_json_int(body, "offset", &offset) || offset < 0))
        return ozon_fail(e, 3, "offset: a non-negative integer is required");
    const char *dir = es_json_str(body, "dir");
    if (dir && strcasecmp(dir, "asc") != 0 && strcasecmp(dir, "desc") != 0)
        return ozon_fail(e, 3, "dir: ASC or DESC");
    ozon_filter_t f;
    int rc = ozon_parse_filter(cJSON_GetObjectItemCaseSensitive(body, "filter"), 0, &f, e);
    if (rc) return rc;
    if (!f.has_since || !f.has_to) return ozon_fail(e, 3, "filter.since and filter.to: both are required");
    if (f.to < f.since) return ozon_fail(e, 3, "filter.to: must not be before filter.since");
    if (f.to - f.since > 366LL * 86400000LL) return ozon_fail(e, 3, "filter: since..to must span at most one year");
    int n;
    ozon_posting_t **v = ozon_select(&f, dir && !strcasecmp(dir, "desc"), &n);
    const cJSON *with = cJSON_GetObjectItemCaseSensitive(body, "with");
    cJSON *arr = cJSON_CreateArray();
    for (long long i = offset; i < n && i < offset + limit; i++)
        cJSON_AddItemToArray(arr, ozon_render(v[i], 0, with));
    free(v);
    cJSON *res = cJSON_CreateObject();
    cJSON_AddItemToObject(res, "postings", arr);
    cJSON_AddBoolToObject(res, "has_next", offset + limit < n);
    *out = cJSON_CreateObject();
    cJSON_AddItemToObject(*out, "result", res);
    return 200;
}

/* ---- /v4/posting/fbs/list (cursor) ------------------------------------- */

/* The cursor is base64 of "xs1:<in_process_ms>:<seq>": the sort key of the
 * last posting returned. Keyset paging keeps pages stable while postings
 * are added. */
static char *ozon_cursor_make(const ozon_posting_t *p)
{
    char raw[64];
    int n = snprintf(raw, sizeof raw, "xs1:%lld:%lld", (long long)p->in_process_ms, (long long)p->seq);
    return es_base64_encode((const unsigned char *)raw, (size_t)n);
}

static int ozon_cursor_parse(const char *c, int64_t *ms, int64_t *seq)
{
    unsigned char raw[64];
    long long a, b;
    char tail;
    if (es_base64_decode(c, raw, sizeof raw) < 0) return -1;
    if (sscanf((const char *)raw, "xs1:%lld:%lld%c", &a, &b, &tail) != 2) return -1;
    *ms = a;
    *seq = b;
    return 0;
}

int ozon_m_list_v4(const cJSON *body, cJSON **out, ozon_err_t *e)
{
    long long limit;
    if (es_json_int(body, "limit", &limit) || limit < 1 || limit > 100)
        return ozon_fail(e, 3, "limit: an integer 1..100 is required");
    const char *dir = es_json_str(body, "sort_dir");
    if (dir && dir[0] && strcasecmp(dir, "asc") != 0 && strcasecmp(dir, "desc") != 0)
        return ozon_fail(e, 3, "sort_dir: asc or desc");
    int desc = dir && !strcasecmp(dir, "desc");
    const cJSON *cur = cJSON_GetObjectItemCaseSensitive(body, "cursor");
    if (cur && !cJSON_IsNull(cur) && !cJSON_IsString(cur)) return ozon_fail(e, 3, "cursor: a string is required");
    int has_cursor = cJSON_IsString(cur) && cur->valuestring[0];
    int64_t cms = 0, cseq = 0;
    if (has_cursor && ozon_cursor_parse(cur->valuestring, &cms, &cseq))
        return ozon_fail(e, 3, "cursor: invalid value");
    ozon_filter_t f;
    int rc = ozon_parse_filter(cJSON_GetObjectItemCaseSensitive(body, "filter"), 1, &f, e);
    if (rc) return rc;
    int n;
    ozon_posting_t **v = ozon_select(&f, desc, &n);
    int start = 0;
    if (has_cursor) {
        ozon_posting_t key = {.in_process_ms = cms, .seq = cseq};
        ozon_posting_t *kp = &key;
        while (start < n) {
            int c = ozon_cmp_asc(&v[start], &kp);
            if (desc ? c < 0 : c > 0) break;
            start++;
        }
    }
    const cJSON *with = cJSON_GetObjectItemCaseSensitive(body, "with");
    cJSON *arr = cJSON_CreateArray();
    int end = start;
    for (; end < n && end < start + limit; end++) cJSON_AddItemToArray(arr, ozon_render(v[end], 1, with));
    char *next = end > start ? ozon_cursor_make(v[end - 1]) : NULL;
    *out = cJSON_CreateObject();
    cJSON_AddStringToObject(*out, "cursor", next ? next : (has_cursor ? cur->valuestring : ""));
    cJSON_AddBoolToObject(*out, "has_next", end < n);
    cJSON_AddItemToObject(*out, "postings", arr);
    free(next);
    free(v);
    return 200;
}

/* ---- rFBS status methods ----------------------------------------------- */

static cJSON *ozon_result_item(const char *number, const char *error)
{
    cJSON *o = cJSON_CreateObject();
    if (ozon_opts.error_as_array) {
        cJSON *arr = cJSON_CreateArray();
        if (error) cJSON_AddItemToArray(arr, cJSON_CreateString(error));
        cJSON_AddItemToObject(o, "error", arr);
    } else {
        cJSON_AddStringToObject(o, "error", error ? error : "");
    }
    cJSON_AddStringToObject(o, "posting_number", number);
    cJSON_AddBoolToObject(o, "result", error == NULL);
    return o;
}

static int ozon_move(const cJSON *body, cJSON **out, ozon_err_t *e, const char *action,
                     const char *status, const char *substatus)
{
    const cJSON *nums = cJSON_GetObjectItemCaseSensitive(body, "posting_number");
    if (cJSON_IsString(nums)) {
        /* tolerate a single string */
    } else if (!cJSON_IsArray(nums) || cJSON_GetArraySize(nums) == 0) {
        return ozon_fail(e, 3, "posting_number: a non-empty array of posting numbers is required");
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, nums)
        if (!cJSON_IsString(it)) return ozon_fail(e, 3, "posting_number: every item must be a string");
    cJSON *res = cJSON_CreateArray();
    int64_t now = es_now_ms();
    char err[128];
    const cJSON *single = cJSON_IsString(nums) ? nums : NULL;
    for (const cJSON *n = single ? single : nums->child; n; n = single ? NULL : n->next) {
        ozon_posting_t *p = ozon_store_find(n->valuestring);
        const char *error = NULL;
        if (!p) error = "POSTING_NOT_FOUND";
        else if (!ozon_has_action(p, action)) error = "ACTION_NOT_AVAILABLE";
        else if (ozon_store_set_status(p, status, substatus, now, err, sizeof err)) error = "INTERNAL_ERROR";
        else ES_LOG_INFO("ozon_status_changed", "posting=%s status=%s via=%s", p->number, status, action);
        cJSON_AddItemToArray(res, ozon_result_item(n->valuestring, error));
    }
    *out = cJSON_CreateObject();
    cJSON_AddItemToObject(*out, "result", res);
    return 200;
}

int ozon_m_delivering(const cJSON *body, cJSON **out, ozon_err_t *e)
{
    return ozon_move(body, out, e, "non_int_delivering", "delivering", "posting_transferred_to_courier_service");
}

int ozon_m_last_mile(const cJSON *body, cJSON **out, ozon_err_t *e)
{
    return ozon_move(body, out, e, "non_int_last_mile", "driver_pickup", "posting_driver_pick_up");
}

int ozon_m_delivered(const cJSON *body, cJSON **out, ozon_err_t *e)
{
    if (ozon_opts.delivered_conditionally)
        return ozon_move(body, out, e, "non_int_delivered", "delivering", "posting_conditionally_delivered");
    return ozon_move(body, out, e, "non_int_delivered", "delivered", "posting_delivered");
}

int ozon_m_tracking_set(const cJSON *body, cJSON **out, ozon_err_t *e)
{
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(body, "tracking_numbers");
    if (!cJSON_IsArray(list) || cJSON_GetArraySize(list) == 0)
        return ozon_fail(e, 3, "tracking_numbers: a non-empty array is required");
    const cJSON *it;
    cJSON_ArrayForEach(it, list)
        if (!es_json_str(it, "posting_number"))
            return ozon_fail(e, 3, "tracking_numbers[].posting_number: required");
    cJSON *res = cJSON_CreateArray();
    cJSON_ArrayForEach(it, list) {
        const char *number = es_json_str(it, "posting_number");
        const char *track = es_json_str(it, "tracking_number");
        ozon_posting_t *p = ozon_store_find(number);
        const char *error = NULL;
        if (!p) error = "POSTING_NOT_FOUND";
        else if (!track || !track[0]) error = "TRACKING_NUMBER_REQUIRED";
        else if (!ozon_has_action(p, "set_track_number")) error = "ACTION_NOT_AVAILABLE";
        else es_json_set_str(p->doc, "tracking_number", track);
        cJSON_AddItemToArray(res, ozon_result_item(number, error));
    }
    *out = cJSON_CreateObject();
    cJSON_AddItemToObject(*out, "result", res);
    return 200;
}
