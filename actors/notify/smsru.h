/* smsru.h — the SMS.ru protocol: request body, reply, status codes.
 *
 * Purpose: pure pieces of the SMS.ru connector (the I/O is the notifier's,
 * through rt_http): the form body of POST {api}/sms/send (api_id, to = the
 * digits of the E.164 number without '+', msg, json=1, optional from), the
 * reading of its JSON reply (request-level status/status_code, then
 * sms.<number>.status/status_code/sms_id/status_text), and what to do with
 * the outcome: 100-103 sent; 220 (service unavailable), HTTP 5xx/408/429,
 * network errors and unreadable replies retried with backoff up to
 * SMSRU_MAX_ATTEMPTS; every other code (200 bad api_id, 201 no funds, 202
 * bad recipient, 203 no text, 204 sender not approved, 205 too long, 206
 * daily limit, 207 number not allowed, 209 stop-list, ...) failed for good.
 * Also the number of SMS parts a text takes (GSM-7: 160, then 153 per
 * part; otherwise UCS-2: 70, then 67), used to keep templates at two parts.
 *
 * Exports: smsru_outcome_t, smsru_result_t, smsru_form, smsru_parse,
 * smsru_code_transient, smsru_code_text, smsru_parts, smsru_backoff_ms,
 * SMSRU_MAX_ATTEMPTS.
 * Threads: any (pure).
 */
#ifndef PLUS7_SMSRU_H
#define PLUS7_SMSRU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SMSRU_MAX_ATTEMPTS 8

typedef enum smsru_outcome {
    SMSRU_SENT = 0,     /* accepted by SMS.ru (codes 100-103) */
    SMSRU_RETRY,        /* transient: try again later */
    SMSRU_FAILED,       /* permanent: do not try again */
} smsru_outcome_t;

typedef struct smsru_result {
    smsru_outcome_t outcome;
    int code;           /* SMS.ru status_code; -HTTP status for HTTP errors; 0 none */
    char sms_id[64];    /* when sent */
    char text[200];     /* what happened, for last_error (no phone numbers) */
} smsru_result_t;

/* The application/x-www-form-urlencoded body of /sms/send for one number
 * (E.164, "+7..."); `sender` may be NULL or "" (no from=). Malloc'd; NULL
 * on ENOMEM or when phone has no digits. */
char *smsru_form(const char *api_id, const char *phone_e164, const char *msg, const char *sender);

/* Read the outcome of one /sms/send. `got_response` false means no HTTP
 * answer at all (transport_error says why). `phone_e164` picks the
 * number's entry under "sms". Fills *out. */
void smsru_parse(bool got_response, const char *transport_error, long http_status, const char *body, size_t len,
                 const char *phone_e164, smsru_result_t *out);

/* Whether an SMS.ru status code is worth retrying (220). */
bool smsru_code_transient(int code);

/* A short English description of an SMS.ru code ("insufficient funds"), or
 * "" when unknown. */
const char *smsru_code_text(int code);

/* SMS parts a UTF-8 text takes (0 for ""). */
int smsru_parts(const char *utf8);

/* Wait before attempt `attempts` + 1, after `attempts` (>= 1) failed ones:
 * 1 s doubling, at most 5 minutes. */
uint32_t smsru_backoff_ms(int attempts);

#endif
