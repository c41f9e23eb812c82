/* tgsim_api_send.c — the Bot API methods that put something into a chat or
 * change it: sendMessage, sendPhoto, sendDocument, sendLocation,
 * sendInvoice, sendChatAction, editMessageText, editMessageCaption,
 * editMessageReplyMarkup, deleteMessage, answerCallbackQuery,
 * answerPreCheckoutQuery.
 *
 * Order of checks (as on the real server): parameters and markup, then the
 * chat (exists, not blocked, started), then flood control, then the effect.
 *
 * Exports: the tgsim_m_* handlers above and tgsim_order_info.
 * Threads: Bot API handlers with w->mu held.
 */
#include "tgsim_api_int.h"
#include "tgsim_log.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const tgsim_not_modified =
    "message is not modified: specified new message content and reply markup are exactly the same "
    "as a current content and reply markup of the message";
static const char *const tgsim_query_too_old =
    "query is too old and response timeout expired or query ID is invalid";

/* A new message from the bot in `chat`. */
static tgsim_msg_t *tgsim_bot_msg(tgsim_call_t *c, tgsim_chat_t *chat)
{
    tgsim_msg_t *m = tgsim_msg_new(c->w, chat, 1, tgsim_bot_id(c->token), tgsim_bot_json(c->w, c->token));
    c->w->stats.bot_messages++;
    return m;
}

static void tgsim_set_text(cJSON *json, const char *key, const char *ekey, const char *text, cJSON *ents)
{
    cJSON_DeleteItemFromObjectCaseSensitive(json, key);
    cJSON_DeleteItemFromObjectCaseSensitive(json, ekey);
    if (text && *text) cJSON_AddStringToObject(json, key, text);
    if (ents && cJSON_GetArraySize(ents) > 0) cJSON_AddItemToObject(json, ekey, ents);
    else cJSON_Delete(ents);
}

static void tgsim_note_raw(tgsim_call_t *c, tgsim_msg_t *m, const char *name, const char *mode_name)
{
    free(m->raw);
    free(m->parse_mode);
    const char *raw = tgsim_params_str(c->p, name);
    const char *mode = tgsim_params_str(c->p, mode_name);
    m->raw = tgsim_xstrdup(raw);
    m->parse_mode = mode && *mode ? tgsim_xstrdup(mode) : NULL;
}

/* Common tail of every send: reply check, chat, rate. Returns the chat or
 * NULL (error written). */
static tgsim_chat_t *tgsim_send_gate(tgsim_call_t *c)
{
    tgsim_chat_t *chat = tgsim_call_chat(c, "chat_id", 0);
    if (!chat) return NULL;
    if (tgsim_call_reply(c, chat, NULL)) return NULL;
    if (tgsim_call_rate(c, chat->id)) return NULL;
    return chat;
}

void tgsim_m_sendmessage(tgsim_call_t *c)
{
    char *text;
    cJSON *ents, *markup;
    if (tgsim_call_text(c, "text", "parse_mode", "entities", 0, &text, &ents)) return;
    if (tgsim_call_markup(c, 0, &markup)) { free(text); cJSON_Delete(ents); return; }
    tgsim_chat_t *chat = tgsim_send_gate(c);
    if (!chat) { free(text); cJSON_Delete(ents); cJSON_Delete(markup); return; }
    tgsim_msg_t *m = tgsim_bot_msg(c, chat);
    tgsim_call_reply(c, chat, m);
    tgsim_set_text(m->json, "text", "entities", text, ents);
    free(text);
    tgsim_note_raw(c, m, "text", "parse_mode");
    tgsim_apply_markup(chat, m, markup);
    tgsim_world_touch(c->w, chat);
    tgsim_ok_msg(c, m);
}

