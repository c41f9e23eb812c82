/* tgsim_control_act.c — acting as a Telegram user: POST
 * /control/users/<id>/<action> with a JSON body.
 *
 * Every action creates what a real client would make the server produce:
 * a message (and a "message" update), an edit (an "edited_message" update
 * with the same message_id and an edit_date), a callback_query, a
 * pre_checkout_query, or a my_chat_member update on block/unblock. Writing
 * in the private chat marks the user as having started the bot.
 *
 * Actions: text, command, contact, location, live_start, live_move,
 * live_stop, photo, document, press_inline, press_reply, pay, block,
 * unblock (see docs/tgsim.md for the fields).
 *
 * Exports: tgsim_ctl_act. Threads: civetweb workers, w->mu held.
 */
#include "tgsim_control_int.h"
#include "tgsim_api_int.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The chat the action happens in: body "chat_id" (a group) or the user's
 * private chat. */
static tgsim_chat_t *tgsim_act_chat(tgsim_ctl_t *c, tgsim_user_t *u)
{
    int64_t id = u->id;
    if (tgsim_ctl_i64(c->in, "chat_id", &id) < 0) { tgsim_ctl_err(c, 400, "chat_id must be an integer"); return NULL; }
    tgsim_chat_t *chat = tgsim_chat_find(c->w, id);
    if (!chat) { tgsim_ctl_err(c, 404, "chat not found"); return NULL; }
    if (!strcmp(chat->type, "private") && chat->id != u->id) {
        tgsim_ctl_err(c, 400, "a user can only write in their own private chat or in a group");
        return NULL;
    }
    return chat;
}

static tgsim_msg_t *tgsim_act_msg(tgsim_ctl_t *c, tgsim_user_t *u, tgsim_chat_t *chat)
{
    tgsim_msg_t *m = tgsim_msg_new(c->w, chat, 0, u->id, tgsim_user_json(u));
    if (!strcmp(chat->type, "private")) u->started = 1;
    int64_t rid;
    tgsim_msg_t *target;
    if (tgsim_ctl_i64(c->in, "reply_to_message_id", &rid) == 1 && (target = tgsim_msg_find(chat, rid)) && target != m) {
        cJSON *copy = cJSON_Duplicate(target->json, 1);
        cJSON_DeleteItemFromObjectCaseSensitive(copy, "reply_to_message");
        cJSON_AddItemToObject(m->json, "reply_to_message", copy);
    }
    return m;
}

/* Queue the update for m and answer {"ok":true,"message_id","chat_id","update_id"}. */
static void tgsim_act_done(tgsim_ctl_t *c, tgsim_chat_t *chat, tgsim_msg_t *m, int type)
{
    int64_t uid = tgsim_update_push(c->w, type, chat->id, cJSON_Duplicate(m->json, 1));
    tgsim_world_touch(c->w, chat);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "message_id", (double)m->id);
    cJSON_AddNumberToObject(o, "chat_id", (double)chat->id);
    cJSON_AddNumberToObject(o, "update_id", (double)uid);
    tgsim_ctl_ok(c, o);
}

/* bot_command entities for every "/word" at a word start, like the server
 * detects them in incoming text. */
static cJSON *tgsim_act_commands(const char *t)
{
    cJSON *arr = cJSON_CreateArray();
    size_t n = strlen(t);
    for (size_t i = 0; i < n; i++) {
        if (t[i] != '/' || (i > 0 && !isspace((unsigned char)t[i - 1]))) continue;
        size_t j = i + 1;
        while (j < n && (isalnum((unsigned char)t[j]) || t[j] == '_')) j++;
        if (j - i - 1 < 1 || j - i - 1 > 32) continue;
        if (j < n && t[j] == '@') {
            size_t k = j + 1;
            while (k < n && (isalnum((unsigned char)t[k]) || t[k] == '_')) k++;
            if (k > j + 1) j = k;
        }
        if (j < n && !isspace((unsigned char)t[j]) && !ispunct((unsigned char)t[j])) continue;
        cJSON *e = cJSON_CreateObject();
        cJSON_AddNumberToObject(e, "offset", (double)tgsim_utf16_len(t, i));
        cJSON_AddNumberToObject(e, "length", (double)(j - i));
        cJSON_AddStringToObject(e, "type", "bot_command");
        cJSON_AddItemToArray(arr, e);
        i = j;
    }
    return arr;
}

