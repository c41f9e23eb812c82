/* web_dash_live.h — the dashboard's websocket /api/live (see web_dash_live.c).
 *
 * Exports: web_dash_live_start, web_dash_live_stop.
 * Threads: main thread.
 */
#ifndef PLUS7_WEB_DASH_LIVE_H
#define PLUS7_WEB_DASH_LIVE_H

/* Start the thread that LISTENs on plus7_live over its own connection to
 * `conninfo` (copied) and feeds the sockets of /api/live (registered by
 * web_dash_register). Call after web_server_start. RT_OK, RT_EINVAL
 * (started twice) or RT_ENOMEM. */
int web_dash_live_start(const char *conninfo);

/* Stop and join the listener (open sockets are closed by web_server_stop,
 * which must come after). Idempotent. */
void web_dash_live_stop(void);

#endif
