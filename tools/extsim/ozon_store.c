/* ozon_store.c — postings, normalisation of seeds, the state machine and
 * rendering (see ozon_store.h).
 *
 * Threads: callers hold es_lock.
 */
#include "ozon_store.h"

#include "es_json.h"
#include "es_state.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

ozon_opts_t ozon_opts;

static ozon_posting_t **ozon_posts;
static int ozon_n, ozon_cap;
static int64_t ozon_next_seq = 1;

void ozon_opts_reset(void)
{
    memset(&ozon_opts, 0, sizeof ozon_opts);
}

/* ---- statuses ---------------------------------------------------------- */

typedef struct ozon_status_row {
    const char *status;
    const char *substatus;       /* default substatus */
} ozon_status_row_t;

static const ozon_status_row_t ozon_statuses[] = {
    {"acceptance_in_progress", "posting_acceptance_in_progress"},
    {"arbitration", "posting_in_arbitration"},
    {"awaiting_approve", "posting_created"},
    {"awaiting_deliver", "posting_transferring_to_delivery"},
    {"awaiting_packaging", "posting_created"},
    {"awaiting_registration", "posting_awaiting_registration"},
    {"awaiting_verification", "posting_created"},
    {"cancelled", "posting_canceled"},
    {"cancelled_from_split_pending", "posting_canceled"},
    {"client_arbitration", "posting_in_client_arbitration"},
    {"delivered", "posting_delivered"},
    {"delivering", "posting_transferred_to_courier_service"},
    {"driver_pickup", "posting_driver_pick_up"},
    {"not_accepted", "posting_not_in_sort_center"},
    {"sent_by_seller", "posting_transferred_to_courier_service"},
};

static const ozon_status_row_t *ozon_status_row(const char *status)
{
    for (size_t i = 0; i < sizeof ozon_statuses / sizeof ozon_statuses[0]; i++)
        if (status && strcmp(ozon_statuses[i].status, status) == 0) return &ozon_statuses[i];
    return NULL;
}

int ozon_status_known(const char *status)
{
    return ozon_status_row(status) != NULL;
}

static int ozon_seller_delivers(const char *tpl)
{
    return tpl && (strcmp(tpl, "non_integrated") == 0 || strcmp(tpl, "3pl_tracking") == 0);
}

static int ozon_action_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* available_actions as a function of the posting's state (docs/extsim.md). */
static cJSON *ozon_actions_for(const cJSON *doc)
{
    const char *status = es_json_str(doc, "status");
    const char *sub = es_json_str(doc, "substatus");
    const char *tpl = es_json_str(doc, "tpl_integration_type");
    const cJSON *cust = cJSON_GetObjectItemCaseSensitive(doc, "customer");
    const char *phone = es_json_str(cust, "phone");
    const char *a[16];
    int n = 0;
    int seller = ozon_seller_delivers(tpl), track = tpl && strcmp(tpl, "3pl_tracking") == 0;
    int active = 0;
    if (!status) status = "";
    if (!strcmp(status, "awaiting_packaging")) {
        a[n++] = "cancel"; a[n++] = "has_barcode_for_printing"; a[n++] = "product_cancel";
        a[n++] = "ship"; a[n++] = "ship_async";
        active = 1;
    } else if (!strcmp(status, "awaiting_deliver")) {
        a[n++] = "cancel";
        a[n++] = "label_download";
        if (seller) a[n++] = "non_int_delivering";
        if (track) a[n++] = "set_track_number";
        active = 1;
    } else if (!strcmp(status, "delivering")) {
        int cond = sub && !strcmp(sub, "posting_conditionally_delivered");
        if (seller && !cond) { a[n++] = "non_int_last_mile"; a[n++] = "non_int_delivered"; }
        if (track && !cond) a[n++] = "set_track_number";
        active = 1;
    } else if (!strcmp(status, "driver_pickup")) {
        if (seller) a[n++] = "non_int_delivered";
        active = 1;
    } else if (!strcmp(status, "awaiting_approve") || !strcmp(status, "awaiting_registration") ||
               !strcmp(status, "acceptance_in_progress")) {
        a[n++] = "cancel";
        active = 1;
    }
    if (active && seller) {
        a[n++] = "can_create_chat";
        if (phone && phone[0]) a[n++] = "customer_phone_available";
    }
    qsort(a, (size_t)n, sizeof a[0], ozon_action_cmp);
    cJSON *arr = cJSON_CreateArray();
    for (int i = 0; i < n; i++) cJSON_AddItemToArray(arr, cJSON_CreateString(a[i]));
    return arr;
}

