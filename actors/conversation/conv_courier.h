/* conv_courier.h — the courier module inside the chat (pure dialog logic).
 *
 * Purpose: what couriers, clients and operators do about courier
 * deliveries in Telegram:
 *   conv_courier.c        the courier: shifts, live location, today's route,
 *                         the delivery card's buttons, PIN or photo proof,
 *                         a failed attempt with its reason;
 *   conv_courier_client.c the client: a new slot after a failed attempt or
 *                         «Будете дома?» → «Перенести» (one tap each);
 *   conv_courier_ops.c    operators: /assign POSTING and unlocking a
 *                         delivery locked by wrong PINs.
 * State lives in PostgreSQL (sql/040_couriers.sql): every change is a
 * statement of the update's transaction guarded by the card generation and
 * stage it was decided on, so an old card's button or a double press
 * changes nothing.
 *
 * Exports: the lookup kinds CONV_NEED_COURIER*, conv_courier_location,
 * conv_courier_assign_command, conv_courier_keyboard, and the helpers the
 * three files share (cc_*).
 * Threads: any (pure).
 */
#ifndef PLUS7_CONV_COURIER_H
#define PLUS7_CONV_COURIER_H

#include <stdbool.h>
#include <stdint.h>

#include "conv_dialog.h"

/* Lookup kinds (conv_lookups.c holds their SQL). */
enum {
    CONV_NEED_COURIER = 80,         /* key "" → the sender's couriers row */
    CONV_NEED_COURIER_TODAY = 81,   /* key "" → the sender's deliveries today */
    CONV_NEED_DELIVERY = 82,        /* key delivery id → the delivery, its courier and client */
    CONV_NEED_DELIVERY_SLOTS = 83,  /* key delivery id → free windows of its zone, next 3 days */
    CONV_NEED_POSTING_DELIVERY = 84,/* key posting → its ordered delivery */
    CONV_NEED_SHIFT_COURIERS = 85,  /* key "" → couriers on shift with their load */
};

/* A location (message or live-location edit) from a person whose role is
 * courier. RT_OK / RT_PENDING like conv_step; RT_ENOTFOUND when the courier
 * is not on shift and the update is a message: the client flow takes it. */
int conv_courier_location(const conv_ctx_t *ctx, const tg_update_t *u, conv_out_t *out);

/* /assign [POSTING] from an operator or admin (others: not understood). */
int conv_courier_assign_command(const conv_ctx_t *ctx, const tg_update_t *u, conv_out_t *out);

/* The courier's main-menu keyboard. */
cJSON *conv_courier_keyboard(void);

/* ---- shared by the conv_courier*.c files ------------------------------------ */

/* The delivery of lookup CONV_NEED_DELIVERY, decoded. */
typedef struct cc_delivery {
    int64_t id;
    char posting[32];
    char stage[16];
    bool ordered;              /* status 'ordered' (not cancelled) */
    int card_gen;
    char pin[8];
    int pin_tries;
    bool locked;
    int64_t courier_tg;        /* 0 when unassigned */
    char courier_name[64];
    int64_t client_chat;       /* 0 when the client has no chat */
    bool has_point, courier_has_point;
    double lat, lon, c_lat, c_lon;
    char t_start[8], t_end[8], day[8];
    int64_t now_ms;
    int64_t price_kop;         /* the delivery's price */
    bool paid;                 /* paid already (in Telegram, by QR, or marked) */
} cc_delivery_t;

/* Ask for / decode the delivery `id`. RT_OK (found), RT_ENOTFOUND, RT_PENDING
 * (lookup asked), RT_EIO (lookup failed). */
int cc_delivery_get(const conv_ctx_t *ctx, conv_out_t *out, int64_t id, cc_delivery_t *d);

/* Parse "<id>:<gen>[:<rest>]" (rest may be NULL). true when well-formed. */
bool cc_parse_ref(const char *s, int64_t *id, int *gen, const char **rest);

/* Queue a sendMessage to another chat as its own outbox row (dedupe key
 * built from `key`), in the update's transaction. */
void cc_send_to(conv_out_t *out, int64_t chat, const char *html, cJSON *markup, const char *key);

/* Queue a poke, after the commit, of the order actor of `posting`. */
void cc_poke_order(conv_out_t *out, const char *posting);
/* Queue a poke, after the commit, of the courier actor of `tg_user_id`. */
void cc_poke_courier(conv_out_t *out, int64_t tg_user_id);

/* Queue a courier's step for the order actor: a logistics_inbox event of
 * source 'courier' with a stable id (so a replay adds nothing). */
void cc_order_event(conv_out_t *out, const char *posting, const char *status, const char *event_id,
                    const char *comment);

/* An inline keyboard of the free windows in lookup CONV_NEED_DELIVERY_SLOTS
 * (callbacks "cl:rs:<id>:<slot>:<YYYYMMDD>"), or NULL when none is free. */
cJSON *cc_slot_keyboard(const conv_rows_t *slots, int64_t delivery_id);

/* Drop a character cut short at the end of `s` (after a byte-count cut). */
void cc_utf8_trim(char *s);

/* "12:30" Moscow time of unix_ms. */
void cc_hhmm(int64_t unix_ms, char *out, size_t outsz);

#endif