static void tgsim_send_file(tgsim_call_t *c, int kind)
{
    const char *pname = kind == TGSIM_FILE_PHOTO ? "photo" : "document";
    char *cap;
    cJSON *ents, *markup;
    if (tgsim_call_text(c, "caption", "parse_mode", "caption_entities", 1, &cap, &ents)) return;
    if (tgsim_call_markup(c, 0, &markup)) { free(cap); cJSON_Delete(ents); return; }
    tgsim_file_t *f = tgsim_call_file(c, pname, kind);
    tgsim_chat_t *chat = f ? tgsim_send_gate(c) : NULL;
    if (!chat) { free(cap); cJSON_Delete(ents); cJSON_Delete(markup); return; }
    tgsim_msg_t *m = tgsim_bot_msg(c, chat);
    tgsim_call_reply(c, chat, m);
    if (kind == TGSIM_FILE_PHOTO) cJSON_AddItemToObject(m->json, "photo", tgsim_photo_json(f));
    else cJSON_AddItemToObject(m->json, "document", tgsim_document_json(f));
    tgsim_msg_note_file(m, f);
    tgsim_set_text(m->json, "caption", "caption_entities", cap, ents);
    free(cap);
    tgsim_note_raw(c, m, "caption", "parse_mode");
    tgsim_apply_markup(chat, m, markup);
    tgsim_world_touch(c->w, chat);
    tgsim_ok_msg(c, m);
}

void tgsim_m_sendphoto(tgsim_call_t *c) { tgsim_send_file(c, TGSIM_FILE_PHOTO); }
void tgsim_m_senddocument(tgsim_call_t *c) { tgsim_send_file(c, TGSIM_FILE_DOCUMENT); }

/* Optional number parameter: 1 absent, 0 parsed, -1 malformed. */
static int tgsim_opt_num(tgsim_call_t *c, const char *name, double *out)
{
    const char *s = tgsim_params_str(c->p, name);
    if (!s || !*s) return 1;
    return tgsim_parse_double(s, out) == 0 ? 0 : -1;
}

void tgsim_m_sendlocation(tgsim_call_t *c)
{
    double lat, lon, live = 0, heading = 0, acc = 0;
    int r;
    if ((r = tgsim_opt_num(c, "latitude", &lat)) == 1) { tgsim_bad(c, "latitude is empty"); return; }
    if (r < 0 || fabs(lat) > 90) { tgsim_bad(c, "wrong latitude specified"); return; }
    if ((r = tgsim_opt_num(c, "longitude", &lon)) == 1) { tgsim_bad(c, "longitude is empty"); return; }
    if (r < 0 || fabs(lon) > 180) { tgsim_bad(c, "wrong longitude specified"); return; }
    int has_live = tgsim_opt_num(c, "live_period", &live);
    if (has_live < 0 || (has_live == 0 && live != 2147483647.0 && (live < 60 || live > 86400))) {
        tgsim_bad(c, "wrong live location period specified");
        return;
    }
    int has_heading = tgsim_opt_num(c, "heading", &heading);
    if (has_heading < 0 || (has_heading == 0 && (heading < 1 || heading > 360))) {
        tgsim_bad(c, "wrong heading specified");
        return;
    }
    int has_acc = tgsim_opt_num(c, "horizontal_accuracy", &acc);
    if (has_acc < 0 || (has_acc == 0 && (acc < 0 || acc > 1500))) {
        tgsim_bad(c, "wrong horizontal accuracy specified");
        return;
    }
    cJSON *markup;
    if (tgsim_call_markup(c, 0, &markup)) return;
    tgsim_chat_t *chat = tgsim_send_gate(c);
    if (!chat) { cJSON_Delete(markup); return; }
    tgsim_msg_t *m = tgsim_bot_msg(c, chat);
    tgsim_call_reply(c, chat, m);
    cJSON *loc = cJSON_AddObjectToObject(m->json, "location");
    cJSON_AddNumberToObject(loc, "latitude", lat);
    cJSON_AddNumberToObject(loc, "longitude", lon);
    if (has_live == 0) cJSON_AddNumberToObject(loc, "live_period", live);
    if (has_heading == 0 && has_live == 0) cJSON_AddNumberToObject(loc, "heading", heading);
    if (has_acc == 0) cJSON_AddNumberToObject(loc, "horizontal_accuracy", acc);
    tgsim_apply_markup(chat, m, markup);
    tgsim_world_touch(c->w, chat);
    tgsim_ok_msg(c, m);
}

static int tgsim_len_ok(const char *s, size_t lo, size_t hi)
{
    size_t l = s ? tgsim_utf16_len(s, strlen(s)) : 0;
    return l >= lo && l <= hi;
}

