/* web_tg_webhook.h — POST /telegram/webhook: Telegram's webhook intake.
 * Exports: web_tg_webhook_register. Threads: main thread (registration).
 */
#ifndef PLUS7_WEB_TG_WEBHOOK_H
#define PLUS7_WEB_TG_WEBHOOK_H

#include "rt.h"

/* Register the route. `secret` is the PLUS7_TG_SECRET every request must
 * carry in X-Telegram-Bot-Api-Secret-Token (copied). Main thread, before
 * web_server_start. RT_OK, RT_EINVAL (no secret) or an RT_E* code. */
int web_tg_webhook_register(rt_runtime_t *rt, const char *secret);

#endif