int ozon_has_action(const ozon_posting_t *p, const char *action)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(p->doc, "available_actions");
    const cJSON *it;
    cJSON_ArrayForEach(it, arr)
        if (cJSON_IsString(it) && strcmp(it->valuestring, action) == 0) return 1;
    return 0;
}

/* ---- seeding ----------------------------------------------------------- */

static int ozon_number_ok(const char *s)
{
    /* digits-digits-digits, e.g. 12345678-0001-1 (A.2, validated loosely) */
    int groups = 0, digits = 0;
    size_t len = strlen(s);
    if (len == 0 || len >= 64) return 0;
    for (const char *p = s;; p++) {
        if (isdigit((unsigned char)*p)) { digits++; continue; }
        if (*p == '-' || *p == '\0') {
            if (!digits) return 0;
            groups++;
            digits = 0;
            if (*p == '\0') break;
            continue;
        }
        return 0;
    }
    return groups == 3;
}

static uint64_t ozon_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static void ozon_money(char *out, size_t n, double v, int decimals)
{
    snprintf(out, n, "%.*f", decimals, v);
}

/* A price given as number or string → the v3 "1530.0000" form. */
static cJSON *ozon_price_str(const cJSON *v, double dflt)
{
    double d = dflt;
    if (cJSON_IsNumber(v)) d = v->valuedouble;
    else if (cJSON_IsString(v) && v->valuestring[0]) d = strtod(v->valuestring, NULL);
    else if (cJSON_IsObject(v)) { /* v4 form {"amount":"…"} */
        double x;
        if (es_json_num(v, "amount", &x) == 0) d = x;
    }
    char buf[64];
    ozon_money(buf, sizeof buf, d, 4);
    return cJSON_CreateString(buf);
}

static cJSON *ozon_dim_str(const cJSON *v, double dflt, int decimals)
{
    double d = dflt;
    if (cJSON_IsNumber(v)) d = v->valuedouble;
    else if (cJSON_IsString(v) && v->valuestring[0]) d = strtod(v->valuestring, NULL);
    char buf[64];
    ozon_money(buf, sizeof buf, d, decimals);
    return cJSON_CreateString(buf);
}

static cJSON *ozon_product(const cJSON *in, const char *number, int idx)
{
    cJSON *p = cJSON_IsObject(in) ? cJSON_Duplicate(in, 1) : cJSON_CreateObject();
    char key[96];
    snprintf(key, sizeof key, "%s#%d", number, idx);
    long long sku;
    if (es_json_int(p, "sku", &sku)) sku = (long long)(ozon_hash(key) % 900000000ULL) + 100000000LL;
    es_json_replace(p, "sku", cJSON_CreateNumber((double)sku));
    if (!es_json_str(p, "offer_id")) {
        char offer[48];
        snprintf(offer, sizeof offer, "PLUS7-%lld", sku);
        es_json_set_str(p, "offer_id", offer);
    }
    if (!es_json_str(p, "name")) es_json_set_str(p, "name", "Товар");
    long long q;
    if (es_json_int(p, "quantity", &q) || q < 1) q = 1;
    es_json_replace(p, "quantity", cJSON_CreateNumber((double)q));
    es_json_replace(p, "price", ozon_price_str(cJSON_GetObjectItemCaseSensitive(p, "price"), 990.0));
    if (!es_json_str(p, "currency_code")) es_json_set_str(p, "currency_code", "RUB");
    /* dimensions: height/length/width in mm as "150.00", weight in grams as "550" */
    const cJSON *din = cJSON_GetObjectItemCaseSensitive(p, "dimensions");
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(p, "weight");
    if (!w) w = cJSON_GetObjectItemCaseSensitive(din, "weight");
    cJSON *dim = cJSON_CreateObject();
    cJSON_AddItemToObject(dim, "height", ozon_dim_str(cJSON_GetObjectItemCaseSensitive(din, "height"), 100, 2));
    cJSON_AddItemToObject(dim, "length", ozon_dim_str(cJSON_GetObjectItemCaseSensitive(din, "length"), 200, 2));
    cJSON_AddItemToObject(dim, "weight", ozon_dim_str(w, 500, 0));
    cJSON_AddItemToObject(dim, "width", ozon_dim_str(cJSON_GetObjectItemCaseSensitive(din, "width"), 150, 2));
    es_json_replace(p, "dimensions", dim);
    cJSON_DeleteItemFromObjectCaseSensitive(p, "weight");
    if (!cJSON_GetObjectItemCaseSensitive(p, "mandatory_mark"))
        cJSON_AddItemToObject(p, "mandatory_mark", cJSON_CreateArray());
    return p;
}