static void tgsim_act_send_text(tgsim_ctl_t *c, tgsim_user_t *u, tgsim_chat_t *chat, const char *text)
{
    if (!text || !*text) { tgsim_ctl_err(c, 400, "text is required"); return; }
    if (!tgsim_utf8_valid(text, strlen(text))) { tgsim_ctl_err(c, 400, "text must be UTF-8"); return; }
    if (tgsim_utf16_len(text, strlen(text)) > 4096) { tgsim_ctl_err(c, 400, "text is longer than 4096"); return; }
    tgsim_msg_t *m = tgsim_act_msg(c, u, chat);
    cJSON_AddStringToObject(m->json, "text", text);
    cJSON *ents = tgsim_act_commands(text);
    if (cJSON_GetArraySize(ents)) cJSON_AddItemToObject(m->json, "entities", ents);
    else cJSON_Delete(ents);
    tgsim_act_done(c, chat, m, TGSIM_U_MESSAGE);
}

static void tgsim_act_command(tgsim_ctl_t *c, tgsim_user_t *u, tgsim_chat_t *chat)
{
    const char *cmd = tgsim_ctl_str(c->in, "command");
    const char *args = tgsim_ctl_str(c->in, "args");
    if (!cmd || !*cmd) { tgsim_ctl_err(c, 400, "command is required"); return; }
    if (*cmd == '/') cmd++;
    tgsim_buf_t b = {0};
    tgsim_buf_printf(&b, "/%s", cmd);
    if (tgsim_ctl_bool(c->in, "mention_bot", 0)) tgsim_buf_printf(&b, "@%s", c->w->cfg.bot_username);
    size_t cmd_len = b.len;
    if (args && *args) tgsim_buf_printf(&b, " %s", args);
    tgsim_msg_t *m = tgsim_act_msg(c, u, chat);
    cJSON_AddStringToObject(m->json, "text", b.p);
    cJSON *ents = cJSON_AddArrayToObject(m->json, "entities");
    cJSON *e = cJSON_CreateObject();
    cJSON_AddNumberToObject(e, "offset", 0);
    cJSON_AddNumberToObject(e, "length", (double)tgsim_utf16_len(b.p, cmd_len));
    cJSON_AddStringToObject(e, "type", "bot_command");
    cJSON_AddItemToArray(ents, e);
    tgsim_buf_free(&b);
    tgsim_act_done(c, chat, m, TGSIM_U_MESSAGE);
}

static void tgsim_act_own_contact(tgsim_ctl_t *c, tgsim_user_t *u, tgsim_chat_t *chat)
{
    if (!u->phone) { tgsim_ctl_err(c, 409, "the user has no phone; set one with POST /control/users"); return; }
    tgsim_msg_t *m = tgsim_act_msg(c, u, chat);
    cJSON *ct = cJSON_AddObjectToObject(m->json, "contact");
    cJSON_AddStringToObject(ct, "phone_number", u->phone);
    cJSON_AddStringToObject(ct, "first_name", u->first_name ? u->first_name : "");
    if (u->last_name) cJSON_AddStringToObject(ct, "last_name", u->last_name);
    cJSON_AddNumberToObject(ct, "user_id", (double)u->id);
    tgsim_act_done(c, chat, m, TGSIM_U_MESSAGE);
}

