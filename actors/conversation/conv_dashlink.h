/* conv_dashlink.h — «🖥 Войти в панель»: a one-time dashboard sign-in link.
 *
 * Exports: conv_feature_dashlink, conv_dashlink_set_public_url.
 * Threads: any (pure); the setter only on the main thread before the
 * workers start.
 */
#ifndef PLUS7_CONV_DASHLINK_H
#define PLUS7_CONV_DASHLINK_H

#include "conv_dialog.h"

extern const conv_feature_t conv_feature_dashlink;

/* The service's public base URL (PLUS7_PUBLIC_URL, no trailing '/'); links
 * are {url}/api/session/bot?token=... Default http://127.0.0.1:8080. */
void conv_dashlink_set_public_url(const char *url);

#endif
