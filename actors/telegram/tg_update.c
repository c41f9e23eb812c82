/* tg_update.c — Telegram Update JSON → tg_update_t (see tg_update.h).
 * Exports: tg_update_parse, tg_update_free. Threads: any.
 */
#include "tg_update.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "rt.h"

static char *tg_dup_str(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) && v->valuestring ? strdup(v->valuestring) : NULL;
}

/* JSON numbers are doubles in cJSON; ids up to 2^53 are exact, which covers
 * Telegram's ids ("at most 52 significant bits"). */
static bool tg_get_i64(const cJSON *o, const char *name, int64_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || fabs(v->valuedouble) > 9007199254740992.0)
        return false;
    *out = (int64_t)v->valuedouble;
    return true;
}

static double tg_get_f64(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsNumber(v) && isfinite(v->valuedouble) ? v->valuedouble : 0.0;
}

static void tg_parse_user(const cJSON *from, tg_update_t *u)
{
    if (!cJSON_IsObject(from)) return;
    tg_get_i64(from, "id", &u->from_id);
    u->from_first_name = tg_dup_str(from, "first_name");
    u->from_username = tg_dup_str(from, "username");
}

/* "/start@plus7_bot 123" → command "/start", arg "123". Only a command at
 * offset 0 counts, as Telegram marks it with a bot_command entity. */
static void tg_parse_command(tg_update_t *u)
{
    const char *t = u->text;
    if (!t || t[0] != '/') return;
    size_t n = strcspn(t, " \n\t@");
    if (n < 2 || n > 64) return;
    u->command = strndup(t, n);
    const char *rest = t + n;
    if (*rest == '@') rest += strcspn(rest, " \n\t");
    while (*rest == ' ' || *rest == '\n' || *rest == '\t') rest++;
    if (*rest) {
        size_t m = strlen(rest);
        while (m && (rest[m - 1] == ' ' || rest[m - 1] == '\n')) m--;
        if (m) u->command_arg = strndup(rest, m);
    }
}

static void tg_parse_message(const cJSON *msg, tg_update_t *u)
{
    const cJSON *chat = cJSON_GetObjectItemCaseSensitive(msg, "chat");
    if (cJSON_IsObject(chat)) {
        tg_get_i64(chat, "id", &u->chat_id);
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(chat, "type");
        u->chat_private = cJSON_IsString(type) && type->valuestring && strcmp(type->valuestring, "private") == 0;
    }
    tg_parse_user(cJSON_GetObjectItemCaseSensitive(msg, "from"), u);
    tg_get_i64(msg, "message_id", &u->message_id);
    tg_get_i64(msg, "date", &u->date);
    tg_get_i64(msg, "edit_date", &u->edit_date);
    u->text = tg_dup_str(msg, "text");
    if (!u->text) u->text = tg_dup_str(msg, "caption");
    tg_parse_command(u);

    const cJSON *c = cJSON_GetObjectItemCaseSensitive(msg, "contact");
    if (cJSON_IsObject(c)) {
        u->contact_phone = tg_dup_str(c, "phone_number");
        u->has_contact = u->contact_phone != NULL;
        tg_get_i64(c, "user_id", &u->contact_user_id);
        u->contact_first_name = tg_dup_str(c, "first_name");
    }
    const cJSON *loc = cJSON_GetObjectItemCaseSensitive(msg, "location");
    if (cJSON_IsObject(loc) && cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(loc, "latitude")) &&
        cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(loc, "longitude"))) {
        u->latitude = tg_get_f64(loc, "latitude");
        u->longitude = tg_get_f64(loc, "longitude");
        u->has_location = fabs(u->latitude) <= 90 && fabs(u->longitude) <= 180;
        int64_t v = 0;
        if (tg_get_i64(loc, "live_period", &v) && v > 0 && v <= 0x7FFFFFFF) u->live_period = (int)v;
        if (tg_get_i64(loc, "heading", &v) && v >= 0 && v <= 360) u->heading = (int)v;
        u->horizontal_accuracy = tg_get_f64(loc, "horizontal_accuracy");
    }
    const cJSON *photo = cJSON_GetObjectItemCaseSensitive(msg, "photo");
    if (cJSON_IsArray(photo)) {
        int n = cJSON_GetArraySize(photo);
        if (n > 0) u->photo_file_id = tg_dup_str(cJSON_GetArrayItem(photo, n - 1), "file_id");
    }
    const cJSON *doc = cJSON_GetObjectItemCaseSensitive(msg, "document");
    if (cJSON_IsObject(doc)) u->document_file_id = tg_dup_str(doc, "file_id");
    const cJSON *pay = cJSON_GetObjectItemCaseSensitive(msg, "successful_payment");
    if (cJSON_IsObject(pay)) {
        u->has_payment = true;
        u->currency = tg_dup_str(pay, "currency");
        tg_get_i64(pay, "total_amount", &u->total_amount);
        u->invoice_payload = tg_dup_str(pay, "invoice_payload");
        u->telegram_charge_id = tg_dup_str(pay, "telegram_payment_charge_id");
        u->provider_charge_id = tg_dup_str(pay, "provider_payment_charge_id");
    }
}

