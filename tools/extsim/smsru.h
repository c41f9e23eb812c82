/* smsru.h — the emulated SMS.ru HTTP API (api-facts C.4).
 *
 * Purpose: /sms/send accepts api_id, to (comma-separated) and msg, or
 * multi[<phone>]=<text>, plus from, test and json=1, as a POST form; it
 * answers SMS.ru's JSON (or the plain-text lines without json=1) with the
 * documented status codes, and keeps every accepted message for the
 * control API. /sms/status reports a message's delivery status.
 *
 * Exports: smsru_service, smsru_control, smsru_reset, smsru_free.
 *
 * Threads: handlers on civetweb workers; they take es_lock themselves.
 */
#ifndef EXTSIM_SMSRU_H
#define EXTSIM_SMSRU_H

#include "es_server.h"

extern const es_service_t smsru_service;

/* Handle /control/sms/<sub>. */
void smsru_control(es_req_t *req, const char *sub);

/* Forget messages and settings (es_lock held). */
void smsru_reset(void);
void smsru_free(void);

#endif
