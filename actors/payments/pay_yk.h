/* pay_yk.h — YooKassa API v3 shapes: amounts, request bodies, and the
 * parsers of its answers and notifications (the outside input of the
 * payments module; fuzzed by tests/fuzz/fuzz_pay_yk.c).
 *
 * Purpose: YooKassa speaks decimal strings in rubles ("350.00"); plus7
 * keeps integer kopecks. yk_amount_parse accepts only what the API sends
 * (digits, an optional '.' and at most two decimals) and never rounds.
 * The parsers copy what plus7 uses into fixed-size fields (no allocation
 * escapes) and refuse anything that is not the documented shape, naming
 * the field.
 *
 * Exports: yk_payment_t, yk_refund_t, yk_notification_t, yk_amount_parse,
 * yk_amount_format, yk_payment_parse, yk_refund_parse,
 * yk_notification_parse, yk_payment_body, yk_refund_body.
 * Threads: any (pure).
 */
#ifndef PLUS7_PAY_YK_H
#define PLUS7_PAY_YK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define YK_ID_MAX 64
#define YK_URL_MAX 512

typedef enum yk_status {
    YK_UNKNOWN = 0,
    YK_PENDING,
    YK_WAITING_FOR_CAPTURE,
    YK_SUCCEEDED,
    YK_CANCELED,
} yk_status_t;

typedef struct yk_payment {
    char id[YK_ID_MAX];
    yk_status_t status;
    int64_t amount_kop;
    bool paid;
    char confirmation_url[YK_URL_MAX];   /* confirmation_data (qr) or confirmation_url */
    char receipt_url[YK_URL_MAX];        /* "" when the provider gives none */
    char attempt[YK_ID_MAX];             /* metadata.attempt, "" when absent */
} yk_payment_t;

typedef struct yk_refund {
    char id[YK_ID_MAX];
    yk_status_t status;                  /* pending, succeeded or canceled */
    int64_t amount_kop;
} yk_refund_t;

typedef struct yk_notification {
    char event[48];                      /* "payment.succeeded", ... */
    char object_id[YK_ID_MAX];
} yk_notification_t;

/* "350.00" / "350.5" / "350" -> 35000 / 35050 / 35000 kopecks. RT_OK, or
 * RT_EINVAL for anything else (signs, spaces, three decimals, overflow). */
int yk_amount_parse(const char *s, int64_t *kop);
/* 35000 -> "350.00" (out: at least 24 bytes). */
void yk_amount_format(int64_t kop, char *out, size_t outsz);

/* A payment object (POST/GET /payments answers). RT_OK, or RT_EINVAL with
 * *field naming what is missing or malformed. */
int yk_payment_parse(const char *json, size_t len, yk_payment_t *out, const char **field);
/* A refund object (POST /refunds answer). */
int yk_refund_parse(const char *json, size_t len, yk_refund_t *out, const char **field);
/* A notification body {"type":"notification","event":…,"object":{"id":…}}.
 * Only the event and the object's id are read: the body is never trusted
 * beyond naming the payment to re-read. */
int yk_notification_parse(const char *json, size_t len, yk_notification_t *out, const char **field);

/* The body of POST /payments: amount, capture, confirmation {type qr},
 * SBP as the method when `sbp`, description, metadata.attempt, and the
 * 54-FZ receipt (the customer's phone digits, one item: the delivery, VAT
 * code 1, payment_subject service, payment_mode full_payment). malloc'd
 * JSON, NULL on ENOMEM. */
char *yk_payment_body(const char *attempt, int64_t amount_kop, const char *description,
                      const char *phone, bool sbp);
/* The body of POST /refunds. malloc'd, NULL on ENOMEM. */
char *yk_refund_body(const char *payment_id, int64_t amount_kop);
/* The 54-FZ receipt for a Telegram invoice's provider_data
 * ({"receipt":{"items":[…]}}; Telegram adds the phone). malloc'd. */
char *yk_invoice_provider_data(const char *description, int64_t amount_kop);

const char *yk_status_name(yk_status_t s);

#endif
