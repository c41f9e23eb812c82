/* ozon_returns.c — returns in the emulated Ozon Seller API: the FBS/FBO
 * returns list (/v1/returns/list), rFBS return requests (/v2/returns/rfbs/
 * list and get) and their actions (/v1/returns/rfbs/action/set), with a
 * small invented state machine (docs/extsim.md).
 *
 * Exports: ozon_m_returns_list, ozon_m_rfbs_list, ozon_m_rfbs_get,
 * ozon_m_rfbs_action_set, ozon_returns_seed, ozon_returns_dump,
 * ozon_returns_clear (ozon_api.h).
 *
 * Threads: callers hold es_lock.
 */
#include "es_json.h"
#include "es_state.h"
#include "ozon_api.h"
#include "ozon_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct ozon_ret {
    long long id;
    char posting[64];
    int rfbs;
    const struct ozon_rstate *state;
    cJSON *item;          /* /v1/returns/list element */
    cJSON *req;           /* rFBS request: the get shape (state rendered on output) */
    int64_t created_ms, return_ms, visual_ms;
    struct ozon_ret *next;
} ozon_ret_t;

static ozon_ret_t *ozon_rets; /* ascending id */
static long long ozon_ret_next_id = 1000015552;

/* rFBS return states and the actions allowed in each. Action ids -1, -10
 * (reject; comment and reason required) and 1020 (partial compensation;
 * amount required) follow api-facts A.7; 1, 2, 3 and all state names are
 * extsim's own. */
typedef struct ozon_raction {
    int id;
    const char *name;
    const char *to;
} ozon_raction_t;

typedef struct ozon_rstate {
    const char *state, *group, *name;
    ozon_raction_t actions[3];
} ozon_rstate_t;

static const ozon_rstate_t ozon_rstates[] = {
    {"ON_APPROVAL", "New", "Ожидает одобрения продавцом",
     {{1, "Одобрить возврат", "WAITING_FOR_DELIVERY"},
      {-1, "Отклонить", "REJECTED"},
      {1020, "Вернуть часть денег", "PARTIAL_COMPENSATION"}}},
    {"WAITING_FOR_DELIVERY", "Delivering", "Ожидает отправки покупателем",
     {{2, "Товар получен", "RECEIVED"}, {0, NULL, NULL}, {0, NULL, NULL}}},
    {"RECEIVED", "Checkout", "Товар получен, идёт проверка",
     {{3, "Вернуть деньги", "MONEY_RETURNED"},
      {-10, "Отклонить после проверки", "REJECTED_AFTER_CHECK"},
      {1020, "Вернуть часть денег", "PARTIAL_COMPENSATION"}}},
    {"MONEY_RETURNED", "Approved", "Деньги возвращены", {{0, NULL, NULL}}},
    {"PARTIAL_COMPENSATION", "Approved", "Покупателю выплачена компенсация", {{0, NULL, NULL}}},
    {"REJECTED", "Rejected", "Возврат отклонён", {{0, NULL, NULL}}},
    {"REJECTED_AFTER_CHECK", "Rejected", "Возврат отклонён после проверки", {{0, NULL, NULL}}},
};

static const ozon_rstate_t *ozon_rstate(const char *state)
{
    for (size_t i = 0; i < sizeof ozon_rstates / sizeof ozon_rstates[0]; i++)
        if (state && strcmp(ozon_rstates[i].state, state) == 0) return &ozon_rstates[i];
    return NULL;
}

static const ozon_raction_t *ozon_raction(const ozon_rstate_t *s, long long id)
{
    for (int i = 0; i < 3; i++)
        if (s->actions[i].name && s->actions[i].id == id) return &s->actions[i];
    return NULL;
}

static ozon_ret_t *ozon_ret_find(long long id)
{
    for (ozon_ret_t *r = ozon_rets; r; r = r->next)
        if (r->id == id) return r;
    return NULL;
}

static void ozon_ret_free(ozon_ret_t *r)
{
    cJSON_Delete(r->item);
    cJSON_Delete(r->req);
    free(r);
}

void ozon_returns_clear(void)
{
    while (ozon_rets) {
        ozon_ret_t *r = ozon_rets;
        ozon_rets = r->next;
        ozon_ret_free(r);
    }
    ozon_ret_next_id = 1000015552;
}

