/* logistics_webhook.h — POST /api/logistics/events (see DESIGN.md).
 * Exports: logistics_webhook_register. Threads: main thread.
 */
#ifndef PLUS7_LOGISTICS_WEBHOOK_H
#define PLUS7_LOGISTICS_WEBHOOK_H

#include "rt.h"

/* Register the route with the HMAC key `secret` (PLUS7_LOGISTICS_SECRET,
 * copied). Main thread, before web_server_start. */
int logistics_webhook_register(rt_runtime_t *rt, const char *secret);

#endif