static void tgsim_act_contact(tgsim_ctl_t *c, tgsim_user_t *u, tgsim_chat_t *chat)
{
    const char *phone = tgsim_ctl_str(c->in, "phone_number");
    if (!phone || tgsim_ctl_bool(c->in, "own", 0)) { tgsim_act_own_contact(c, u, chat); return; }
    const char *first = tgsim_ctl_str(c->in, "first_name");
    const char *last = tgsim_ctl_str(c->in, "last_name");
    const char *vcard = tgsim_ctl_str(c->in, "vcard");
    int64_t cuid = 0;
    int has_uid = tgsim_ctl_i64(c->in, "user_id", &cuid);
    if (has_uid < 0) { tgsim_ctl_err(c, 400, "user_id must be an integer"); return; }
    tgsim_msg_t *m = tgsim_act_msg(c, u, chat);
    cJSON *ct = cJSON_AddObjectToObject(m->json, "contact");
    cJSON_AddStringToObject(ct, "phone_number", phone);
    cJSON_AddStringToObject(ct, "first_name", first && *first ? first : "Контакт");
    if (last && *last) cJSON_AddStringToObject(ct, "last_name", last);
    if (has_uid == 1) cJSON_AddNumberToObject(ct, "user_id", (double)cuid);
    if (vcard && *vcard) cJSON_AddStringToObject(ct, "vcard", vcard);
    tgsim_act_done(c, chat, m, TGSIM_U_MESSAGE);
}

/* Read latitude/longitude (+ optional heading, horizontal_accuracy) into a
 * Location object; NULL on error (written). */
static cJSON *tgsim_act_location_obj(tgsim_ctl_t *c)
{
    double lat, lon, v;
    if (tgsim_ctl_num(c->in, "latitude", &lat) != 1 || tgsim_ctl_num(c->in, "longitude", &lon) != 1 ||
        fabs(lat) > 90 || fabs(lon) > 180) {
        tgsim_ctl_err(c, 400, "latitude and longitude are required numbers");
        return NULL;
    }
    cJSON *loc = cJSON_CreateObject();
    cJSON_AddNumberToObject(loc, "latitude", lat);
    cJSON_AddNumberToObject(loc, "longitude", lon);
    if (tgsim_ctl_num(c->in, "horizontal_accuracy", &v) == 1) cJSON_AddNumberToObject(loc, "horizontal_accuracy", v);
    return loc;
}

static void tgsim_act_location(tgsim_ctl_t *c, tgsim_user_t *u, tgsim_chat_t *chat)
{
    cJSON *loc = tgsim_act_location_obj(c);
    if (!loc) return;
    tgsim_msg_t *m = tgsim_act_msg(c, u, chat);
    cJSON_AddItemToObject(m->json, "location", loc);
    tgsim_act_done(c, chat, m, TGSIM_U_MESSAGE);
}

static void tgsim_act_live_start(tgsim_ctl_t *c, tgsim_user_t *u, tgsim_chat_t *chat)
{
    double period = 900, heading;
    if (tgsim_ctl_num(c->in, "live_period", &period) < 0 ||
        (period != 2147483647.0 && (period < 60 || period > 86400))) {
        tgsim_ctl_err(c, 400, "live_period must be 60..86400 or 2147483647");
        return;
    }
    cJSON *loc = tgsim_act_location_obj(c);
    if (!loc) return;
    /* key order as the server sends it: latitude, longitude, live_period, heading, accuracy */
    cJSON *acc = cJSON_DetachItemFromObjectCaseSensitive(loc, "horizontal_accuracy");
    cJSON_AddNumberToObject(loc, "live_period", period);
    if (tgsim_ctl_num(c->in, "heading", &heading) == 1) cJSON_AddNumberToObject(loc, "heading", heading);
    if (acc) cJSON_AddItemToObject(loc, "horizontal_accuracy", acc);
    tgsim_msg_t *m = tgsim_act_msg(c, u, chat);
    cJSON_AddItemToObject(m->json, "location", loc);
    m->live_active = 1;
    m->live_until = tgsim_now_mono() + period;
    tgsim_act_done(c, chat, m, TGSIM_U_MESSAGE);
}

