/* tgsim_api_int.h — shared pieces of the Bot API method handlers.
 *
 * Purpose: the method handlers are split by topic (tgsim_api.c: dispatch,
 * getMe, updates, webhooks, commands, files; tgsim_api_send.c: messages,
 * edits, callbacks, payments; tgsim_markup.c: reply_markup and text
 * validation; tgsim_media.c: photo/document input). They share a call
 * context and the checks every sending method performs in the same order as
 * the real server: parameters first, then the chat, then flood control.
 *
 * Exports: tgsim_call_t, tgsim_method_fn, the tgsim_m_* handlers and the
 * helpers below. Threads: a civetweb or webhook thread; w->mu is held for
 * the whole handler unless a function says otherwise.
 */
#ifndef TGSIM_API_INT_H
#define TGSIM_API_INT_H

#include "tgsim.h"

typedef struct tgsim_call {
    tgsim_world_t *w;
    const char *token;
    const char *method;         /* lower-case */
    tgsim_params_t *p;
    tgsim_resp_t *r;
} tgsim_call_t;

typedef void (*tgsim_method_fn)(tgsim_call_t *c);

/* Write a 400 "Bad Request: <desc>" (or other code/prefix) and return -1. */
int tgsim_bad(tgsim_call_t *c, const char *desc);
int tgsim_fail(tgsim_call_t *c, int code, const char *desc);

/* Resolve chat_id (param `name`) to a chat the bot may write to: missing ->
 * 400 "chat_id is empty", unknown -> 400 "chat not found", blocked -> 403,
 * never started -> 403. Returns the chat or NULL (error written). */
tgsim_chat_t *tgsim_call_chat(tgsim_call_t *c, const char *name, int for_edit);

/* Read text param `name` with parse_mode/entities params and validate it.
 * caption != 0: 0..1024 allowed; else 1..4096. On success 0 and *text,
 * *entities (may be an empty array) owned by the caller; -1 on error (written). */
int tgsim_call_text(tgsim_call_t *c, const char *name, const char *mode_name,
                    const char *entities_name, int caption, char **text, cJSON **entities);

/* Validate the reply_markup param. *out gets the normalised markup (NULL if
 * absent). inline_only: only InlineKeyboardMarkup is accepted. Returns 0 or
 * -1 (error written). */
int tgsim_call_markup(tgsim_call_t *c, int inline_only, cJSON **out);

/* Flood control for one outgoing message to chat; 0 ok, -1 (429 written). */
int tgsim_call_rate(tgsim_call_t *c, int64_t chat_id);

/* Apply a sent markup to the message and the chat: inline keyboards go into
 * message.reply_markup, reply keyboards replace chat->reply_keyboard,
 * remove_keyboard clears it. `markup` is taken. */
void tgsim_apply_markup(tgsim_chat_t *chat, tgsim_msg_t *m, cJSON *markup);

/* reply_to_message_id / reply_parameters: 0 ok (reply set on m->json), -1
 * error written. Must run before the message is created (pass m = NULL to
 * only check) and again with m to attach. */
int tgsim_call_reply(tgsim_call_t *c, tgsim_chat_t *chat, tgsim_msg_t *m);

/* Successful result: the message JSON (duplicated). */
void tgsim_ok_msg(tgsim_call_t *c, tgsim_msg_t *m);

/* Photo/document input (tgsim_media.c). Resolve param `name` (upload,
 * attach://x, file_id) into a stored file of `kind`. Returns it or NULL
 * (error written). */
tgsim_file_t *tgsim_call_file(tgsim_call_t *c, const char *name, int kind);
/* PhotoSize array / Document object for a stored file. */
cJSON *tgsim_photo_json(const tgsim_file_t *f);
cJSON *tgsim_document_json(const tgsim_file_t *f);
/* Record a file on the message for the control API (sha256, size). */
void tgsim_msg_note_file(tgsim_msg_t *m, const tgsim_file_t *f);
/* Download http(s) URL params of sendPhoto/sendDocument into file params
 * before the lock is taken. Returns 0 or an HTTP error written to r. Lock
 * NOT held. */
int tgsim_media_prefetch(const char *method, tgsim_params_t *p, tgsim_resp_t *r);
/* Width and height of a PNG/JPEG/GIF/WebP image; 0 if not an image. */
int tgsim_image_size(const unsigned char *d, size_t n, int *width, int *height);

/* OrderInfo for a payer, from the invoice's need_* flags; NULL if none. */
cJSON *tgsim_order_info(const tgsim_user_t *u, const cJSON *meta);

/* Handlers. */
void tgsim_m_sendmessage(tgsim_call_t *c);
void tgsim_m_sendphoto(tgsim_call_t *c);
void tgsim_m_senddocument(tgsim_call_t *c);
void tgsim_m_sendlocation(tgsim_call_t *c);
void tgsim_m_sendinvoice(tgsim_call_t *c);
void tgsim_m_sendchataction(tgsim_call_t *c);
void tgsim_m_editmessagetext(tgsim_call_t *c);
void tgsim_m_editmessagecaption(tgsim_call_t *c);
void tgsim_m_editmessagereplymarkup(tgsim_call_t *c);
void tgsim_m_deletemessage(tgsim_call_t *c);
void tgsim_m_answercallbackquery(tgsim_call_t *c);
void tgsim_m_answerprecheckoutquery(tgsim_call_t *c);

#endif
