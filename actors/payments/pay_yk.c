/* pay_yk.c — YooKassa amounts, bodies and parsers (see pay_yk.h).
 * Exports: see pay_yk.h. Threads: any.
 */
#include "pay_yk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "rt.h"

int yk_amount_parse(const char *s, int64_t *kop)
{
    if (!s || !*s) return RT_EINVAL;
    int64_t rub = 0;
    const char *p = s;
    int digits = 0;
    for (; *p >= '0' && *p <= '9'; p++, digits++) {
        if (digits >= 13) return RT_EINVAL;   /* far beyond any real amount; no overflow */
        rub = rub * 10 + (*p - '0');
    }
    if (digits == 0) return RT_EINVAL;
    int64_t frac = 0;
    if (*p == '.') {
        p++;
        int n = 0;
        for (; *p >= '0' && *p <= '9'; p++, n++) {
            if (n >= 2) return RT_EINVAL;
            frac = frac * 10 + (*p - '0');
        }
        if (n == 0) return RT_EINVAL;
        if (n == 1) frac *= 10;
    }
    if (*p) return RT_EINVAL;
    *kop = rub * 100 + frac;
    return RT_OK;
}

void yk_amount_format(int64_t kop, char *out, size_t outsz)
{
    if (kop < 0) kop = 0;
    snprintf(out, outsz, "%lld.%02lld", (long long)(kop / 100), (long long)(kop % 100));
}

const char *yk_status_name(yk_status_t s)
{
    switch (s) {
    case YK_PENDING: return "pending";
    case YK_WAITING_FOR_CAPTURE: return "waiting_for_capture";
    case YK_SUCCEEDED: return "succeeded";
    case YK_CANCELED: return "canceled";
    default: return "unknown";
    }
}

static yk_status_t yk_status_parse(const char *s)
{
    if (!s) return YK_UNKNOWN;
    if (strcmp(s, "pending") == 0) return YK_PENDING;
    if (strcmp(s, "waiting_for_capture") == 0) return YK_WAITING_FOR_CAPTURE;
    if (strcmp(s, "succeeded") == 0) return YK_SUCCEEDED;
    if (strcmp(s, "canceled") == 0) return YK_CANCELED;
    return YK_UNKNOWN;
}

static const char *yk_str(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Copy a string that must fit and hold no control characters. */
static bool yk_copy(char *dst, size_t n, const char *s)
{
    if (!s) return false;
    size_t len = strlen(s);
    if (len == 0 || len >= n) return false;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) return false;
    memcpy(dst, s, len + 1);
    return true;
}

/* {"value":"350.00","currency":"RUB"} -> kopecks; RUB only. */
static bool yk_amount_obj(const cJSON *o, int64_t *kop)
{
    const char *cur = yk_str(o, "currency");
    return cJSON_IsObject(o) && cur && strcmp(cur, "RUB") == 0 && yk_amount_parse(yk_str(o, "value"), kop) == RT_OK;
}

/* The part every YooKassa object shares: {"id", "status", "amount"}. Returns
 * the parsed root (caller deletes) or NULL with *field set. */
static cJSON *yk_object(const char *json, size_t len, char *id, size_t idsz, yk_status_t *status, int64_t *kop,
                        const char **field)
{
    cJSON *root = cJSON_ParseWithLength(json, len);
    const char *bad = NULL;
    if (!cJSON_IsObject(root)) bad = "body";
    else if (!yk_copy(id, idsz, yk_str(root, "id"))) bad = "id";
    else if ((*status = yk_status_parse(yk_str(root, "status"))) == YK_UNKNOWN) bad = "status";
    else if (!yk_amount_obj(cJSON_GetObjectItemCaseSensitive(root, "amount"), kop)) bad = "amount";
    if (!bad) return root;
    *field = bad;
    cJSON_Delete(root);
    return NULL;
}

int yk_payment_parse(const char *json, size_t len, yk_payment_t *out, const char **field)
{
    const char *dummy;
    if (!field) field = &dummy;
    memset(out, 0, sizeof *out);
    cJSON *root = yk_object(json, len, out->id, sizeof out->id, &out->status, &out->amount_kop, field);
    if (!root) return RT_EINVAL;
    out->paid = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "paid"));
    const cJSON *conf = cJSON_GetObjectItemCaseSensitive(root, "confirmation");
    const char *u = cJSON_IsObject(conf) ? yk_str(conf, "confirmation_data") : NULL;
    if (!u && cJSON_IsObject(conf)) u = yk_str(conf, "confirmation_url");
    int rc = RT_OK;
    if (u && !yk_copy(out->confirmation_url, sizeof out->confirmation_url, u)) {
        *field = "confirmation";
        rc = RT_EINVAL;
    }
    const char *receipt = yk_str(root, "receipt_url");
    if (receipt && strncmp(receipt, "https://", 8) == 0) yk_copy(out->receipt_url, sizeof out->receipt_url, receipt);
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(root, "metadata");
    if (cJSON_IsObject(meta)) yk_copy(out->attempt, sizeof out->attempt, yk_str(meta, "attempt"));
    cJSON_Delete(root);
    return rc;
}

