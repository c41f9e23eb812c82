/* conv_pay.h — paying for a delivery in the chat (see docs/payments.md).
 *
 * Purpose: «💳 Оплатить» (callback p:o:<posting>) under the delivery's
 * confirmation and in «📋 Мои заказы» offers the configured ways:
 * «В Telegram» (p:t:…: an attempt row and sendInvoice, in the update's
 * transaction), «QR / СБП» (p:q:…: an attempt row; after the commit the
 * payment actor creates the YooKassa payment and sends the QR) and
 * «Банковский QR» (p:b:…: the GOST R 56042-2014 QR, an attempt an operator
 * confirms). It also answers pre_checkout_query (ok only for a known,
 * live Telegram attempt of this person whose order is still unpaid and
 * payable at the same price) and applies successful_payment through the
 * SQL function pay_succeed (sql/030_payments.sql), which makes the order
 * paid once and queues «Оплата получена» once.
 *
 * Exports: CONV_NEED_PAY_*, conv_pay_cfg_t, conv_pay_configure,
 * conv_pay_on_update, conv_pay_command, conv_pay_offer, conv_pay_order_line,
 * conv_pay_button, conv_pay_paid_text, conv_feature_pay.
 * Threads: any (pure); conv_pay_configure on the main thread before the
 * runtime starts (the settings are then read without synchronisation).
 */
#ifndef PLUS7_CONV_PAY_H
#define PLUS7_CONV_PAY_H

#include <stdbool.h>
#include <stdint.h>

#include "conv_dialog.h"
#include "pay_qr.h"

/* Lookups (conv_lookups.c):
 *   PAY_ORDER   key posting → status, customer_phone, addressee_phone,
 *               recipient_phone, ordered_by, paid_kop, paid_attempt, price (the ordered
 *               delivery's, NULL when none), left_kop (refundable: paid
 *               minus refunded and open refunds; NULL unpaid), open_bank
 *               ('t' when a bank-QR attempt waits for an operator)
 *   PAY_ATTEMPT key attempt id → posting_number, method, status,
 *               amount_kop, tg_user_id, expired ('t'/'f'), order_status,
 *               paid_attempt, price */
enum { CONV_NEED_PAY_ORDER = 90, CONV_NEED_PAY_ATTEMPT = 91 };

typedef struct conv_pay_cfg {
    const char *provider_token;  /* PLUS7_PAY_PROVIDER_TOKEN: invoices; NULL = off */
    bool qr;                     /* YooKassa configured: QR / СБП */
    bool bank;                   /* PLUS7_PAY_BANK_* set: bank QR */
    pay_gost_t gost;             /* the bank details (strings outlive the runtime) */
    /* After the commit: wake the payment actor of attempt `id`. */
    void (*poke)(void *rt, const char *id);
} conv_pay_cfg_t;

/* Copy the settings (strings are borrowed). Main thread, before start. */
void conv_pay_configure(const conv_pay_cfg_t *cfg);
/* Is any way of paying configured? */
bool conv_pay_enabled(void);

/* Operators' and admins' commands: `/refund POSTING [AMOUNT]` (rubles, all
 * that is left when omitted) and `/paid POSTING [bank_qr|cash|card]`.
 * RT_ENOTFOUND when the update is not one of them (or the sender is not
 * staff), else RT_OK / RT_PENDING like conv_step. */
int conv_pay_command(const conv_ctx_t *ctx, const tg_update_t *u, conv_out_t *out);

/* pre_checkout_query and message.successful_payment (conv_step's hook). */
int conv_pay_on_update(const conv_ctx_t *ctx, const tg_update_t *u, conv_out_t *out);

/* After a delivery was booked: offer to pay `price_kop` now (nothing when
 * no way is configured or the price is 0). */
void conv_pay_offer(conv_out_t *out, int64_t chat, const char *posting, long long price_kop);

/* The payment line of an order card/list (rows of PAY_ORDER's columns
 * paid_kop, paid_attempt, price found in `r` at `row`): «Оплачено» or «К
 * оплате: N ₽» into out; "" when the order has no priced delivery. */
void conv_pay_order_line(const conv_rows_t *r, int row, bool card, char *out, size_t outsz);
/* Is the order at `row` payable now (priced delivery, unpaid, not final)? */
bool conv_pay_payable(const conv_rows_t *r, int row);
/* Add a «💳 Оплатить» row for posting to an inline keyboard. */
void conv_pay_button(cJSON *kb, const char *posting);

/* «Оплата получена» for amount/posting (receipt may be NULL/""), into out. */
void conv_pay_paid_text(int64_t amount_kop, const char *posting, const char *receipt, char *out, size_t outsz);
/* The operators' alert of a double payment. */
void conv_pay_double_text(int64_t amount_kop, const char *posting, const char *attempt, char *out, size_t outsz);

extern const conv_feature_t conv_feature_pay;

#endif
