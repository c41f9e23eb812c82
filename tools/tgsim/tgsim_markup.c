/* tgsim_markup.c — the checks every sending method shares: chat access,
 * message text with parse modes, reply_markup, replies and flood control.
 *
 * Error wording follows the real server (see docs/tgsim.md for the list).
 *
 * Exports: tgsim_call_chat, tgsim_call_text, tgsim_call_markup,
 * tgsim_call_rate, tgsim_apply_markup, tgsim_call_reply, tgsim_ok_msg.
 * Threads: Bot API handlers, w->mu held.
 */
#include "tgsim_api_int.h"
#include "tgsim_html.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

tgsim_chat_t *tgsim_call_chat(tgsim_call_t *c, const char *name, int for_edit)
{
    const char *cid = tgsim_params_str(c->p, name);
    if (!cid || !*cid) { tgsim_bad(c, "chat_id is empty"); return NULL; }
    int64_t id;
    tgsim_chat_t *chat = tgsim_parse_int64(cid, &id) == 0 ? tgsim_chat_find(c->w, id) : NULL;
    if (!chat) { tgsim_bad(c, "chat not found"); return NULL; }
    if (!strcmp(chat->type, "private")) {
        tgsim_user_t *u = tgsim_user_find(c->w, chat->id);
        if (u && u->blocked) { tgsim_fail(c, 403, "Forbidden: bot was blocked by the user"); return NULL; }
        if (u && !u->started && !for_edit) {
            tgsim_fail(c, 403, "Forbidden: bot can't initiate conversation with a user");
            return NULL;
        }
    }
    return chat;
}

/* tg://user?id=N links become text_mention entities when N is known. */
static void tgsim_entities_mentions(tgsim_world_t *w, cJSON *ents)
{
    for (cJSON *e = ents ? ents->child : NULL; e; e = e->next) {
        cJSON *url = cJSON_GetObjectItemCaseSensitive(e, "url");
        int64_t id;
        if (!cJSON_IsString(url) || strncmp(url->valuestring, "tg://user?id=", 13) != 0) continue;
        if (tgsim_parse_int64(url->valuestring + 13, &id) != 0) continue;
        tgsim_user_t *u = tgsim_user_find(w, id);
        if (!u) continue;
        cJSON_DeleteItemFromObjectCaseSensitive(e, "url");
        cJSON_ReplaceItemInObjectCaseSensitive(e, "type", cJSON_CreateString("text_mention"));
        cJSON_AddItemToObject(e, "user", tgsim_user_json(u));
    }
}

int tgsim_call_text(tgsim_call_t *c, const char *name, const char *mode_name,
                    const char *entities_name, int caption, char **text_out, cJSON **ents_out)
{
    const char *raw = tgsim_params_str(c->p, name);
    *text_out = NULL;
    *ents_out = NULL;
    if (!raw) raw = "";
    if (!caption && !*raw) return tgsim_bad(c, "message text is empty");
    size_t rl = strlen(raw);
    if (!tgsim_utf8_valid(raw, rl)) return tgsim_bad(c, "strings must be encoded in UTF-8");
    const char *mode = tgsim_params_str(c->p, mode_name);
    char *text;
    size_t tl;
    cJSON *ents;
    if (mode && *mode && tgsim_strcaseeq(mode, "HTML")) {
        char err[512];
        if (tgsim_html_parse(raw, rl, &text, &tl, &ents, err, sizeof err) != 0) {
            char d[700];
            snprintf(d, sizeof d, "can't parse entities: %s", err);
            return tgsim_bad(c, d);
        }
    } else if (mode && *mode) {
        /* tgsim implements the HTML parse mode only (the one plus7 uses) */
        return tgsim_bad(c, "unsupported parse_mode");
    } else {
        text = tgsim_xstrndup(raw, rl);
        tl = rl;
        const char *ej = entities_name ? tgsim_params_str(c->p, entities_name) : NULL;
        ents = ej && *ej ? tgsim_json_parse(ej, strlen(ej)) : cJSON_CreateArray();
        if (!cJSON_IsArray(ents)) {
            cJSON_Delete(ents);
            free(text);
            return tgsim_bad(c, "can't parse entities JSON object");
        }
    }
    size_t len16 = tgsim_text_finish(&text, &tl, ents);
    if (!caption && len16 == 0) {
        free(text); cJSON_Delete(ents);
        return tgsim_bad(c, "message text is empty");
    }
    if (len16 > (caption ? 1024u : 4096u)) {
        free(text); cJSON_Delete(ents);
        return tgsim_bad(c, caption ? "message caption is too long" : "message is too long");
    }
    tgsim_entities_mentions(c->w, ents);
    *text_out = text;
    *ents_out = ents;
    return 0;
}