static void ozon_set_iso(cJSON *o, const char *key, int64_t ms)
{
    char b[32];
    es_iso_time(ms, b);
    es_json_set_str(o, key, b);
}

long long ozon_returns_seed(const cJSON *in, char *err, size_t errlen)
{
    const char *number = es_json_str(in, "posting_number");
    if (!number || !number[0] || strlen(number) >= 64) {
        snprintf(err, errlen, "posting_number: required");
        return -1;
    }
    const ozon_posting_t *p = ozon_store_find(number);
    long long id;
    if (es_json_int(in, "return_id", &id) && es_json_int(in, "id", &id)) id = ozon_ret_next_id;
    if (id <= 0) {
        snprintf(err, errlen, "return_id: a positive integer");
        return -1;
    }
    const char *tpl = p ? es_json_str(p->doc, "tpl_integration_type") : NULL;
    int rfbs = es_json_bool(in, "rfbs", !tpl || !strcmp(tpl, "non_integrated") || !strcmp(tpl, "3pl_tracking"));
    const char *state_name = es_json_str(in, "state");
    const ozon_rstate_t *st = ozon_rstate(state_name ? state_name : "ON_APPROVAL");
    if (!st) {
        snprintf(err, errlen, "state: one of ON_APPROVAL, WAITING_FOR_DELIVERY, RECEIVED, MONEY_RETURNED, "
                              "PARTIAL_COMPENSATION, REJECTED, REJECTED_AFTER_CHECK");
        return -1;
    }
    int64_t created = es_now_ms();
    const char *ca = es_json_str(in, "created_at");
    if (ca && es_parse_iso(ca, &created)) {
        snprintf(err, errlen, "created_at: an RFC 3339 date is required");
        return -1;
    }
    const char *reason = es_json_str(in, "reason");
    if (!reason) reason = "Не подошёл товар";

    /* product: given, else the posting's first product */
    const cJSON *pin = cJSON_GetObjectItemCaseSensitive(in, "product");
    const cJSON *pp = p ? cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(p->doc, "products"), 0) : NULL;
    const cJSON *src = cJSON_IsObject(pin) ? pin : pp;
    long long sku = 0, qty = 1;
    double price = 0;
    es_json_int(src, "sku", &sku);
    es_json_int(src, "quantity", &qty);
    es_json_num(src, "price", &price);
    const char *offer = es_json_str(src, "offer_id"), *pname = es_json_str(src, "name");

    char order_number[64];
    snprintf(order_number, sizeof order_number, "%s", number);
    char *dash = strrchr(order_number, '-');
    if (dash) *dash = '\0';
    long long order_id = 0;
    if (p) es_json_int(p->doc, "order_id", &order_id);

    cJSON *it = cJSON_CreateObject();
    cJSON_AddNumberToObject(it, "id", (double)id);
    cJSON_AddNumberToObject(it, "company_id", atof(es_cfg.ozon_client_id));
    cJSON_AddStringToObject(it, "return_reason_name", reason);
    cJSON_AddStringToObject(it, "type", "FullReturn");
    cJSON_AddStringToObject(it, "schema", "Fbs");
    cJSON_AddNumberToObject(it, "order_id", (double)order_id);
    cJSON_AddStringToObject(it, "order_number", order_number);
    cJSON_AddStringToObject(it, "posting_number", number);
    cJSON *place = cJSON_CreateObject();
    cJSON_AddNumberToObject(place, "id", 0);
    cJSON_AddStringToObject(place, "name", "");
    cJSON_AddStringToObject(place, "address", "");
    cJSON_AddItemToObject(it, "place", place);
    cJSON *prod = cJSON_CreateObject();
    cJSON_AddNumberToObject(prod, "sku", (double)sku);
    cJSON_AddStringToObject(prod, "offer_id", offer ? offer : "");
    cJSON_AddStringToObject(prod, "name", pname ? pname : "");
    cJSON *pr = cJSON_CreateObject();
    cJSON_AddStringToObject(pr, "currency_code", "RUB");
    cJSON_AddNumberToObject(pr, "price", price);
    cJSON_AddItemToObject(prod, "price", pr);
    cJSON_AddNumberToObject(prod, "quantity", (double)qty);
    cJSON_AddItemToObject(it, "product", prod);
    cJSON *log = cJSON_CreateObject();
    cJSON_AddNullToObject(log, "technical_return_moment");
    cJSON_AddNullToObject(log, "final_moment");
    ozon_set_iso(log, "return_date", created);
    char barcode[48];
    snprintf(barcode, sizeof barcode, "ii%lld", id);
    cJSON_AddStringToObject(log, "barcode", barcode);
    cJSON_AddItemToObject(it, "logistic", log);
    cJSON *vis = cJSON_CreateObject(), *vst = cJSON_CreateObject();
    const cJSON *vin = cJSON_GetObjectItemCaseSensitive(in, "visual_status");
    if (cJSON_IsObject(vin)) {
        cJSON_Delete(vst);
        vst = cJSON_Duplicate(vin, 1);
    } else {
        const char *sys = cJSON_IsString(vin) ? vin->valuestring : "ArrivedAtReturnPlace";
        cJSON_AddNumberToObject(vst, "id", strcmp(sys, "ArrivedAtReturnPlace") ? 0 : 3);
        cJSON_AddStringToObject(vst, "display_name", strcmp(sys, "ArrivedAtReturnPlace") ? sys : "At the pick-up point");
        cJSON_AddStringToObject(vst, "sys_name", sys);
    }
    cJSON_AddItemToObject(vis, "status", vst);
    ozon_set_iso(vis, "change_moment", created);
    cJSON_AddItemToObject(it, "visual", vis);
    cJSON *add = cJSON_CreateObject();
    cJSON_AddFalseToObject(add, "is_opened");
    cJSON_AddFalseToObject(add, "is_super_econom");
    cJSON_AddItemToObject(it, "additional_info", add);
    cJSON_AddItemToObject(it, "exemplars", cJSON_CreateArray());
    cJSON_AddNumberToObject(it, "source_id", 0);
    cJSON_AddNullToObject(it, "clearing_id");
    cJSON_AddNullToObject(it, "return_clearing_id");
    cJSON_AddNullToObject(it, "compensation_status");

    cJSON *rq = NULL;
    if (rfbs) {
        rq = cJSON_CreateObject();
        cJSON_AddNumberToObject(rq, "return_id", (double)id);
        char rn[48];
        snprintf(rn, sizeof rn, "RET-%lld", id);
        cJSON_AddStringToObject(rq, "return_number", rn);
        cJSON_AddStringToObject(rq, "posting_number", number);
        cJSON_AddStringToObject(rq, "order_number", order_number);
        ozon_set_iso(rq, "created_at", created);
        cJSON *rp = cJSON_CreateObject();
        cJSON_AddNumberToObject(rp, "sku", (double)sku);
        cJSON_AddStringToObject(rp, "offer_id", offer ? offer : "");
        cJSON_AddStringToObject(rp, "name", pname ? pname : "");
        cJSON_AddNumberToObject(rp, "price", price);
        cJSON_AddStringToObject(rp, "currency_code", "RUB");
        cJSON_AddItemToObject(rq, "product", rp);
        cJSON_AddItemToObject(rq, "client_photo", cJSON_CreateArray());
        cJSON *m = cJSON_CreateObject();
        cJSON_AddNumberToObject(m, "id", 1);
        cJSON_AddStringToObject(m, "name", "Курьером продавца");
        cJSON_AddItemToObject(rq, "client_return_method_type", m);
        const char *comment = es_json_str(in, "comment");
        cJSON_AddStringToObject(rq, "comment", comment ? comment : "");
        cJSON *rr = cJSON_CreateArray();
        static const char *const reasons[] = {"Товар был в употреблении", "Нет товара в возврате",
                                              "Товар повреждён покупателем"};
        for (int i = 0; i < 3; i++) {
            cJSON *x = cJSON_CreateObject();
            cJSON_AddStringToObject(x, "hint", "");
            cJSON_AddNumberToObject(x, "id", i + 1);
            cJSON_AddTrueToObject(x, "is_comment_required");
            cJSON_AddStringToObject(x, "name", reasons[i]);
            cJSON_AddItemToArray(rr, x);
        }
        cJSON_AddItemToObject(rq, "rejection_reason", rr);
        cJSON_AddStringToObject(rq, "return_method_description", "");
        cJSON *reas = cJSON_CreateObject();
        cJSON_AddNumberToObject(reas, "id", 1);
        cJSON_AddBoolToObject(reas, "is_defect", es_json_bool(in, "is_defect", 0));
        cJSON_AddStringToObject(reas, "name", reason);
        cJSON_AddItemToObject(rq, "return_reason", reas);
        cJSON_AddStringToObject(rq, "ru_post_tracking_number", "");
        const cJSON *dm = p ? cJSON_GetObjectItemCaseSensitive(p->doc, "delivery_method") : NULL;
        const cJSON *wid = cJSON_GetObjectItemCaseSensitive(dm, "warehouse_id");
        cJSON_AddNumberToObject(rq, "warehouse_id", cJSON_IsNumber(wid) ? wid->valuedouble : 0);
    }

    ozon_ret_t *r = ozon_ret_find(id);
    if (r) {
        cJSON_Delete(r->item);
        cJSON_Delete(r->req);
    } else {
        r = calloc(1, sizeof *r);
        if (!r) { cJSON_Delete(it); cJSON_Delete(rq); snprintf(err, errlen, "out of memory"); return -1; }
        r->id = id;
        ozon_ret_t **pp2 = &ozon_rets;
        while (*pp2 && (*pp2)->id < id) pp2 = &(*pp2)->next;
        r->next = *pp2;
        *pp2 = r;
    }
    snprintf(r->posting, sizeof r->posting, "%s", number);
    r->rfbs = rfbs;
    r->state = st;
    r->item = it;
    r->req = rq;
    r->created_ms = r->return_ms = r->visual_ms = created;
    if (id >= ozon_ret_next_id) ozon_ret_next_id = id + 1;
    return id;
}