/* The user's active live-location message named by body "message_id". */
static tgsim_msg_t *tgsim_act_live_msg(tgsim_ctl_t *c, tgsim_user_t *u, tgsim_chat_t *chat)
{
    int64_t id;
    if (tgsim_ctl_i64(c->in, "message_id", &id) != 1) { tgsim_ctl_err(c, 400, "message_id is required"); return NULL; }
    tgsim_msg_t *m = tgsim_msg_find(chat, id);
    if (!m || m->from_bot || m->from_id != u->id) { tgsim_ctl_err(c, 404, "no such message of this user"); return NULL; }
    if (!m->live_active) { tgsim_ctl_err(c, 409, "live location is not being shared"); return NULL; }
    if (tgsim_now_mono() > m->live_until) {
        m->live_active = 0;
        tgsim_ctl_err(c, 409, "live period has expired");
        return NULL;
    }
    return m;
}

static void tgsim_act_live_move(tgsim_ctl_t *c, tgsim_user_t *u, tgsim_chat_t *chat)
{
    tgsim_msg_t *m = tgsim_act_live_msg(c, u, chat);
    if (!m) return;
    cJSON *loc = tgsim_act_location_obj(c);
    if (!loc) return;
    double heading;
    cJSON *old = cJSON_GetObjectItemCaseSensitive(m->json, "location");
    cJSON *period = cJSON_GetObjectItemCaseSensitive(old, "live_period");
    cJSON *acc = cJSON_DetachItemFromObjectCaseSensitive(loc, "horizontal_accuracy");
    cJSON_AddNumberToObject(loc, "live_period", period ? period->valuedouble : 900);
    if (tgsim_ctl_num(c->in, "heading", &heading) == 1) cJSON_AddNumberToObject(loc, "heading", heading);
    if (acc) cJSON_AddItemToObject(loc, "horizontal_accuracy", acc);
    tgsim_msg_begin_edit(m, tgsim_now_unix());
    cJSON_ReplaceItemInObjectCaseSensitive(m->json, "location", loc);
    tgsim_act_done(c, chat, m, TGSIM_U_EDITED_MESSAGE);
}

static void tgsim_act_live_stop(tgsim_ctl_t *c, tgsim_user_t *u, tgsim_chat_t *chat)
{
    tgsim_msg_t *m = tgsim_act_live_msg(c, u, chat);
    if (!m) return;
    /* the final edit keeps the last point and drops live_period (the real
     * shape is undocumented; see docs/tgsim.md) */
    cJSON *old = cJSON_GetObjectItemCaseSensitive(m->json, "location");
    cJSON *loc = cJSON_CreateObject();
    cJSON_AddNumberToObject(loc, "latitude", cJSON_GetObjectItemCaseSensitive(old, "latitude")->valuedouble);
    cJSON_AddNumberToObject(loc, "longitude", cJSON_GetObjectItemCaseSensitive(old, "longitude")->valuedouble);
    m->live_active = 0;
    tgsim_msg_begin_edit(m, tgsim_now_unix());
    cJSON_ReplaceItemInObjectCaseSensitive(m->json, "location", loc);
    tgsim_act_done(c, chat, m, TGSIM_U_EDITED_MESSAGE);
}