void tgsim_m_sendinvoice(tgsim_call_t *c)
{
    const char *title = tgsim_params_str(c->p, "title");
    const char *desc = tgsim_params_str(c->p, "description");
    const char *payload = tgsim_params_str(c->p, "payload");
    const char *currency = tgsim_params_str(c->p, "currency");
    const char *prices_js = tgsim_params_str(c->p, "prices");
    const char *ptoken = tgsim_params_str(c->p, "provider_token");
    if (!title || !*title) { tgsim_bad(c, "title is empty"); return; }
    if (!tgsim_len_ok(title, 1, 32)) { tgsim_bad(c, "INVOICE_TITLE_INVALID"); return; }
    if (!desc || !*desc) { tgsim_bad(c, "description is empty"); return; }
    if (!tgsim_len_ok(desc, 1, 255)) { tgsim_bad(c, "INVOICE_DESCRIPTION_INVALID"); return; }
    if (!payload || !*payload) { tgsim_bad(c, "payload is empty"); return; }
    if (strlen(payload) > 128) { tgsim_bad(c, "INVOICE_PAYLOAD_INVALID"); return; }
    if (!currency || strlen(currency) != 3) { tgsim_bad(c, "CURRENCY_INVALID"); return; }
    for (int i = 0; i < 3; i++)
        if (currency[i] < 'A' || currency[i] > 'Z') { tgsim_bad(c, "CURRENCY_INVALID"); return; }
    int stars = !strcmp(currency, "XTR");
    if (!stars && (!ptoken || !*ptoken)) { tgsim_bad(c, "PAYMENT_PROVIDER_INVALID"); return; }
    cJSON *prices = prices_js ? tgsim_json_parse(prices_js, strlen(prices_js)) : NULL;
    double total = 0;
    int ok = cJSON_IsArray(prices) && cJSON_GetArraySize(prices) > 0;
    for (cJSON *e = ok ? prices->child : NULL; e && ok; e = e->next) {
        cJSON *label = cJSON_GetObjectItemCaseSensitive(e, "label");
        cJSON *amount = cJSON_GetObjectItemCaseSensitive(e, "amount");
        ok = cJSON_IsString(label) && cJSON_IsNumber(amount) && amount->valuedouble == floor(amount->valuedouble);
        if (ok) total += amount->valuedouble;
    }
    if (!ok) { cJSON_Delete(prices); tgsim_bad(c, "can't parse prices JSON object"); return; }
    if (total <= 0) { cJSON_Delete(prices); tgsim_bad(c, "CURRENCY_TOTAL_AMOUNT_INVALID"); return; }
    cJSON *markup;
    if (tgsim_call_markup(c, 1, &markup)) { cJSON_Delete(prices); return; }
    if (markup) {
        cJSON *kb = cJSON_GetObjectItemCaseSensitive(markup, "inline_keyboard");
        cJSON *first = kb && kb->child ? kb->child->child : NULL;
        if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(first, "pay"))) {
            cJSON_Delete(prices); cJSON_Delete(markup);
            tgsim_bad(c, "REPLY_MARKUP_BUY_EMPTY");
            return;
        }
    }
    tgsim_chat_t *chat = tgsim_send_gate(c);
    if (!chat) { cJSON_Delete(prices); cJSON_Delete(markup); return; }
    tgsim_msg_t *m = tgsim_bot_msg(c, chat);
    tgsim_call_reply(c, chat, m);
    cJSON *inv = cJSON_AddObjectToObject(m->json, "invoice");
    cJSON_AddStringToObject(inv, "title", title);
    cJSON_AddStringToObject(inv, "description", desc);
    const char *sp = tgsim_params_str(c->p, "start_parameter");
    cJSON_AddStringToObject(inv, "start_parameter", sp ? sp : "");
    cJSON_AddStringToObject(inv, "currency", currency);
    cJSON_AddNumberToObject(inv, "total_amount", total);
    m->meta = cJSON_CreateObject();
    cJSON_AddStringToObject(m->meta, "payload", payload);
    cJSON_AddBoolToObject(m->meta, "has_provider_token", ptoken && *ptoken);
    cJSON_AddItemToObject(m->meta, "prices", prices);
    const char *pdata = tgsim_params_str(c->p, "provider_data");   /* e.g. the 54-FZ receipt */
    if (pdata) cJSON_AddStringToObject(m->meta, "provider_data", pdata);
    static const char *const flags[] = {"need_name", "need_phone_number", "need_email",
                                        "need_shipping_address", "is_flexible",
                                        "send_phone_number_to_provider", "send_email_to_provider", NULL};
    for (int i = 0; flags[i]; i++)
        cJSON_AddBoolToObject(m->meta, flags[i], tgsim_parse_bool(tgsim_params_str(c->p, flags[i])) == 1);
    tgsim_apply_markup(chat, m, markup);
    tgsim_world_touch(c->w, chat);
    tgsim_ok_msg(c, m);
}