int yk_refund_parse(const char *json, size_t len, yk_refund_t *out, const char **field)
{
    const char *dummy;
    if (!field) field = &dummy;
    memset(out, 0, sizeof *out);
    cJSON *root = yk_object(json, len, out->id, sizeof out->id, &out->status, &out->amount_kop, field);
    if (!root) return RT_EINVAL;
    cJSON_Delete(root);
    if (out->status == YK_WAITING_FOR_CAPTURE) {
        *field = "status";
        return RT_EINVAL;
    }
    return RT_OK;
}

int yk_notification_parse(const char *json, size_t len, yk_notification_t *out, const char **field)
{
    const char *dummy;
    if (!field) field = &dummy;
    memset(out, 0, sizeof *out);
    cJSON *root = cJSON_ParseWithLength(json, len);
    const char *bad = NULL, *type = NULL, *ev = NULL;
    const cJSON *obj = NULL;
    if (!cJSON_IsObject(root)) bad = "body";
    else if (!(type = yk_str(root, "type")) || strcmp(type, "notification") != 0) bad = "type";
    else if (!(ev = yk_str(root, "event")) || !yk_copy(out->event, sizeof out->event, ev) || !strchr(ev, '.'))
        bad = "event";
    else if (!cJSON_IsObject(obj = cJSON_GetObjectItemCaseSensitive(root, "object"))) bad = "object";
    else if (!yk_copy(out->object_id, sizeof out->object_id, yk_str(obj, "id"))) bad = "object.id";
    cJSON_Delete(root);
    if (bad) *field = bad;
    return bad ? RT_EINVAL : RT_OK;
}

static cJSON *yk_amount_json(int64_t kop)
{
    char v[32];
    yk_amount_format(kop, v, sizeof v);
    cJSON *a = cJSON_CreateObject();
    cJSON_AddStringToObject(a, "value", v);
    cJSON_AddStringToObject(a, "currency", "RUB");
    return a;
}

/* One receipt item: the delivery service, VAT code 1 (no VAT), paid in full. */
static cJSON *yk_receipt(const char *description, int64_t kop, const char *phone)
{
    cJSON *r = cJSON_CreateObject();
    if (phone && *phone) {
        char digits[24];
        size_t n = 0;
        for (const char *p = phone; *p && n + 1 < sizeof digits; p++)
            if (*p >= '0' && *p <= '9') digits[n++] = *p;
        digits[n] = '\0';
        cJSON_AddStringToObject(cJSON_AddObjectToObject(r, "customer"), "phone", digits);
    }
    cJSON *item = cJSON_CreateObject();
    cJSON_AddStringToObject(item, "description", description);
    cJSON_AddStringToObject(item, "quantity", "1.00");
    cJSON_AddItemToObject(item, "amount", yk_amount_json(kop));
    cJSON_AddNumberToObject(item, "vat_code", 1);
    cJSON_AddStringToObject(item, "payment_subject", "service");
    cJSON_AddStringToObject(item, "payment_mode", "full_payment");
    cJSON_AddItemToArray(cJSON_AddArrayToObject(r, "items"), item);
    return r;
}

static char *yk_print(cJSON *o)
{
    char *s = o ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    return s;
}

char *yk_payment_body(const char *attempt, int64_t amount_kop, const char *description,
                      const char *phone, bool sbp)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "amount", yk_amount_json(amount_kop));
    cJSON_AddBoolToObject(o, "capture", 1);
    cJSON_AddStringToObject(cJSON_AddObjectToObject(o, "confirmation"), "type", "qr");
    if (sbp) cJSON_AddStringToObject(cJSON_AddObjectToObject(o, "payment_method_data"), "type", "sbp");
    cJSON_AddStringToObject(o, "description", description);
    cJSON_AddStringToObject(cJSON_AddObjectToObject(o, "metadata"), "attempt", attempt);
    cJSON_AddItemToObject(o, "receipt", yk_receipt(description, amount_kop, phone));
    return yk_print(o);
}

char *yk_refund_body(const char *payment_id, int64_t amount_kop)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "payment_id", payment_id);
    cJSON_AddItemToObject(o, "amount", yk_amount_json(amount_kop));
    return yk_print(o);
}

char *yk_invoice_provider_data(const char *description, int64_t amount_kop)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "receipt", yk_receipt(description, amount_kop, NULL));
    return yk_print(o);
}