static int tgsim_kb_rows(cJSON *kb)
{
    if (!cJSON_IsArray(kb)) return 0;
    for (cJSON *row = kb->child; row; row = row->next)
        if (!cJSON_IsArray(row)) return 0;
    return 1;
}

static int tgsim_check_inline(tgsim_call_t *c, cJSON *kb)
{
    static const char *const actions[] = {
        "url", "callback_data", "web_app", "login_url", "switch_inline_query",
        "switch_inline_query_current_chat", "switch_inline_query_chosen_chat", "copy_text",
        "callback_game", "pay", NULL,
    };
    if (!tgsim_kb_rows(kb)) return tgsim_bad(c, "field \"inline_keyboard\" of the InlineKeyboardMarkup must be an Array of Arrays");
    for (cJSON *row = kb->child; row; row = row->next) {
        for (cJSON *b = row->child; b; b = b->next) {
            cJSON *text = cJSON_GetObjectItemCaseSensitive(b, "text");
            if (!cJSON_IsObject(b) || !cJSON_IsString(text))
                return tgsim_bad(c, "can't parse inline keyboard button: Field \"text\" must be of type String");
            if (!*text->valuestring) return tgsim_bad(c, "BUTTON_TEXT_INVALID");
            int n = 0;
            for (int k = 0; actions[k]; k++)
                if (cJSON_GetObjectItemCaseSensitive(b, actions[k])) n++;
            if (n == 0)
                return tgsim_bad(c, "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard");
            cJSON *cd = cJSON_GetObjectItemCaseSensitive(b, "callback_data");
            if (cd) {
                size_t l = cJSON_IsString(cd) ? strlen(cd->valuestring) : 0;
                if (!cJSON_IsString(cd) || l < 1 || l > 64) return tgsim_bad(c, "BUTTON_DATA_INVALID");
            }
            cJSON *url = cJSON_GetObjectItemCaseSensitive(b, "url");
            if (url && (!cJSON_IsString(url) ||
                        (strncmp(url->valuestring, "http://", 7) && strncmp(url->valuestring, "https://", 8) &&
                         strncmp(url->valuestring, "tg://", 5))))
                return tgsim_bad(c, "BUTTON_URL_INVALID");
        }
    }
    return 0;
}

static int tgsim_check_reply_kb(tgsim_call_t *c, cJSON *markup)
{
    cJSON *kb = cJSON_GetObjectItemCaseSensitive(markup, "keyboard");
    if (!tgsim_kb_rows(kb)) return tgsim_bad(c, "field \"keyboard\" of the ReplyKeyboardMarkup must be an Array of Arrays");
    for (cJSON *row = kb->child; row; row = row->next) {
        for (cJSON *b = row->child; b; b = b->next) {
            if (cJSON_IsString(b)) {          /* a bare string is a text button: normalise */
                cJSON *o = cJSON_CreateObject();
                cJSON_AddStringToObject(o, "text", b->valuestring);
                cJSON_ReplaceItemViaPointer(row, b, o);
                b = o;
            }
            cJSON *text = cJSON_GetObjectItemCaseSensitive(b, "text");
            if (!cJSON_IsObject(b) || !cJSON_IsString(text))
                return tgsim_bad(c, "can't parse keyboard button: Field \"text\" must be of type String");
            if (!*text->valuestring) return tgsim_bad(c, "BUTTON_TEXT_INVALID");
        }
    }
    cJSON *ph = cJSON_GetObjectItemCaseSensitive(markup, "input_field_placeholder");
    if (ph) {
        size_t l = cJSON_IsString(ph) ? tgsim_utf16_len(ph->valuestring, strlen(ph->valuestring)) : 0;
        if (l < 1 || l > 64) return tgsim_bad(c, "can't parse reply keyboard markup JSON object");
    }
    return 0;
}