void tgsim_m_sendchataction(tgsim_call_t *c)
{
    const char *action = tgsim_params_str(c->p, "action");
    if (!action || !*action) { tgsim_bad(c, "action is empty"); return; }
    if (!tgsim_call_chat(c, "chat_id", 0)) return;
    tgsim_api_ok(c->r, NULL, NULL);
}

/* Resolve chat_id + message_id of a message the bot may edit. */
static tgsim_msg_t *tgsim_edit_target(tgsim_call_t *c, tgsim_chat_t **chat_out, const char *missing)
{
    const char *imid = tgsim_params_str(c->p, "inline_message_id");
    if (imid && *imid) { tgsim_bad(c, "MESSAGE_ID_INVALID"); return NULL; }
    tgsim_chat_t *chat = tgsim_call_chat(c, "chat_id", 1);
    if (!chat) return NULL;
    const char *mid = tgsim_params_str(c->p, "message_id");
    int64_t id;
    if (!mid || !*mid) { tgsim_bad(c, "message identifier is not specified"); return NULL; }
    tgsim_msg_t *m = tgsim_parse_int64(mid, &id) == 0 ? tgsim_msg_find(chat, id) : NULL;
    if (!m) { tgsim_bad(c, missing); return NULL; }
    *chat_out = chat;
    return m;
}

static cJSON *tgsim_inline_of(cJSON *markup)
{
    return markup ? cJSON_GetObjectItemCaseSensitive(markup, "inline_keyboard") : NULL;
}

/* Are the current reply_markup of m and the new markup the same? */
static int tgsim_same_markup(tgsim_msg_t *m, cJSON *markup)
{
    cJSON *cur = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(m->json, "reply_markup"),
                                                  "inline_keyboard");
    cJSON *nw = tgsim_inline_of(markup);
    if (!cur || !nw) return !cur && !nw;
    return cJSON_Compare(cur, nw, 1);
}

static int tgsim_same_ents(cJSON *cur, cJSON *nw)
{
    int ce = cur ? cJSON_GetArraySize(cur) : 0, ne = nw ? cJSON_GetArraySize(nw) : 0;
    if (!ce || !ne) return ce == ne;
    return cJSON_Compare(cur, nw, 1);
}

/* Replace the inline keyboard of an edited message (absent = removed). */
static void tgsim_edit_markup(tgsim_msg_t *m, cJSON *markup)
{
    cJSON_DeleteItemFromObjectCaseSensitive(m->json, "reply_markup");
    cJSON_Delete(m->markup);
    m->markup = NULL;
    if (markup) {
        cJSON *rm = cJSON_CreateObject();
        cJSON_AddItemToObject(rm, "inline_keyboard", cJSON_Duplicate(tgsim_inline_of(markup), 1));
        cJSON_AddItemToObject(m->json, "reply_markup", rm);
        m->markup = markup;
    }
}

