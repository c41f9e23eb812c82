/* bitrix24.h — the emulated Bitrix24 REST API behind an incoming webhook
 * (api-facts C.6).
 *
 * Purpose: /rest/<user_id>/<code>/<method>[.json] with the CRM methods
 * plus.7's connector uses: crm.contact.list (exact PHONE filter, select,
 * 50-row pages), crm.contact.add/get/update, crm.duplicate.findbycomm,
 * crm.deal.add/get/list. Parameters come as JSON or as PHP-style form
 * fields; the leaky bucket (2 req/s, burst 50 by default) answers 503
 * QUERY_LIMIT_EXCEEDED.
 *
 * Exports: bitrix24_service, bitrix24_control, bitrix24_reset,
 * bitrix24_free.
 *
 * Threads: handlers on civetweb workers; they take es_lock themselves.
 */
#ifndef EXTSIM_BITRIX24_H
#define EXTSIM_BITRIX24_H

#include "es_server.h"

extern const es_service_t bitrix24_service;

/* Handle /control/bitrix/<sub>. */
void bitrix24_control(es_req_t *req, const char *sub);

/* Forget contacts, deals and the limiter (es_lock held). */
void bitrix24_reset(void);
void bitrix24_free(void);

#endif
