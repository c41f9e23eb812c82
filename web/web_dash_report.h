/* web_dash_report.h — the daily XLSX report to admins in Telegram
 * (see web_dash_report.c).
 *
 * Exports: web_dash_report_kick_fn, web_dash_report_start,
 * web_dash_report_stop.
 * Threads: main thread.
 */
#ifndef PLUS7_WEB_DASH_REPORT_H
#define PLUS7_WEB_DASH_REPORT_H

/* Wakes the Telegram gateway after outbox rows were committed (app/ wires
 * it to a tg_kick message, so web/ needs no actor). Any thread. */
typedef void (*web_dash_report_kick_fn)(void *arg);

/* Start the report thread: from `hour` (0..23, Moscow) on, each day's
 * report (the previous day's orders and KPIs) is queued once for every
 * person whose role is admin, over its own connection to `conninfo`.
 * RT_OK, RT_EINVAL or RT_ENOMEM. Call after web_dash_register. */
int web_dash_report_start(const char *conninfo, int hour, web_dash_report_kick_fn kick, void *arg);

/* Stop and join the thread (a report being built is finished first).
 * Idempotent. */
void web_dash_report_stop(void);

#endif