/* Customer in the A.4 shape from a full or compact object. */
static cJSON *ozon_customer(const cJSON *in, const char *number)
{
    cJSON *c = cJSON_CreateObject();
    long long cid;
    if (es_json_int(in, "customer_id", &cid)) cid = (long long)(ozon_hash(number) % 90000000ULL) + 10000000LL;
    cJSON_AddNumberToObject(c, "customer_id", (double)cid);
    const char *name = es_json_str(in, "name");
    const char *phone = es_json_str(in, "phone");
    const char *email = es_json_str(in, "customer_email");
    cJSON_AddStringToObject(c, "name", name ? name : "");
    cJSON_AddStringToObject(c, "phone", phone ? phone : "");
    cJSON_AddStringToObject(c, "customer_email", email ? email : "");
    const cJSON *ain = cJSON_GetObjectItemCaseSensitive(in, "address");
    cJSON *a = cJSON_CreateObject();
    /* compact: "address" is the street line; city/region/… may sit beside it */
    const cJSON *src = cJSON_IsObject(ain) ? ain : in;
    const char *tail = cJSON_IsString(ain) ? ain->valuestring : es_json_str(src, "address_tail");
    const char *fields[] = {"city", "comment", "country", "district", "provider_pvz_code", "region", "zip_code"};
    cJSON_AddStringToObject(a, "address_tail", tail ? tail : "");
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        const char *v = es_json_str(src, fields[i]);
        if (!v && !strcmp(fields[i], "country")) v = "Россия";
        cJSON_AddStringToObject(a, fields[i], v ? v : "");
    }
    double lat = 0, lon = 0;
    es_json_num(src, "latitude", &lat);
    es_json_num(src, "longitude", &lon);
    cJSON_AddNumberToObject(a, "latitude", lat);
    cJSON_AddNumberToObject(a, "longitude", lon);
    long long pvz = 0;
    es_json_int(src, "pvz_code", &pvz);
    cJSON_AddNumberToObject(a, "pvz_code", (double)pvz);
    cJSON_AddItemToObject(c, "address", a);
    return c;
}

static void ozon_iso(cJSON *doc, const char *key, int64_t ms)
{
    char buf[32];
    es_iso_time(ms, buf);
    es_json_set_str(doc, key, buf);
}

/* Members normalised by hand; every other member of the input is copied. */
static int ozon_special(const char *k)
{
    static const char *const special[] = {"posting_number", "customer", "addressee", "products",
                                          "available_actions", "last_changed_status_date",
                                          "order_id", "in_process_at"};
    for (size_t i = 0; i < sizeof special / sizeof special[0]; i++)
        if (!strcmp(k, special[i])) return 1;
    return 0;
}

