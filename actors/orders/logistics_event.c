/* logistics_event.c — logistics webhook body parser (see logistics_event.h).
 * The recipient's phone is normalised by phone_normalize (actors/common/phone.c).
 * Exports: logi_parse, logi_batch_free. Threads: any.
 */
#include "logistics_event.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "posting.h"
#include "rt.h"
#include "timefmt.h"

static int logi_fail(logi_error_t *err, int i, const char *field, const char *reason)
{
    if (i < 0) snprintf(err->field, sizeof err->field, "%s", field);
    else snprintf(err->field, sizeof err->field, "events[%d].%s", i, field);
    snprintf(err->reason, sizeof err->reason, "%s", reason);
    return RT_EINVAL;
}

/* Optional string field: absent/null -> NULL; a string up to max bytes -> copy. */
static int logi_opt_str(const cJSON *o, const char *name, size_t max, char **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    *out = NULL;
    if (!v || cJSON_IsNull(v)) return RT_OK;
    if (!cJSON_IsString(v) || strlen(v->valuestring) > max) return RT_EINVAL;
    *out = strdup(v->valuestring);
    return *out ? RT_OK : RT_ENOMEM;
}

static int logi_one(const cJSON *e, int i, logi_event_t *ev, logi_error_t *err)
{
    if (!cJSON_IsObject(e)) return logi_fail(err, i, "", "must be an object");
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(e, "id");
    if (!cJSON_IsString(v) || !v->valuestring[0] || strlen(v->valuestring) > LOGI_ID_MAX)
        return logi_fail(err, i, "id", "required string of 1..64 characters");
    snprintf(ev->id, sizeof ev->id, "%s", v->valuestring);
    v = cJSON_GetObjectItemCaseSensitive(e, "posting_number");
    if (!cJSON_IsString(v) || !posting_is_valid(v->valuestring))
        return logi_fail(err, i, "posting_number", "required, format 12345678-0001-1");
    snprintf(ev->posting, sizeof ev->posting, "%s", v->valuestring);
    v = cJSON_GetObjectItemCaseSensitive(e, "status");
    if (!cJSON_IsString(v) || order_status_parse(v->valuestring, &ev->status) != RT_OK)
        return logi_fail(err, i, "status", "unknown status code");
    v = cJSON_GetObjectItemCaseSensitive(e, "at");
    if (!cJSON_IsString(v) || timefmt_parse_rfc3339(v->valuestring, &ev->at_ms) != RT_OK)
        return logi_fail(err, i, "at", "required RFC 3339 timestamp");
    if (logi_opt_str(e, "pickup_point", 200, &ev->pickup_point) != RT_OK)
        return logi_fail(err, i, "pickup_point", "optional string up to 200 bytes");
    if (logi_opt_str(e, "comment", 1000, &ev->comment) != RT_OK)
        return logi_fail(err, i, "comment", "optional string up to 1000 bytes");
    v = cJSON_GetObjectItemCaseSensitive(e, "recipient_phone");
    if (v && !cJSON_IsNull(v) && !(cJSON_IsString(v) && !v->valuestring[0]) &&   /* "" = absent */
        (!cJSON_IsString(v) || strlen(v->valuestring) > 32 || phone_normalize(v->valuestring, ev->recipient_phone) != RT_OK ||
         ev->recipient_phone[1] == '0'))   /* users.phone's rule: no country code starts with 0 */
        return logi_fail(err, i, "recipient_phone", "optional phone number, e.g. +79491234567");
    if (logi_opt_str(e, "recipient_name", 200, &ev->recipient_name) != RT_OK)
        return logi_fail(err, i, "recipient_name", "optional string up to 200 bytes");
    return RT_OK;
}

int logi_parse(const char *body, size_t len, logi_batch_t *out, logi_error_t *err)
{
    memset(out, 0, sizeof *out);
    memset(err, 0, sizeof *err);
    cJSON *root = cJSON_ParseWithLength(body, len);
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return logi_fail(err, -1, "body", "must be a JSON object");
    }
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "events");
    int n = cJSON_IsArray(arr) ? cJSON_GetArraySize(arr) : -1;
    if (n < 1 || n > LOGI_MAX_EVENTS) {
        cJSON_Delete(root);
        return logi_fail(err, -1, "events", "required array of 1..1000 events");
    }
    out->events = calloc((size_t)n, sizeof *out->events);
    if (!out->events) {
        cJSON_Delete(root);
        return RT_ENOMEM;
    }
    int i = 0, rc = RT_OK;
    for (const cJSON *e = arr->child; e; e = e->next, i++) {
        out->n = i + 1;
        if ((rc = logi_one(e, i, &out->events[i], err)) != RT_OK) break;
    }
    cJSON_Delete(root);
    if (rc != RT_OK) logi_batch_free(out);
    return rc;
}

void logi_batch_free(logi_batch_t *b)
{
    for (int i = 0; i < b->n; i++) {
        free(b->events[i].pickup_point);
        free(b->events[i].comment);
        free(b->events[i].recipient_name);
    }
    free(b->events);
    b->events = NULL;
    b->n = 0;
}