/* The rFBS request with its current state (and, for get, its actions). */
static cJSON *ozon_rfbs_render(const ozon_ret_t *r, int full)
{
    cJSON *o;
    if (full) o = cJSON_Duplicate(r->req, 1);
    else {
        o = cJSON_CreateObject();
        static const char *const keys[] = {"return_id", "return_number", "posting_number",
                                           "order_number", "created_at", "product"};
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
            cJSON_AddItemToObject(o, keys[i], cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(r->req, keys[i]), 1));
    }
    cJSON *s = cJSON_CreateObject();
    cJSON_AddStringToObject(s, "group_state", r->state->group);
    cJSON_AddStringToObject(s, "state", r->state->state);
    cJSON_AddStringToObject(s, "state_name", r->state->name);
    cJSON_AddItemToObject(o, "state", s);
    if (full) {
        cJSON *acts = cJSON_CreateArray();
        for (int i = 0; i < 3; i++) {
            if (!r->state->actions[i].name) continue;
            cJSON *a = cJSON_CreateObject(), *x = cJSON_CreateObject();
            cJSON_AddNumberToObject(x, "id", r->state->actions[i].id);
            cJSON_AddStringToObject(x, "name", r->state->actions[i].name);
            cJSON_AddItemToObject(a, "action", x);
            cJSON_AddItemToArray(acts, a);
        }
        cJSON_AddItemToObject(o, "available_actions", acts);
    }
    return o;
}