int tgsim_call_markup(tgsim_call_t *c, int inline_only, cJSON **out)
{
    *out = NULL;
    const char *js = tgsim_params_str(c->p, "reply_markup");
    if (!js || !*js) return 0;
    cJSON *m = tgsim_json_parse(js, strlen(js));
    if (!cJSON_IsObject(m)) {
        cJSON_Delete(m);
        return tgsim_bad(c, "can't parse reply keyboard markup JSON object");
    }
    int rc;
    if (cJSON_GetObjectItemCaseSensitive(m, "inline_keyboard")) {
        rc = tgsim_check_inline(c, cJSON_GetObjectItemCaseSensitive(m, "inline_keyboard"));
    } else if (inline_only) {
        rc = tgsim_bad(c, "can't parse inline keyboard markup JSON object");
    } else if (cJSON_GetObjectItemCaseSensitive(m, "keyboard")) {
        rc = tgsim_check_reply_kb(c, m);
    } else if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(m, "remove_keyboard")) ||
               cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(m, "force_reply"))) {
        rc = 0;
    } else {
        rc = tgsim_bad(c, "can't parse reply keyboard markup JSON object");
    }
    if (rc) { cJSON_Delete(m); return -1; }
    *out = m;
    return 0;
}

int tgsim_call_rate(tgsim_call_t *c, int64_t chat_id)
{
    int ra = tgsim_rate_take(c->w, chat_id);
    if (!ra) return 0;
    char d[96];
    snprintf(d, sizeof d, "Too Many Requests: retry after %d", ra);
    tgsim_api_error(c->r, 429, d, ra);
    return -1;
}

void tgsim_apply_markup(tgsim_chat_t *chat, tgsim_msg_t *m, cJSON *markup)
{
    if (!markup) return;
    cJSON_Delete(m->markup);
    m->markup = markup;
    if (cJSON_GetObjectItemCaseSensitive(markup, "inline_keyboard")) {
        cJSON *rm = cJSON_CreateObject();
        cJSON_AddItemToObject(rm, "inline_keyboard",
                              cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(markup, "inline_keyboard"), 1));
        cJSON_DeleteItemFromObjectCaseSensitive(m->json, "reply_markup");
        cJSON_AddItemToObject(m->json, "reply_markup", rm);
    } else if (cJSON_GetObjectItemCaseSensitive(markup, "keyboard")) {
        cJSON_Delete(chat->reply_keyboard);
        chat->reply_keyboard = cJSON_Duplicate(markup, 1);
    } else if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(markup, "remove_keyboard"))) {
        cJSON_Delete(chat->reply_keyboard);
        chat->reply_keyboard = NULL;
    }
}

int tgsim_call_reply(tgsim_call_t *c, tgsim_chat_t *chat, tgsim_msg_t *m)
{
    int64_t rid = 0;
    int allow_missing = tgsim_parse_bool(tgsim_params_str(c->p, "allow_sending_without_reply")) == 1;
    const char *s = tgsim_params_str(c->p, "reply_to_message_id");
    if (s && *s && tgsim_parse_int64(s, &rid) != 0) rid = -1;
    const char *rp = tgsim_params_str(c->p, "reply_parameters");
    if (rp && *rp) {
        cJSON *o = tgsim_json_parse(rp, strlen(rp));
        cJSON *mid = cJSON_GetObjectItemCaseSensitive(o, "message_id");
        if (!cJSON_IsNumber(mid)) { cJSON_Delete(o); return tgsim_bad(c, "can't parse reply parameters JSON object"); }
        rid = (int64_t)mid->valuedouble;
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "allow_sending_without_reply"))) allow_missing = 1;
        cJSON_Delete(o);
    }
    if (!rid) return 0;
    tgsim_msg_t *target = tgsim_msg_find(chat, rid);
    if (!target) return allow_missing ? 0 : tgsim_bad(c, "message to be replied not found");
    if (m) {
        cJSON *copy = cJSON_Duplicate(target->json, 1);
        cJSON_DeleteItemFromObjectCaseSensitive(copy, "reply_to_message");
        cJSON_AddItemToObject(m->json, "reply_to_message", copy);
    }
    return 0;
}

void tgsim_ok_msg(tgsim_call_t *c, tgsim_msg_t *m)
{
    tgsim_api_ok(c->r, cJSON_Duplicate(m->json, 1), NULL);
}