static void tgsim_edit_text_or_caption(tgsim_call_t *c, int caption)
{
    const char *key = caption ? "caption" : "text", *ekey = caption ? "caption_entities" : "entities";
    char *text;
    cJSON *ents, *markup;
    if (tgsim_call_text(c, key, "parse_mode", ekey, caption, &text, &ents)) return;
    if (tgsim_call_markup(c, 1, &markup)) { free(text); cJSON_Delete(ents); return; }
    tgsim_chat_t *chat;
    tgsim_msg_t *m = tgsim_edit_target(c, &chat, "message to edit not found");
    int err = !m;
    if (m && !m->from_bot) err = tgsim_bad(c, "message can't be edited");
    cJSON *cur = m ? cJSON_GetObjectItemCaseSensitive(m->json, key) : NULL;
    int has_media = m && (cJSON_GetObjectItemCaseSensitive(m->json, "photo") ||
                          cJSON_GetObjectItemCaseSensitive(m->json, "document"));
    if (!err && !caption && !cur) err = tgsim_bad(c, "there is no text in the message to edit");
    if (!err && caption && !has_media) err = tgsim_bad(c, "there is no caption in the message to edit");
    if (!err && !strcmp(cur ? cur->valuestring : "", text) &&
        tgsim_same_ents(cJSON_GetObjectItemCaseSensitive(m->json, ekey), ents) && tgsim_same_markup(m, markup))
        err = tgsim_bad(c, tgsim_not_modified);
    if (err) { free(text); cJSON_Delete(ents); cJSON_Delete(markup); return; }
    tgsim_msg_begin_edit(m, tgsim_now_unix());
    tgsim_set_text(m->json, key, ekey, text, ents);
    free(text);
    tgsim_note_raw(c, m, key, "parse_mode");
    tgsim_edit_markup(m, markup);
    tgsim_world_touch(c->w, chat);
    tgsim_ok_msg(c, m);
}

void tgsim_m_editmessagetext(tgsim_call_t *c) { tgsim_edit_text_or_caption(c, 0); }
void tgsim_m_editmessagecaption(tgsim_call_t *c) { tgsim_edit_text_or_caption(c, 1); }

void tgsim_m_editmessagereplymarkup(tgsim_call_t *c)
{
    cJSON *markup;
    if (tgsim_call_markup(c, 1, &markup)) return;
    tgsim_chat_t *chat;
    tgsim_msg_t *m = tgsim_edit_target(c, &chat, "message to edit not found");
    int err = !m;
    if (m && !m->from_bot) err = tgsim_bad(c, "message can't be edited");
    if (!err && tgsim_same_markup(m, markup)) err = tgsim_bad(c, tgsim_not_modified);
    if (err) { cJSON_Delete(markup); return; }
    tgsim_msg_begin_edit(m, tgsim_now_unix());
    tgsim_edit_markup(m, markup);
    tgsim_world_touch(c->w, chat);
    tgsim_ok_msg(c, m);
}

void tgsim_m_deletemessage(tgsim_call_t *c)
{
    tgsim_chat_t *chat;
    tgsim_msg_t *m = tgsim_edit_target(c, &chat, "message to delete not found");
    if (!m) return;
    m->deleted = 1;
    tgsim_world_touch(c->w, chat);
    tgsim_api_ok(c->r, NULL, NULL);
}

void tgsim_m_answercallbackquery(tgsim_call_t *c)
{
    const char *id = tgsim_params_str(c->p, "callback_query_id");
    if (!id || !*id) { tgsim_bad(c, "callback_query_id is empty"); return; }
    tgsim_cbq_t *q = tgsim_map_get(&c->w->cbqs, tgsim_str_key(id));
    if (!q || strcmp(q->id, id) != 0 || q->answered || tgsim_now_mono() > q->deadline) {
        tgsim_bad(c, tgsim_query_too_old);
        return;
    }
    const char *text = tgsim_params_str(c->p, "text");
    if (text && !tgsim_len_ok(text, 0, 200)) { tgsim_bad(c, "MESSAGE_TOO_LONG"); return; }
    q->answered = 1;
    q->answer = cJSON_CreateObject();
    if (text) cJSON_AddStringToObject(q->answer, "text", text);
    cJSON_AddBoolToObject(q->answer, "show_alert", tgsim_parse_bool(tgsim_params_str(c->p, "show_alert")) == 1);
    const char *url = tgsim_params_str(c->p, "url");
    if (url && *url) cJSON_AddStringToObject(q->answer, "url", url);
    int64_t ct = 0;
    const char *cts = tgsim_params_str(c->p, "cache_time");
    if (cts && *cts && tgsim_parse_int64(cts, &ct) == 0) cJSON_AddNumberToObject(q->answer, "cache_time", (double)ct);
    tgsim_world_touch(c->w, tgsim_chat_find(c->w, q->chat_id));
    tgsim_api_ok(c->r, NULL, NULL);
}