int tg_update_parse(const char *json, size_t len, tg_update_t *out)
{
    memset(out, 0, sizeof *out);
    cJSON *root = cJSON_ParseWithLength(json, len);
    if (!root) return RT_EINVAL;
    if (!cJSON_IsObject(root) || !tg_get_i64(root, "update_id", &out->update_id) || out->update_id < 0) {
        cJSON_Delete(root);
        return RT_EINVAL;
    }
    const cJSON *o;
    if (cJSON_IsObject(o = cJSON_GetObjectItemCaseSensitive(root, "message"))) {
        out->kind = TG_UPD_MESSAGE;
        tg_parse_message(o, out);
    } else if (cJSON_IsObject(o = cJSON_GetObjectItemCaseSensitive(root, "edited_message"))) {
        out->kind = TG_UPD_EDITED_MESSAGE;
        tg_parse_message(o, out);
    } else if (cJSON_IsObject(o = cJSON_GetObjectItemCaseSensitive(root, "callback_query"))) {
        out->kind = TG_UPD_CALLBACK;
        out->callback_id = tg_dup_str(o, "id");
        out->callback_data = tg_dup_str(o, "data");
        tg_parse_user(cJSON_GetObjectItemCaseSensitive(o, "from"), out);
        const cJSON *msg = cJSON_GetObjectItemCaseSensitive(o, "message");
        if (cJSON_IsObject(msg)) {
            const cJSON *chat = cJSON_GetObjectItemCaseSensitive(msg, "chat");
            if (cJSON_IsObject(chat)) tg_get_i64(chat, "id", &out->chat_id);
            tg_get_i64(msg, "message_id", &out->message_id);
        }
        if (!out->chat_id) out->chat_id = out->from_id;
        out->chat_private = out->chat_id == out->from_id;
        if (!out->callback_id) out->kind = TG_UPD_OTHER;
    } else if (cJSON_IsObject(o = cJSON_GetObjectItemCaseSensitive(root, "pre_checkout_query"))) {
        out->kind = TG_UPD_PRE_CHECKOUT;
        out->pre_checkout_id = tg_dup_str(o, "id");
        tg_parse_user(cJSON_GetObjectItemCaseSensitive(o, "from"), out);
        out->chat_id = out->from_id;
        out->chat_private = true;
        out->currency = tg_dup_str(o, "currency");
        tg_get_i64(o, "total_amount", &out->total_amount);
        out->invoice_payload = tg_dup_str(o, "invoice_payload");
        if (!out->pre_checkout_id) out->kind = TG_UPD_OTHER;
    }
    cJSON_Delete(root);
    return RT_OK;
}

void tg_update_free(tg_update_t *u)
{
    char **fields[] = {&u->from_first_name, &u->from_username, &u->text, &u->command, &u->command_arg,
                       &u->contact_phone, &u->contact_first_name, &u->photo_file_id, &u->document_file_id,
                       &u->callback_id, &u->callback_data, &u->pre_checkout_id, &u->currency,
                       &u->invoice_payload, &u->telegram_charge_id, &u->provider_charge_id};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        free(*fields[i]);
        *fields[i] = NULL;
    }
}