/* File bytes from "content_base64", or "size" generated bytes. */
static int tgsim_act_bytes(tgsim_ctl_t *c, int photo, unsigned char **data, size_t *len)
{
    const char *b64 = tgsim_ctl_str(c->in, "content_base64");
    if (b64) {
        if (tgsim_b64_decode(b64, strlen(b64), data, len) != 0 || *len == 0)
            return tgsim_ctl_err(c, 400, "content_base64 is not valid non-empty base64");
        return 0;
    }
    int64_t size = 4096;
    if (tgsim_ctl_i64(c->in, "size", &size) < 0 || size < 4 || size > 20 * 1024 * 1024)
        return tgsim_ctl_err(c, 400, "size must be 4..20971520");
    *len = (size_t)size;
    *data = tgsim_xmalloc(*len);
    uint32_t x = 2463534242u;
    for (size_t i = 0; i < *len; i++) {
        x ^= x << 13; x ^= x >> 17; x ^= x << 5;
        (*data)[i] = (unsigned char)x;
    }
    if (photo) { (*data)[0] = 0xFF; (*data)[1] = 0xD8; (*data)[2] = 0xFF; (*data)[3] = 0xE0; }
    return 0;
}

static void tgsim_act_file(tgsim_ctl_t *c, tgsim_user_t *u, tgsim_chat_t *chat, int photo)
{
    unsigned char *data;
    size_t len;
    if (tgsim_act_bytes(c, photo, &data, &len)) return;
    int64_t wi = 1280, he = 960;
    int iw, ih;
    if (photo && tgsim_image_size(data, len, &iw, &ih)) { wi = iw; he = ih; }
    tgsim_ctl_i64(c->in, "width", &wi);
    tgsim_ctl_i64(c->in, "height", &he);
    const char *name = tgsim_ctl_str(c->in, "file_name");
    const char *mime = tgsim_ctl_str(c->in, "mime_type");
    tgsim_file_t *f = tgsim_file_add(c->w, photo ? TGSIM_FILE_PHOTO : TGSIM_FILE_DOCUMENT, data, len,
                                     photo ? NULL : (name ? name : "document.bin"),
                                     photo ? NULL : (mime ? mime : "application/octet-stream"),
                                     photo ? (int)wi : 0, photo ? (int)he : 0);
    int64_t big = wi > he ? wi : he;
    if (photo && big > 320) tgsim_file_add_preview(c->w, f, (int)(wi * 320 / big), (int)(he * 320 / big));
    tgsim_msg_t *m = tgsim_act_msg(c, u, chat);
    if (photo) cJSON_AddItemToObject(m->json, "photo", tgsim_photo_json(f));
    else cJSON_AddItemToObject(m->json, "document", tgsim_document_json(f));
    tgsim_msg_note_file(m, f);
    const char *cap = tgsim_ctl_str(c->in, "caption");
    if (cap && *cap) cJSON_AddStringToObject(m->json, "caption", cap);
    tgsim_act_done(c, chat, m, TGSIM_U_MESSAGE);
}

const char *tgsim_ctl_pay_status(int s)
{
    switch (s) {
    case TGSIM_PAY_SUCCEEDED: return "succeeded";
    case TGSIM_PAY_REJECTED: return "rejected";
    case TGSIM_PAY_EXPIRED: return "expired";
    case TGSIM_PAY_DECLINED: return "declined";
    default: return "pending";
    }
}

