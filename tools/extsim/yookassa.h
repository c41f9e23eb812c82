/* yookassa.h — the emulated YooKassa API v3 (see yookassa.c).
 * Exports: yookassa_service, yookassa_control, yookassa_config, yookassa_pay_page,
 * yookassa_reset, yookassa_free.
 * Threads: civetweb workers; yookassa_reset/free/config with es_lock held.
 */
#ifndef EXTSIM_YOOKASSA_H
#define EXTSIM_YOOKASSA_H

#include "es_server.h"

extern const es_service_t yookassa_service;

/* /control/yookassa/<sub> */
void yookassa_control(es_req_t *req, const char *sub);
/* Start-up settings from the command line (NULL = keep the default). */
void yookassa_config(const char *shop_id, const char *secret, const char *notify_url);
/* Make confirmation links point at extsim's own pay page under `base`
 * ("http://127.0.0.1:8082"), where a person presses «Оплатить» (the demo). */
void yookassa_pay_page(const char *base);
void yookassa_reset(void);
void yookassa_free(void);

#endif