int ozon_store_upsert(const cJSON *in, char *err, size_t errlen, ozon_posting_t **out)
{
    if (!cJSON_IsObject(in)) {
        snprintf(err, errlen, "posting: a JSON object is required");
        return -1;
    }
    const char *number = es_json_str(in, "posting_number");
    if (!number || !ozon_number_ok(number)) {
        snprintf(err, errlen, "posting_number: required, like \"12345678-0001-1\"");
        return -1;
    }
    const char *status = es_json_str(in, "status");
    if (!status) status = "awaiting_deliver";
    if (!ozon_status_known(status)) {
        snprintf(err, errlen, "status: \"%.60s\" is not an Ozon posting status", status);
        return -1;
    }
    const char *tpl = es_json_str(in, "tpl_integration_type");
    if (!tpl) tpl = "non_integrated";
    int64_t now = es_now_ms(), in_ms = now - 86400000LL, changed = now;
    const char *ip = es_json_str(in, "in_process_at");
    if (ip && es_parse_iso(ip, &in_ms)) {
        snprintf(err, errlen, "in_process_at: an RFC 3339 date is required");
        return -1;
    }
    const char *lc = es_json_str(in, "last_changed_status_date");
    if (lc && es_parse_iso(lc, &changed)) {
        snprintf(err, errlen, "last_changed_status_date: an RFC 3339 date is required");
        return -1;
    }
    const cJSON *products = cJSON_GetObjectItemCaseSensitive(in, "products");
    if (products && !cJSON_IsArray(products)) {
        snprintf(err, errlen, "products: an array is required");
        return -1;
    }

    char order_number[64];
    snprintf(order_number, sizeof order_number, "%s", number);
    *strrchr(order_number, '-') = '\0';
    long long order_id;
    if (es_json_int(in, "order_id", &order_id)) {
        /* the order number's digits when they fit, else a stable hash */
        char digits[64];
        size_t k = 0;
        for (const char *q = order_number; *q; q++)
            if (isdigit((unsigned char)*q)) digits[k++] = *q;
        digits[k] = '\0';
        order_id = k <= 15 ? strtoll(digits, NULL, 10) : (long long)(ozon_hash(order_number) % 100000000000ULL);
    }

    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "posting_number", number);
    cJSON_AddNumberToObject(d, "order_id", (double)order_id);
    cJSON_AddStringToObject(d, "order_number", order_number);
    cJSON_AddStringToObject(d, "status", status);
    cJSON_AddStringToObject(d, "substatus", ozon_status_row(status)->substatus);
    cJSON_AddStringToObject(d, "previous_substatus", "");
    cJSON *dm = cJSON_CreateObject();
    cJSON_AddNumberToObject(dm, "id", 1020000000000001.0);
    cJSON_AddStringToObject(dm, "name", "Доставка курьером продавца");
    cJSON_AddNumberToObject(dm, "warehouse_id", 1020000000000101.0);
    cJSON_AddStringToObject(dm, "warehouse", "rFBS Донецк");
    cJSON_AddNumberToObject(dm, "tpl_provider_id", 0);
    cJSON_AddStringToObject(dm, "tpl_provider", "Доставка продавца");
    cJSON_AddItemToObject(d, "delivery_method", dm);
    cJSON_AddStringToObject(d, "tracking_number", "");
    cJSON_AddStringToObject(d, "tpl_integration_type", tpl);
    ozon_iso(d, "in_process_at", in_ms);
    ozon_iso(d, "shipment_date", in_ms + 86400000LL);
    cJSON_AddNullToObject(d, "delivering_date");
    cJSON *canc = cJSON_CreateObject();
    cJSON_AddNumberToObject(canc, "cancel_reason_id", 0);
    cJSON_AddStringToObject(canc, "cancel_reason", "");
    cJSON_AddStringToObject(canc, "cancellation_type", "");
    cJSON_AddFalseToObject(canc, "cancelled_after_ship");
    cJSON_AddFalseToObject(canc, "affect_cancellation_rating");
    cJSON_AddStringToObject(canc, "cancellation_initiator", "");
    cJSON_AddItemToObject(d, "cancellation", canc);
    cJSON_AddNullToObject(d, "customer");
    cJSON_AddNullToObject(d, "addressee");
    cJSON_AddItemToObject(d, "products", cJSON_CreateArray());
    cJSON_AddNullToObject(d, "barcodes");
    cJSON_AddNullToObject(d, "analytics_data");
    cJSON_AddNullToObject(d, "financial_data");
    cJSON *req = cJSON_CreateObject();
    cJSON_AddItemToObject(req, "products_requiring_gtd", cJSON_CreateArray());
    cJSON_AddItemToObject(req, "products_requiring_country", cJSON_CreateArray());
    cJSON_AddItemToObject(req, "products_requiring_mandatory_mark", cJSON_CreateArray());
    cJSON_AddItemToObject(d, "requirements", req);
    cJSON_AddNullToObject(d, "courier");
    cJSON_AddStringToObject(d, "parent_posting_number", "");
    cJSON_AddNullToObject(d, "related_postings");
    cJSON_AddItemToObject(d, "available_actions", cJSON_CreateArray());
    cJSON_AddFalseToObject(d, "is_express");
    cJSON_AddNullToObject(d, "pickup_code_verified_at");
    cJSON_AddNullToObject(d, "fact_delivery_date");
    ozon_iso(d, "shipment_date_without_delay", in_ms + 86400000LL);
    cJSON_AddItemToObject(d, "tariffication_steps", cJSON_CreateArray());

    /* Overlay everything else the seed gave, as is. */
    for (const cJSON *m = in->child; m; m = m->next)
        if (m->string && !ozon_special(m->string)) es_json_replace(d, m->string, cJSON_Duplicate(m, 1));
    if (!es_json_str(d, "substatus")) es_json_set_str(d, "substatus", ozon_status_row(status)->substatus);

    /* Customer and addressee: filled for postings the seller delivers. */
    const cJSON *cin = cJSON_GetObjectItemCaseSensitive(in, "customer");
    if (cJSON_IsObject(cin) || (ozon_seller_delivers(tpl) && !cJSON_IsNull(cin))) {
        cJSON *cust = ozon_customer(cJSON_IsObject(cin) ? cin : NULL, number);
        es_json_replace(d, "customer", cust);
        const cJSON *ain = cJSON_GetObjectItemCaseSensitive(in, "addressee");
        cJSON *adr = cJSON_CreateObject();
        const char *an = cJSON_IsObject(ain) ? es_json_str(ain, "name") : NULL;
        const char *ap = cJSON_IsObject(ain) ? es_json_str(ain, "phone") : NULL;
        cJSON_AddStringToObject(adr, "name", an ? an : es_json_str(cust, "name"));
        cJSON_AddStringToObject(adr, "phone", ap ? ap : es_json_str(cust, "phone"));
        es_json_replace(d, "addressee", cJSON_IsNull(ain) ? cJSON_CreateNull() : adr);
        if (cJSON_IsNull(ain)) cJSON_Delete(adr);
    }

    cJSON *prods = cJSON_GetObjectItemCaseSensitive(d, "products");
    int idx = 0;
    const cJSON *pin;
    cJSON_ArrayForEach(pin, products) cJSON_AddItemToArray(prods, ozon_product(pin, number, idx++));
    if (idx == 0) cJSON_AddItemToArray(prods, ozon_product(NULL, number, 0));

    const cJSON *acts = cJSON_GetObjectItemCaseSensitive(in, "available_actions");
    int pinned = cJSON_IsArray(acts);
    es_json_replace(d, "available_actions", pinned ? cJSON_Duplicate(acts, 1) : ozon_actions_for(d));

    ozon_posting_t *p = ozon_store_find(number);
    if (p) {
        cJSON_Delete(p->doc);
    } else {
        if (ozon_n == ozon_cap) {
            int nc = ozon_cap ? ozon_cap * 2 : 64;
            ozon_posting_t **np = realloc(ozon_posts, (size_t)nc * sizeof *np);
            if (!np) { cJSON_Delete(d); snprintf(err, errlen, "out of memory"); return -1; }
            ozon_posts = np;
            ozon_cap = nc;
        }
        p = calloc(1, sizeof *p);
        if (!p) { cJSON_Delete(d); snprintf(err, errlen, "out of memory"); return -1; }
        snprintf(p->number, sizeof p->number, "%s", number);
        p->seq = ozon_next_seq++;
        ozon_posts[ozon_n++] = p;
    }
    p->doc = d;
    p->in_process_ms = in_ms;
    p->changed_ms = changed;
    p->actions_pinned = pinned;
    if (out) *out = p;
    return 0;
}

