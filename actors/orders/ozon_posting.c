/* ozon_posting.c — Ozon posting object → ozon_posting_t (see header).
 * Exports: ozon_posting_parse, ozon_posting_free. Threads: any.
 */
#include "ozon_posting.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "posting.h"
#include "rt.h"

static const char *ozon_str(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) && v->valuestring ? v->valuestring : NULL;
}

static char *ozon_dup(const cJSON *o, const char *name)
{
    const char *s = ozon_str(o, name);
    return s && *s ? strdup(s) : NULL;
}

/* A number given as a JSON number or a decimal string ("550", "1530.0000"). */
static double ozon_num(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    if (cJSON_IsNumber(v)) return isfinite(v->valuedouble) ? v->valuedouble : 0;
    if (cJSON_IsString(v) && v->valuestring) {
        char *end;
        double d = strtod(v->valuestring, &end);
        return end != v->valuestring && isfinite(d) ? d : 0;
    }
    return 0;
}

static void ozon_phone(const cJSON *o, char out[PHONE_E164_MAX])
{
    out[0] = '\0';
    const char *p = ozon_str(o, "phone");
    if (p && phone_normalize(p, out) != RT_OK) out[0] = '\0';
}

int ozon_posting_parse(const char *json, size_t len, ozon_posting_t *out)
{
    memset(out, 0, sizeof *out);
    cJSON *root = cJSON_ParseWithLength(json, len);
    const char *pn = cJSON_IsObject(root) ? ozon_str(root, "posting_number") : NULL;
    if (!pn || !posting_is_valid(pn)) {
        cJSON_Delete(root);
        return RT_EINVAL;
    }
    snprintf(out->posting_number, sizeof out->posting_number, "%s", pn);
    const char *s = ozon_str(root, "status");
    snprintf(out->status, sizeof out->status, "%s", s ? s : "");
    s = ozon_str(root, "tpl_integration_type");
    snprintf(out->tpl_integration_type, sizeof out->tpl_integration_type, "%s", s ? s : "");

    size_t cap = 1, n = 0;
    const cJSON *acts = cJSON_GetObjectItemCaseSensitive(root, "available_actions"), *a;
    if (!cJSON_IsArray(acts)) acts = NULL;
    cJSON_ArrayForEach(a, acts)
        if (cJSON_IsString(a)) cap += strlen(a->valuestring) + 1;
    out->available_actions = malloc(cap);
    if (out->available_actions) {
        out->available_actions[0] = '\0';
        cJSON_ArrayForEach(a, acts) {
            if (!cJSON_IsString(a) || strchr(a->valuestring, ',')) continue;
            n += (size_t)sprintf(out->available_actions + n, "%s%s", n ? "," : "", a->valuestring);
        }
    }

    const cJSON *cust = cJSON_GetObjectItemCaseSensitive(root, "customer");
    if (cJSON_IsObject(cust)) {
        out->customer_name = ozon_dup(cust, "name");
        ozon_phone(cust, out->customer_phone);
        const cJSON *addr = cJSON_GetObjectItemCaseSensitive(cust, "address");
        if (cJSON_IsObject(addr)) {
            const char *city = ozon_str(addr, "city"), *tail = ozon_str(addr, "address_tail");
            if (tail && *tail) {
                size_t m = strlen(tail) + (city ? strlen(city) : 0) + 3;
                out->address = malloc(m);
                if (out->address) snprintf(out->address, m, "%s%s%s", city && *city ? city : "",
                                           city && *city ? ", " : "", tail);
            }
        }
    }
    const cJSON *adr = cJSON_GetObjectItemCaseSensitive(root, "addressee");
    if (cJSON_IsObject(adr)) {
        out->addressee_name = ozon_dup(adr, "name");
        ozon_phone(adr, out->addressee_phone);
    }

    cJSON *items = cJSON_CreateArray();
    double weight = 0;
    const cJSON *prods = cJSON_GetObjectItemCaseSensitive(root, "products"), *p;
    if (!cJSON_IsArray(prods)) prods = NULL;
    cJSON_ArrayForEach(p, prods) {
        if (!cJSON_IsObject(p)) continue;
        double q = ozon_num(p, "quantity");
        if (q < 1) q = 1;
        const char *name = ozon_str(p, "name");
        cJSON *it = cJSON_CreateObject();
        cJSON_AddStringToObject(it, "name", name ? name : "");
        cJSON_AddNumberToObject(it, "quantity", q);
        cJSON_AddItemToArray(items, it);
        const cJSON *dim = cJSON_GetObjectItemCaseSensitive(p, "dimensions");
        if (cJSON_IsObject(dim)) weight += ozon_num(dim, "weight") * q;
    }
    out->items = cJSON_PrintUnformatted(items);
    cJSON_Delete(items);
    out->weight_g = weight > 0 && weight < 1e7 ? (int)lround(weight) : 0;
    cJSON_Delete(root);
    if (!out->items || !out->available_actions) {
        ozon_posting_free(out);
        return RT_ENOMEM;
    }
    return RT_OK;
}

void ozon_posting_free(ozon_posting_t *p)
{
    free(p->available_actions);
    free(p->customer_name);
    free(p->addressee_name);
    free(p->address);
    free(p->items);
    p->available_actions = p->customer_name = p->addressee_name = p->address = p->items = NULL;
}