cJSON *ozon_returns_dump(void)
{
    cJSON *arr = cJSON_CreateArray();
    for (ozon_ret_t *r = ozon_rets; r; r = r->next) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "id", (double)r->id);
        cJSON_AddStringToObject(o, "posting_number", r->posting);
        cJSON_AddBoolToObject(o, "rfbs", r->rfbs);
        cJSON_AddItemToObject(o, "list_item", cJSON_Duplicate(r->item, 1));
        if (r->rfbs) cJSON_AddItemToObject(o, "rfbs_item", ozon_rfbs_render(r, 1));
        else cJSON_AddNullToObject(o, "rfbs_item");
        cJSON_AddItemToArray(arr, o);
    }
    cJSON *out = cJSON_CreateObject();
    cJSON_AddItemToObject(out, "returns", arr);
    return out;
}

/* A {time_from,time_to} (or {from,to}) range; 0 when absent/valid. */
static int ozon_range(const cJSON *f, const char *key, int *has, int64_t *from, int64_t *to, ozon_err_t *e)
{
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(f, key);
    if (!r || cJSON_IsNull(r)) return 0;
    if (!cJSON_IsObject(r)) return ozon_fail(e, 3, "filter.%s: an object is required", key);
    *has = 1;
    *from = INT64_MIN;
    *to = INT64_MAX;
    const char *a = es_json_str(r, "time_from"), *b = es_json_str(r, "time_to");
    if (!a) a = es_json_str(r, "from");
    if (!b) b = es_json_str(r, "to");
    if ((a && a[0] && es_parse_iso(a, from)) || (b && b[0] && es_parse_iso(b, to)))
        return ozon_fail(e, 3, "filter.%s: RFC 3339 dates are required", key);
    return 0;
}