static void tgsim_act_pay_msg(tgsim_ctl_t *c, tgsim_user_t *u, tgsim_chat_t *chat, tgsim_msg_t *inv)
{
    tgsim_world_t *w = c->w;
    cJSON *invoice = cJSON_GetObjectItemCaseSensitive(inv->json, "invoice");
    if (!inv->from_bot || !invoice) { tgsim_ctl_err(c, 409, "that message is not an invoice"); return; }
    tgsim_payment_t *p = tgsim_payment_new(w, chat);
    p->user_id = u->id;
    p->invoice_message_id = inv->id;
    p->currency = tgsim_xstrdup(cJSON_GetObjectItemCaseSensitive(invoice, "currency")->valuestring);
    p->total = (int64_t)cJSON_GetObjectItemCaseSensitive(invoice, "total_amount")->valuedouble;
    cJSON *pl = cJSON_GetObjectItemCaseSensitive(inv->meta, "payload");
    p->payload = tgsim_xstrdup(cJSON_IsString(pl) ? pl->valuestring : "");
    p->deadline = tgsim_now_mono() + w->cfg.precheckout_timeout_ms / 1000.0;
    p->decline = tgsim_ctl_bool(c->in, "decline", 0);
    cJSON *q = cJSON_CreateObject();
    cJSON_AddStringToObject(q, "id", p->id);
    cJSON_AddItemToObject(q, "from", tgsim_user_json(u));
    cJSON_AddStringToObject(q, "currency", p->currency);
    cJSON_AddNumberToObject(q, "total_amount", (double)p->total);
    cJSON_AddStringToObject(q, "invoice_payload", p->payload);
    cJSON *oi = tgsim_order_info(u, inv->meta);
    if (oi) cJSON_AddItemToObject(q, "order_info", oi);
    int64_t uid = tgsim_update_push(w, TGSIM_U_PRE_CHECKOUT_QUERY, chat->id, q);
    tgsim_world_touch(w, chat);
    char id[sizeof p->id];
    memcpy(id, p->id, sizeof id);
    int status = p->status;
    if (tgsim_ctl_bool(c->in, "wait", 0)) {
        for (;;) {
            p = tgsim_map_get(&w->pays, tgsim_str_key(id));
            if (!p || strcmp(p->id, id) != 0) { tgsim_ctl_err(c, 410, "the world was reset while waiting"); return; }
            if (p->status == TGSIM_PAY_PENDING && tgsim_now_mono() > p->deadline) {
                p->status = TGSIM_PAY_EXPIRED;
                tgsim_world_touch(w, tgsim_chat_find(w, p->chat_id));
            }
            status = p->status;
            if (status != TGSIM_PAY_PENDING || w->stopping) break;
            tgsim_world_wait(w, p->deadline + 0.05);
        }
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "pre_checkout_query_id", id);
    cJSON_AddNumberToObject(o, "update_id", (double)uid);
    cJSON_AddStringToObject(o, "status", tgsim_ctl_pay_status(status));
    if (p && status == TGSIM_PAY_SUCCEEDED) cJSON_AddNumberToObject(o, "message_id", (double)p->message_id);
    if (p && status == TGSIM_PAY_REJECTED && p->error_message) cJSON_AddStringToObject(o, "error_message", p->error_message);
    tgsim_ctl_ok(c, o);
}

static void tgsim_act_pay(tgsim_ctl_t *c, tgsim_user_t *u, tgsim_chat_t *chat)
{
    int64_t id;
    if (tgsim_ctl_i64(c->in, "message_id", &id) != 1) { tgsim_ctl_err(c, 400, "message_id is required"); return; }
    tgsim_msg_t *inv = tgsim_msg_find(chat, id);
    if (!inv) { tgsim_ctl_err(c, 404, "message not found"); return; }
    tgsim_act_pay_msg(c, u, chat, inv);
}

static char *tgsim_chat_instance(int64_t chat_id)
{
    uint64_t h = (uint64_t)chat_id * UINT64_C(0x9E3779B97F4A7C15) ^ UINT64_C(0x5bd1e9955bd1e995);
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", (long long)h);
    return tgsim_xstrdup(buf);
}

