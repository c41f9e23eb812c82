/* tg_update.h — parse one Telegram Update (JSON) into a flat struct.
 *
 * Purpose: the single parser of outside Telegram input (webhook bodies and
 * getUpdates results); fuzzed by tests/fuzz/fuzz_tg_update.c. Shapes follow
 * the Bot API (message, edited_message, callback_query, pre_checkout_query;
 * contact, location/live location, photo, document, successful_payment).
 *
 * Exports: tg_update_t, tg_update_parse, tg_update_free.
 * Threads: any (no shared state).
 */
#ifndef PLUS7_TG_UPDATE_H
#define PLUS7_TG_UPDATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum tg_update_kind {
    TG_UPD_OTHER = 0,          /* a type we ignore (but still store) */
    TG_UPD_MESSAGE,
    TG_UPD_EDITED_MESSAGE,     /* live-location moves arrive this way */
    TG_UPD_CALLBACK,
    TG_UPD_PRE_CHECKOUT,
} tg_update_kind_t;

typedef struct tg_update {
    int64_t update_id;
    tg_update_kind_t kind;
    int64_t chat_id;           /* 0 when the update has no chat */
    bool chat_private;
    int64_t from_id;
    char *from_first_name;     /* may be NULL */
    char *from_username;
    int64_t message_id;
    int64_t date, edit_date;
    char *text;                /* text or caption */
    char *command;             /* "/start" (bot name stripped) when text starts with a command */
    char *command_arg;         /* "12345678-0001-1" or NULL */
    bool has_contact;
    char *contact_phone;
    int64_t contact_user_id;   /* 0 when absent */
    char *contact_first_name;
    bool has_location;
    double latitude, longitude;
    int live_period;           /* 0 for a static pin */
    double horizontal_accuracy;
    int heading;
    char *photo_file_id;       /* the largest size */
    char *document_file_id;
    char *callback_id;
    char *callback_data;
    char *pre_checkout_id;
    char *currency;
    int64_t total_amount;      /* smallest units (kopecks) */
    char *invoice_payload;
    bool has_payment;          /* message.successful_payment */
    char *telegram_charge_id;
    char *provider_charge_id;
} tg_update_t;

/* Parse `len` bytes of JSON. On RT_OK `out` owns its strings (free with
 * tg_update_free). RT_EINVAL when the text is not a JSON object with an
 * integer update_id; then `out` holds nothing to free. */
int tg_update_parse(const char *json, size_t len, tg_update_t *out);

void tg_update_free(tg_update_t *u);

#endif