int ozon_m_returns_list(const cJSON *body, cJSON **out, ozon_err_t *e)
{
    long long limit, last_id = 0;
    if (es_json_int(body, "limit", &limit) || limit < 1 || limit > 500)
        return ozon_fail(e, 3, "limit: an integer 1..500 is required");
    if (cJSON_GetObjectItemCaseSensitive(body, "last_id") && es_json_int(body, "last_id", &last_id))
        return ozon_fail(e, 3, "last_id: an integer is required");
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(body, "filter");
    if (f && !cJSON_IsNull(f) && !cJSON_IsObject(f)) return ozon_fail(e, 3, "filter: an object is required");
    int has_lr = 0, has_vs = 0, has_st = 0, rc;
    int64_t lr_from, lr_to, vs_from, vs_to, st_from, st_to;
    if ((rc = ozon_range(f, "logistic_return_date", &has_lr, &lr_from, &lr_to, e)) ||
        (rc = ozon_range(f, "visual_status_change_moment", &has_vs, &vs_from, &vs_to, e)) ||
        (rc = ozon_range(f, "storage_tariffication_start_date", &has_st, &st_from, &st_to, e)))
        return rc;
    if (has_lr + has_vs + has_st > 1)
        return ozon_fail(e, 3, "filter: only one of logistic_return_date, storage_tariffication_start_date, "
                               "visual_status_change_moment may be given");
    const cJSON *numbers = cJSON_GetObjectItemCaseSensitive(f, "posting_numbers");
    const char *offer = es_json_str(f, "offer_id"), *vsn = es_json_str(f, "visual_status_name");
    const char *schema = es_json_str(f, "return_schema");
    cJSON *arr = cJSON_CreateArray();
    int n = 0, more = 0;
    for (ozon_ret_t *r = ozon_rets; r; r = r->next) {
        if (r->id <= last_id) continue;
        if (cJSON_IsArray(numbers) && cJSON_GetArraySize(numbers) > 0) {
            int hit = 0;
            const cJSON *x;
            cJSON_ArrayForEach(x, numbers) if (cJSON_IsString(x) && !strcmp(x->valuestring, r->posting)) hit = 1;
            if (!hit) continue;
        }
        if (has_lr && (r->return_ms < lr_from || r->return_ms > lr_to)) continue;
        if (has_vs && (r->visual_ms < vs_from || r->visual_ms > vs_to)) continue;
        const cJSON *prod = cJSON_GetObjectItemCaseSensitive(r->item, "product");
        if (offer && offer[0] && strcmp(offer, es_json_str(prod, "offer_id") ? es_json_str(prod, "offer_id") : "")) continue;
        const cJSON *vst = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(r->item, "visual"), "status");
        const char *sys = es_json_str(vst, "sys_name");
        if (vsn && vsn[0] && (!sys || strcmp(vsn, sys))) continue;
        const char *sch = es_json_str(r->item, "schema");
        if (schema && schema[0] && (!sch || strcasecmp(schema, sch))) continue;
        if (n == limit) { more = 1; break; }
        cJSON_AddItemToArray(arr, cJSON_Duplicate(r->item, 1));
        n++;
    }
    *out = cJSON_CreateObject();
    cJSON_AddItemToObject(*out, "returns", arr);
    cJSON_AddBoolToObject(*out, "has_next", more);
    return 200;
}