static void tgsim_act_press_inline(tgsim_ctl_t *c, tgsim_user_t *u, tgsim_chat_t *chat)
{
    tgsim_world_t *w = c->w;
    int64_t id;
    if (tgsim_ctl_i64(c->in, "message_id", &id) != 1) { tgsim_ctl_err(c, 400, "message_id is required"); return; }
    tgsim_msg_t *m = tgsim_msg_find(chat, id);
    if (!m || !m->from_bot) { tgsim_ctl_err(c, 404, "no such bot message in this chat"); return; }
    const char *data = tgsim_ctl_str(c->in, "data");
    const char *text = tgsim_ctl_str(c->in, "text");
    if (!data && !text) { tgsim_ctl_err(c, 400, "data or text is required"); return; }
    cJSON *kb = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(m->json, "reply_markup"),
                                                 "inline_keyboard");
    cJSON *button = NULL;
    for (cJSON *row = kb ? kb->child : NULL; row && !button; row = row->next) {
        for (cJSON *b = row->child; b; b = b->next) {
            cJSON *cd = cJSON_GetObjectItemCaseSensitive(b, "callback_data");
            cJSON *bt = cJSON_GetObjectItemCaseSensitive(b, "text");
            if ((data && cJSON_IsString(cd) && !strcmp(cd->valuestring, data)) ||
                (!data && text && cJSON_IsString(bt) && !strcmp(bt->valuestring, text))) {
                button = b;
                break;
            }
        }
    }
    if (!button && !(data && tgsim_ctl_bool(c->in, "force", 0))) {
        tgsim_ctl_err(c, 409, "the message has no such inline button now");
        return;
    }
    cJSON *url = cJSON_GetObjectItemCaseSensitive(button, "url");
    if (cJSON_IsString(url)) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "url", url->valuestring);
        tgsim_ctl_ok(c, o);
        return;
    }
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(button, "pay"))) { tgsim_act_pay_msg(c, u, chat, m); return; }
    cJSON *cd = cJSON_GetObjectItemCaseSensitive(button, "callback_data");
    if (!data && !cJSON_IsString(cd)) { tgsim_ctl_err(c, 409, "that button sends no callback data"); return; }
    const char *d = data ? data : cd->valuestring;
    tgsim_cbq_t *q = tgsim_cbq_new(w, chat);
    q->user_id = u->id;
    q->message_id = m->id;
    q->data = tgsim_xstrdup(d);
    q->deadline = tgsim_now_mono() + w->cfg.callback_timeout_ms / 1000.0;
    cJSON *cq = cJSON_CreateObject();
    cJSON_AddStringToObject(cq, "id", q->id);
    cJSON_AddItemToObject(cq, "from", tgsim_user_json(u));
    cJSON_AddItemToObject(cq, "message", cJSON_Duplicate(m->json, 1));
    char *ci = tgsim_chat_instance(chat->id);
    cJSON_AddStringToObject(cq, "chat_instance", ci);
    free(ci);
    cJSON_AddStringToObject(cq, "data", d);
    int64_t uid = tgsim_update_push(w, TGSIM_U_CALLBACK_QUERY, chat->id, cq);
    tgsim_world_touch(w, chat);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "callback_query_id", q->id);
    cJSON_AddNumberToObject(o, "update_id", (double)uid);
    tgsim_ctl_ok(c, o);
}

static void tgsim_act_press_reply(tgsim_ctl_t *c, tgsim_user_t *u, tgsim_chat_t *chat)
{
    const char *text = tgsim_ctl_str(c->in, "text");
    if (!text || !*text) { tgsim_ctl_err(c, 400, "text is required"); return; }
    cJSON *kb = cJSON_GetObjectItemCaseSensitive(chat->reply_keyboard, "keyboard");
    cJSON *button = NULL;
    for (cJSON *row = kb ? kb->child : NULL; row && !button; row = row->next)
        for (cJSON *b = row->child; b && !button; b = b->next) {
            cJSON *bt = cJSON_GetObjectItemCaseSensitive(b, "text");
            if (cJSON_IsString(bt) && !strcmp(bt->valuestring, text)) button = b;
        }
    if (!button && !tgsim_ctl_bool(c->in, "force", 0)) {
        tgsim_ctl_err(c, 409, "the current reply keyboard has no such button");
        return;
    }
    int contact = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(button, "request_contact"));
    int location = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(button, "request_location"));
    if (button && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(chat->reply_keyboard, "one_time_keyboard"))) {
        cJSON_Delete(chat->reply_keyboard);
        chat->reply_keyboard = NULL;
    }
    if (contact) tgsim_act_own_contact(c, u, chat);
    else if (location) tgsim_act_location(c, u, chat);
    else tgsim_act_send_text(c, u, chat, text);
}

