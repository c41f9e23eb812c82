/* web_logistics.h — POST /api/logistics/events (docs/openapi.yaml).
 * Exports: web_logistics_register. Threads: main thread.
 */
#ifndef PLUS7_WEB_LOGISTICS_H
#define PLUS7_WEB_LOGISTICS_H

#include "rt.h"

/* Register the route with the HMAC key `secret` (PLUS7_LOGISTICS_SECRET,
 * copied). Main thread, before web_server_start. */
int web_logistics_register(rt_runtime_t *rt, const char *secret);

#endif