ozon_posting_t *ozon_store_find(const char *number)
{
    if (!number) return NULL;
    for (int i = 0; i < ozon_n; i++)
        if (strcmp(ozon_posts[i]->number, number) == 0) return ozon_posts[i];
    return NULL;
}

int ozon_store_count(void) { return ozon_n; }

ozon_posting_t *ozon_store_at(int i)
{
    return i >= 0 && i < ozon_n ? ozon_posts[i] : NULL;
}

int ozon_store_remove(const char *number)
{
    for (int i = 0; i < ozon_n; i++)
        if (strcmp(ozon_posts[i]->number, number) == 0) {
            cJSON_Delete(ozon_posts[i]->doc);
            free(ozon_posts[i]);
            memmove(&ozon_posts[i], &ozon_posts[i + 1], (size_t)(ozon_n - i - 1) * sizeof ozon_posts[0]);
            ozon_n--;
            return 0;
        }
    return -1;
}

void ozon_store_clear(void)
{
    for (int i = 0; i < ozon_n; i++) {
        cJSON_Delete(ozon_posts[i]->doc);
        free(ozon_posts[i]);
    }
    free(ozon_posts);
    ozon_posts = NULL;
    ozon_n = ozon_cap = 0;
    ozon_next_seq = 1;
}

int ozon_store_set_status(ozon_posting_t *p, const char *status, const char *substatus,
                          int64_t at_ms, char *err, size_t errlen)
{
    const ozon_status_row_t *row = ozon_status_row(status);
    if (!row) {
        snprintf(err, errlen, "status: \"%.60s\" is not an Ozon posting status", status ? status : "");
        return -1;
    }
    if (substatus && (strncmp(substatus, "posting_", 8) != 0 && strcmp(substatus, "ship_failed") != 0)) {
        snprintf(err, errlen, "substatus: \"%.60s\" is not an Ozon substatus", substatus);
        return -1;
    }
    const char *old = es_json_str(p->doc, "substatus");
    es_json_set_str(p->doc, "previous_substatus", old ? old : "");
    es_json_set_str(p->doc, "status", status);
    es_json_set_str(p->doc, "substatus", substatus ? substatus : row->substatus);
    if (!strcmp(status, "delivering") &&
        !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(p->doc, "delivering_date")))
        ozon_iso(p->doc, "delivering_date", at_ms);
    if (!strcmp(status, "delivered")) ozon_iso(p->doc, "fact_delivery_date", at_ms);
    if (!strcmp(status, "cancelled")) {
        cJSON *c = cJSON_GetObjectItemCaseSensitive(p->doc, "cancellation");
        if (cJSON_IsObject(c)) {
            long long id = 0;
            es_json_int(c, "cancel_reason_id", &id);
            if (id == 0) {
                es_json_replace(c, "cancel_reason_id", cJSON_CreateNumber(352));
                es_json_set_str(c, "cancel_reason", "Покупатель отменил заказ");
                es_json_set_str(c, "cancellation_type", "client");
                es_json_set_str(c, "cancellation_initiator", "CLIENT");
            }
        }
    }
    p->changed_ms = at_ms;
    p->actions_pinned = 0;
    es_json_replace(p->doc, "available_actions", ozon_actions_for(p->doc));
    return 0;
}