static void tgsim_act_block(tgsim_ctl_t *c, tgsim_user_t *u, int block)
{
    tgsim_world_t *w = c->w;
    tgsim_chat_t *chat = tgsim_chat_find(w, u->id);
    cJSON *o = cJSON_CreateObject();
    int64_t uid = 0;
    if (u->blocked != block) {
        u->blocked = block;
        if (!block) u->started = 1;     /* unblocking restarts the bot */
        const char *tok = tgsim_world_token(w);
        cJSON *cm = cJSON_CreateObject();
        cJSON_AddItemToObject(cm, "chat", tgsim_chat_json(w, chat));
        cJSON_AddItemToObject(cm, "from", tgsim_user_json(u));
        cJSON_AddNumberToObject(cm, "date", (double)tgsim_now_unix());
        cJSON *old = cJSON_AddObjectToObject(cm, "old_chat_member");
        cJSON_AddItemToObject(old, "user", tgsim_bot_json(w, tok));
        cJSON_AddStringToObject(old, "status", block ? "member" : "kicked");
        if (!block) cJSON_AddNumberToObject(old, "until_date", 0);
        cJSON *nw = cJSON_AddObjectToObject(cm, "new_chat_member");
        cJSON_AddItemToObject(nw, "user", tgsim_bot_json(w, tok));
        cJSON_AddStringToObject(nw, "status", block ? "kicked" : "member");
        if (block) cJSON_AddNumberToObject(nw, "until_date", 0);
        uid = tgsim_update_push(w, TGSIM_U_MY_CHAT_MEMBER, u->id, cm);
        tgsim_world_touch(w, chat);
    }
    cJSON_AddBoolToObject(o, "blocked", u->blocked);
    cJSON_AddNumberToObject(o, "update_id", (double)uid);
    tgsim_ctl_ok(c, o);
}

void tgsim_ctl_act(tgsim_ctl_t *c, tgsim_user_t *u, const char *action)
{
    if (!strcmp(action, "block")) { tgsim_act_block(c, u, 1); return; }
    if (!strcmp(action, "unblock")) { tgsim_act_block(c, u, 0); return; }
    tgsim_chat_t *chat = tgsim_act_chat(c, u);
    if (!chat) return;
    if (u->blocked && !strcmp(chat->type, "private")) {
        tgsim_ctl_err(c, 409, "the user has blocked the bot; POST .../unblock first");
        return;
    }
    if (!strcmp(action, "text")) tgsim_act_send_text(c, u, chat, tgsim_ctl_str(c->in, "text"));
    else if (!strcmp(action, "command")) tgsim_act_command(c, u, chat);
    else if (!strcmp(action, "contact")) tgsim_act_contact(c, u, chat);
    else if (!strcmp(action, "location")) tgsim_act_location(c, u, chat);
    else if (!strcmp(action, "live_start")) tgsim_act_live_start(c, u, chat);
    else if (!strcmp(action, "live_move")) tgsim_act_live_move(c, u, chat);
    else if (!strcmp(action, "live_stop")) tgsim_act_live_stop(c, u, chat);
    else if (!strcmp(action, "photo")) tgsim_act_file(c, u, chat, 1);
    else if (!strcmp(action, "document")) tgsim_act_file(c, u, chat, 0);
    else if (!strcmp(action, "press_inline")) tgsim_act_press_inline(c, u, chat);
    else if (!strcmp(action, "press_reply")) tgsim_act_press_reply(c, u, chat);
    else if (!strcmp(action, "pay")) tgsim_act_pay(c, u, chat);
    else tgsim_ctl_err(c, 404, "unknown action");
}
