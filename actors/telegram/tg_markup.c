/* tg_markup.c — Bot API parameter builders (see tg_markup.h).
 * Exports: see tg_markup.h. Threads: any.
 */
#include "tg_markup.h"

#include <stdlib.h>
#include <string.h>

#include "rt.h"

char *tg_html_escape(const char *s)
{
    if (!s) s = "";
    size_t n = 0;
    for (const char *p = s; *p; p++) {
        switch (*p) {
        case '&': n += 5; break;
        case '<': case '>': n += 4; break;
        case '"': n += 6; break;
        default: n++;
        }
    }
    char *o = malloc(n + 1), *q = o;
    if (!o) return NULL;
    for (const char *p = s; *p; p++) {
        const char *rep = NULL;
        switch (*p) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        }
        if (rep) { size_t k = strlen(rep); memcpy(q, rep, k); q += k; }
        else *q++ = *p;
    }
    *q = '\0';
    return o;
}

cJSON *tg_kb_reply_new(const char *placeholder)
{
    cJSON *kb = cJSON_CreateObject();
    cJSON_AddItemToObject(kb, "keyboard", cJSON_CreateArray());
    cJSON_AddBoolToObject(kb, "resize_keyboard", 1);
    if (placeholder && *placeholder) cJSON_AddStringToObject(kb, "input_field_placeholder", placeholder);
    return kb;
}

cJSON *tg_kb_reply_row(cJSON *kb)
{
    cJSON *row = cJSON_CreateArray();
    cJSON_AddItemToArray(cJSON_GetObjectItem(kb, "keyboard"), row);
    return row;
}

void tg_kb_reply_button(cJSON *row, const char *text, int kind)
{
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "text", text);
    if (kind == 1) cJSON_AddBoolToObject(b, "request_contact", 1);
    if (kind == 2) cJSON_AddBoolToObject(b, "request_location", 1);
    cJSON_AddItemToArray(row, b);
}

cJSON *tg_kb_remove(void)
{
    cJSON *kb = cJSON_CreateObject();
    cJSON_AddBoolToObject(kb, "remove_keyboard", 1);
    return kb;
}

cJSON *tg_kb_inline_new(void)
{
    cJSON *kb = cJSON_CreateObject();
    cJSON_AddItemToObject(kb, "inline_keyboard", cJSON_CreateArray());
    return kb;
}

cJSON *tg_kb_inline_row(cJSON *kb)
{
    cJSON *row = cJSON_CreateArray();
    cJSON_AddItemToArray(cJSON_GetObjectItem(kb, "inline_keyboard"), row);
    return row;
}

int tg_kb_inline_button(cJSON *row, const char *text, const char *data)
{
    size_t n = data ? strlen(data) : 0;
    if (n == 0 || n > TG_CALLBACK_DATA_MAX) return RT_EINVAL;
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "text", text);
    cJSON_AddStringToObject(b, "callback_data", data);
    cJSON_AddItemToArray(row, b);
    return RT_OK;
}

char *tg_params_send_message(int64_t chat_id, const char *html, cJSON *markup)
{
    cJSON *p = cJSON_CreateObject();
    cJSON_AddNumberToObject(p, "chat_id", (double)chat_id);
    cJSON_AddStringToObject(p, "text", html);
    cJSON_AddStringToObject(p, "parse_mode", "HTML");
    if (markup) cJSON_AddItemToObject(p, "reply_markup", markup);
    char *s = cJSON_PrintUnformatted(p);
    cJSON_Delete(p);
    return s;
}

char *tg_params_answer_callback(const char *callback_id, const char *text)
{
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "callback_query_id", callback_id);
    if (text && *text) cJSON_AddStringToObject(p, "text", text);
    char *s = cJSON_PrintUnformatted(p);
    cJSON_Delete(p);
    return s;
}