/* ---- rendering --------------------------------------------------------- */

static int ozon_with(const cJSON *with, const char *key)
{
    return es_json_bool(with, key, 0);
}

static cJSON *ozon_analytics(const cJSON *doc)
{
    const cJSON *dm = cJSON_GetObjectItemCaseSensitive(doc, "delivery_method");
    const cJSON *addr = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "customer"), "address");
    const char *region = es_json_str(addr, "region"), *city = es_json_str(addr, "city");
    cJSON *a = cJSON_CreateObject();
    cJSON_AddStringToObject(a, "region", region ? region : "");
    cJSON_AddStringToObject(a, "city", city ? city : "");
    cJSON_AddStringToObject(a, "delivery_type", "Courier");
    cJSON_AddFalseToObject(a, "is_premium");
    cJSON_AddStringToObject(a, "payment_type_group_name", "Карты оплаты");
    const cJSON *wid = cJSON_GetObjectItemCaseSensitive(dm, "warehouse_id");
    cJSON_AddNumberToObject(a, "warehouse_id", cJSON_IsNumber(wid) ? wid->valuedouble : 0);
    const char *wh = es_json_str(dm, "warehouse");
    cJSON_AddStringToObject(a, "warehouse", wh ? wh : "");
    const cJSON *tp = cJSON_GetObjectItemCaseSensitive(dm, "tpl_provider_id");
    cJSON_AddNumberToObject(a, "tpl_provider_id", cJSON_IsNumber(tp) ? tp->valuedouble : 0);
    const char *tpn = es_json_str(dm, "tpl_provider");
    cJSON_AddStringToObject(a, "tpl_provider", tpn ? tpn : "");
    const char *sd = es_json_str(doc, "shipment_date");
    cJSON_AddStringToObject(a, "delivery_date_begin", sd ? sd : "");
    cJSON_AddStringToObject(a, "delivery_date_end", sd ? sd : "");
    cJSON_AddFalseToObject(a, "is_legal");
    return a;
}

