/* tg_markup.h — building Bot API call parameters: HTML escaping, reply and
 * inline keyboards, sendMessage / answerCallbackQuery bodies.
 *
 * Exports: tg_html_escape, tg_kb_*, tg_params_send_message,
 * tg_params_answer_callback, TG_CALLBACK_DATA_MAX.
 * Threads: any (builds new cJSON trees; no shared state).
 */
#ifndef PLUS7_TG_MARKUP_H
#define PLUS7_TG_MARKUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#define TG_CALLBACK_DATA_MAX 64   /* bytes, Bot API limit */

/* Escape &, <, > and " for Telegram HTML into a new malloc'd string
 * (NULL in -> "" out; NULL on ENOMEM). */
char *tg_html_escape(const char *s);

/* Reply keyboard: rows of buttons. Build with tg_kb_reply_new, add rows
 * with tg_kb_reply_row, buttons with tg_kb_reply_button. */
cJSON *tg_kb_reply_new(const char *placeholder);
cJSON *tg_kb_reply_row(cJSON *kb);
/* kind: 0 plain, 1 request_contact, 2 request_location */
void tg_kb_reply_button(cJSON *row, const char *text, int kind);
cJSON *tg_kb_remove(void);

/* Inline keyboard. tg_kb_inline_button refuses (returns RT_EINVAL and adds
 * nothing) when data is empty or longer than TG_CALLBACK_DATA_MAX bytes. */
cJSON *tg_kb_inline_new(void);
cJSON *tg_kb_inline_row(cJSON *kb);
int tg_kb_inline_button(cJSON *row, const char *text, const char *data);

/* {"chat_id":..,"text":..,"parse_mode":"HTML","reply_markup":..}; takes
 * ownership of markup (may be NULL). Returns a malloc'd JSON string. */
char *tg_params_send_message(int64_t chat_id, const char *html, cJSON *markup);

/* {"callback_query_id":..,"text":..} (text may be NULL/empty). */
char *tg_params_answer_callback(const char *callback_id, const char *text);

#endif
