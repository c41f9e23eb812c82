/* web_pay_yookassa.h — POST /payments/yookassa (YooKassa notifications).
 * Exports: web_pay_yookassa_register, WEB_PAY_SQL_STORE.
 * Threads: main thread.
 */
#ifndef PLUS7_WEB_PAY_YOOKASSA_H
#define PLUS7_WEB_PAY_YOOKASSA_H

#include "rt.h"

/* Store one notification ($1 payment id, $2 event, $3 peer address, $4 the
 * raw body) and return the attempt that owns the payment (NULL: unknown,
 * then the row is stored already processed with result 'unknown'). Also
 * used by bench/payments.sh's ceiling, which does the same INSERT. */
#define WEB_PAY_SQL_STORE                                                                            \
    "WITH a AS (SELECT id FROM pay_attempts WHERE provider_id = $1)"                                  \
    " INSERT INTO pay_notifications (provider_id, event, remote, body, processed_at, result)"          \
    " VALUES ($1, $2, $3, $4, CASE WHEN EXISTS (SELECT 1 FROM a) THEN NULL ELSE now() END,"           \
    "         CASE WHEN EXISTS (SELECT 1 FROM a) THEN NULL ELSE 'unknown' END)"                      \
    " RETURNING (SELECT id FROM a)"

/* Register the route. `allow` is PLUS7_YOOKASSA_NOTIFY_FROM (comma-separated
 * CIDRs; validated by the configuration already). RT_OK, RT_EINVAL, or
 * web_route_add's error. Main thread, before web_server_start. */
int web_pay_yookassa_register(rt_runtime_t *rt, const char *allow);

#endif