int ozon_m_rfbs_list(const cJSON *body, cJSON **out, ozon_err_t *e)
{
    long long limit = 1000, last_id = 0;
    if (cJSON_GetObjectItemCaseSensitive(body, "limit") && (es_json_int(body, "limit", &limit) || limit < 1 || limit > 1000))
        return ozon_fail(e, 3, "limit: an integer 1..1000 is required");
    if (cJSON_GetObjectItemCaseSensitive(body, "last_id") && es_json_int(body, "last_id", &last_id))
        return ozon_fail(e, 3, "last_id: an integer is required");
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(body, "filter");
    if (f && !cJSON_IsNull(f) && !cJSON_IsObject(f)) return ozon_fail(e, 3, "filter: an object is required");
    int has_c = 0, rc;
    int64_t c_from, c_to;
    if ((rc = ozon_range(f, "created_at", &has_c, &c_from, &c_to, e))) return rc;
    const char *number = es_json_str(f, "posting_number"), *offer = es_json_str(f, "offer_id");
    const cJSON *groups = cJSON_GetObjectItemCaseSensitive(f, "group_state");
    if (groups && !cJSON_IsNull(groups) && !cJSON_IsArray(groups))
        return ozon_fail(e, 3, "filter.group_state: an array is required");
    cJSON *arr = cJSON_CreateArray();
    int n = 0;
    for (ozon_ret_t *r = ozon_rets; r && n < limit; r = r->next) {
        if (!r->rfbs || r->id <= last_id) continue;
        if (number && number[0] && strcmp(number, r->posting)) continue;
        const char *ro = es_json_str(cJSON_GetObjectItemCaseSensitive(r->req, "product"), "offer_id");
        if (offer && offer[0] && (!ro || strcmp(offer, ro))) continue;
        if (has_c && (r->created_ms < c_from || r->created_ms > c_to)) continue;
        if (cJSON_GetArraySize(groups) > 0) {
            int hit = 0;
            const cJSON *g;
            cJSON_ArrayForEach(g, groups)
                if (cJSON_IsString(g) && (!strcmp(g->valuestring, "All") || !strcmp(g->valuestring, r->state->group)))
                    hit = 1;
            if (!hit) continue;
        }
        cJSON_AddItemToArray(arr, ozon_rfbs_render(r, 0));
        n++;
    }
    *out = cJSON_CreateObject();
    cJSON_AddItemToObject(*out, "returns", arr);
    return 200;
}

int ozon_m_rfbs_get(const cJSON *body, cJSON **out, ozon_err_t *e)
{
    long long id;
    if (es_json_int(body, "return_id", &id) || id <= 0) return ozon_fail(e, 3, "return_id: required");
    ozon_ret_t *r = ozon_ret_find(id);
    if (!r || !r->rfbs) return ozon_fail(e, 5, "RETURN_NOT_FOUND");
    *out = cJSON_CreateObject();
    cJSON_AddItemToObject(*out, "returns", ozon_rfbs_render(r, 1));
    return 200;
}

int ozon_m_rfbs_action_set(const cJSON *body, cJSON **out, ozon_err_t *e)
{
    long long rid, aid, reason = 0;
    if (es_json_int(body, "return_id", &rid) || rid <= 0) return ozon_fail(e, 3, "return_id: required");
    if (es_json_int(body, "id", &aid)) return ozon_fail(e, 3, "id: the action id from available_actions is required");
    ozon_ret_t *r = ozon_ret_find(rid);
    if (!r || !r->rfbs) return ozon_fail(e, 5, "RETURN_NOT_FOUND");
    const ozon_raction_t *a = ozon_raction(r->state, aid);
    if (!a) return ozon_fail(e, 3, "id: action %lld is not available in state %s", aid, r->state->state);
    const char *comment = es_json_str(body, "comment");
    if (aid == -1 || aid == -10) {
        if (!comment || !comment[0]) return ozon_fail(e, 3, "comment: required for action %lld", aid);
        if (es_json_int(body, "rejection_reason_id", &reason) || reason <= 0)
            return ozon_fail(e, 3, "rejection_reason_id: required for action %lld", aid);
    }
    if (aid == 1020) {
        double amount = 0;
        if (es_json_num(body, "compensation_amount", &amount) || amount <= 0)
            return ozon_fail(e, 3, "compensation_amount: a positive amount is required for action 1020");
    }
    r->state = ozon_rstate(a->to);
    if (comment) es_json_set_str(r->req, "seller_comment", comment);
    ES_LOG_INFO("ozon_return_action", "return_id=%lld action=%lld state=%s", rid, aid, r->state->state);
    *out = cJSON_CreateObject();
    return 200;
}