cJSON *tgsim_order_info(const tgsim_user_t *u, const cJSON *meta)
{
    int name = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(meta, "need_name"));
    int phone = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(meta, "need_phone_number"));
    if (!u || (!name && !phone)) return NULL;
    cJSON *o = cJSON_CreateObject();
    if (name) {
        char full[256];
        snprintf(full, sizeof full, "%s%s%s", u->first_name ? u->first_name : "", u->last_name ? " " : "",
                 u->last_name ? u->last_name : "");
        cJSON_AddStringToObject(o, "name", full);
    }
    if (phone && u->phone) cJSON_AddStringToObject(o, "phone_number", u->phone[0] == '+' ? u->phone + 1 : u->phone);
    return o;
}

void tgsim_m_answerprecheckoutquery(tgsim_call_t *c)
{
    tgsim_world_t *w = c->w;
    const char *id = tgsim_params_str(c->p, "pre_checkout_query_id");
    if (!id || !*id) { tgsim_bad(c, "pre_checkout_query_id is empty"); return; }
    const char *oks = tgsim_params_str(c->p, "ok");
    int ok = tgsim_parse_bool(oks);
    if (!oks || !*oks || ok < 0) { tgsim_bad(c, "ok is empty"); return; }
    const char *errmsg = tgsim_params_str(c->p, "error_message");
    if (!ok && (!errmsg || !*errmsg)) { tgsim_bad(c, "error_message is empty"); return; }
    tgsim_payment_t *p = tgsim_map_get(&w->pays, tgsim_str_key(id));
    if (p && strcmp(p->id, id) != 0) p = NULL;
    if (p && p->status == TGSIM_PAY_PENDING && tgsim_now_mono() > p->deadline) p->status = TGSIM_PAY_EXPIRED;
    if (!p || p->status != TGSIM_PAY_PENDING) { tgsim_bad(c, tgsim_query_too_old); return; }
    tgsim_chat_t *chat = tgsim_chat_find(w, p->chat_id);
    if (!ok) {
        p->status = TGSIM_PAY_REJECTED;
        p->error_message = tgsim_xstrdup(errmsg);
    } else if (p->decline) {   /* the provider declines the card: no money, no successful_payment */
        p->status = TGSIM_PAY_DECLINED;
    } else {
        tgsim_user_t *u = tgsim_user_find(w, p->user_id);
        tgsim_msg_t *inv = tgsim_msg_find(chat, p->invoice_message_id);
        tgsim_msg_t *m = tgsim_msg_new(w, chat, 0, p->user_id, u ? tgsim_user_json(u) : cJSON_CreateObject());
        cJSON *sp = cJSON_AddObjectToObject(m->json, "successful_payment");
        cJSON_AddStringToObject(sp, "currency", p->currency);
        cJSON_AddNumberToObject(sp, "total_amount", (double)p->total);
        cJSON_AddStringToObject(sp, "invoice_payload", p->payload);
        char tg_charge[40], prov_charge[40];
        tgsim_random_chars(tg_charge, 24);
        snprintf(prov_charge, sizeof prov_charge, "%lld_test", (long long)tgsim_random_i53());
        cJSON_AddStringToObject(sp, "telegram_payment_charge_id", tg_charge);
        cJSON_AddStringToObject(sp, "provider_payment_charge_id", prov_charge);
        cJSON *oi = tgsim_order_info(u, inv ? inv->meta : NULL);
        if (oi) cJSON_AddItemToObject(sp, "order_info", oi);
        p->status = TGSIM_PAY_SUCCEEDED;
        p->message_id = m->id;
        tgsim_update_push(w, TGSIM_U_MESSAGE, chat->id, cJSON_Duplicate(m->json, 1));
    }
    tgsim_world_touch(w, chat);
    tgsim_api_ok(c->r, NULL, NULL);
}