static cJSON *ozon_financial(const cJSON *doc)
{
    cJSON *f = cJSON_CreateObject(), *arr = cJSON_CreateArray();
    const cJSON *pr;
    cJSON_ArrayForEach(pr, cJSON_GetObjectItemCaseSensitive(doc, "products")) {
        double price = 0;
        long long sku = 0, q = 1;
        es_json_num(pr, "price", &price);
        es_json_int(pr, "sku", &sku);
        es_json_int(pr, "quantity", &q);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "commission_amount", 0);
        cJSON_AddNumberToObject(o, "commission_percent", 0);
        cJSON_AddNumberToObject(o, "payout", price);
        cJSON_AddNumberToObject(o, "product_id", (double)sku);
        cJSON_AddNumberToObject(o, "old_price", price);
        cJSON_AddNumberToObject(o, "price", price);
        cJSON_AddNumberToObject(o, "total_discount_value", 0);
        cJSON_AddNumberToObject(o, "total_discount_percent", 0);
        cJSON_AddItemToObject(o, "actions", cJSON_CreateArray());
        cJSON_AddNullToObject(o, "picking");
        cJSON_AddNumberToObject(o, "quantity", (double)q);
        cJSON_AddStringToObject(o, "currency_code", "RUB");
        cJSON_AddItemToArray(arr, o);
    }
    cJSON_AddItemToObject(f, "products", arr);
    cJSON_AddNullToObject(f, "posting_services");
    cJSON_AddStringToObject(f, "cluster_from", "");
    cJSON_AddStringToObject(f, "cluster_to", "");
    return f;
}

cJSON *ozon_render(const ozon_posting_t *p, int v4, const cJSON *with)
{
    cJSON *d = cJSON_Duplicate(p->doc, 1);
    if (ozon_with(with, "analytics_data") && cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(d, "analytics_data")))
        es_json_replace(d, "analytics_data", ozon_analytics(p->doc));
    if (ozon_with(with, "financial_data") && cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(d, "financial_data")))
        es_json_replace(d, "financial_data", ozon_financial(p->doc));
    if (ozon_with(with, "barcodes") && cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(d, "barcodes"))) {
        cJSON *b = cJSON_CreateObject();
        char code[80];
        snprintf(code, sizeof code, "%%%s", p->number);
        cJSON_AddStringToObject(b, "upper_barcode", code);
        cJSON_AddStringToObject(b, "lower_barcode", p->number);
        es_json_replace(d, "barcodes", b);
    }
    if (ozon_with(with, "related_postings") && cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(d, "related_postings"))) {
        cJSON *r = cJSON_CreateObject();
        cJSON_AddItemToObject(r, "related_posting_numbers", cJSON_CreateArray());
        es_json_replace(d, "related_postings", r);
    }
    if (ozon_with(with, "legal_info") && !cJSON_GetObjectItemCaseSensitive(d, "legal_info")) {
        cJSON *l = cJSON_CreateObject();
        cJSON_AddStringToObject(l, "company_name", "");
        cJSON_AddStringToObject(l, "inn", "");
        cJSON_AddStringToObject(l, "kpp", "");
        cJSON_AddItemToObject(d, "legal_info", l);
    }
    if (v4) {
        cJSON *pr;
        cJSON_ArrayForEach(pr, cJSON_GetObjectItemCaseSensitive(d, "products")) {
            double price = 0;
            es_json_num(pr, "price", &price);
            const char *cur = es_json_str(pr, "currency_code");
            char buf[64];
            ozon_money(buf, sizeof buf, price, 2);
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "amount", buf);
            cJSON_AddStringToObject(o, "currency", cur ? cur : "RUB");
            es_json_replace(pr, "price", o);
        }
    }
    return d;
}

cJSON *ozon_render_control(const ozon_posting_t *p)
{
    cJSON *d = cJSON_Duplicate(p->doc, 1);
    cJSON *x = cJSON_CreateObject();
    char at[32];
    es_iso_time(p->changed_ms, at);
    cJSON_AddNumberToObject(x, "seq", (double)p->seq);
    cJSON_AddStringToObject(x, "last_changed_status_date", at);
    cJSON_AddBoolToObject(x, "actions_pinned", p->actions_pinned);
    cJSON_AddItemToObject(d, "extsim", x);
    return d;
}
