/* notify_policy.h — when and how a notification may go out.
 *
 * Purpose: the rules people expect of pickup reminders and SMS (issue 7,
 * item 8), in one place, as pure functions of the configuration:
 *   - reminders and SMS only between PLUS7_NOTIFY_HOURS (default 10:00 to
 *     20:00 Europe/Moscow, UTC+3 without daylight saving); anything due
 *     outside waits for the next opening;
 *   - SMS only for the events listed in PLUS7_SMS_EVENTS
 *     ("pickup_reminder" stands for every pickup_reminder_<days>; "all"
 *     for every event);
 *   - a parcel that reached the pickup point long before we learnt of it
 *     starts its storage when we learn of it, so no deadline shown is
 *     already past.
 *
 * Exports: notify_policy_set, notify_window_next_h, notify_window_next, notify_window_open, notify_sms_event_on,
 * notify_pickup_start, notify_now_ms.
 * Threads: any; notify_policy_set on the main thread before the workers
 * start (plus7_actors_register), read-only afterwards.
 */
#ifndef PLUS7_NOTIFY_POLICY_H
#define PLUS7_NOTIFY_POLICY_H

#include <stdbool.h>
#include <stdint.h>

/* Set the window (Moscow hours [from_h, to_h), 0 <= from_h < to_h <= 24)
 * and the SMS events (comma list; NULL = at_pickup_point,
 * out_for_delivery, pickup_reminder). Until called: 10-20 and that list.
 * RT_OK, RT_EINVAL (bad hours, nothing changed) or RT_ENOMEM. Main
 * thread, before the workers start. */
int notify_policy_set(int from_h, int to_h, const char *sms_events);

/* The earliest moment at or after t_ms (Unix ms) whose Moscow hour lies in
 * [from_h, to_h): t_ms itself when it does, else from_h:00:00 Moscow time
 * of the same day (before the window) or of the next day (after it).
 * 0 <= from_h < to_h <= 24. */
int64_t notify_window_next_h(int64_t t_ms, int from_h, int to_h);

/* notify_window_next_h with the configured hours (PLUS7_NOTIFY_HOURS). */
int64_t notify_window_next(int64_t t_ms);

/* t_ms lies inside the configured window. */
bool notify_window_open(int64_t t_ms);

/* `event` is in the comma-separated `list` (NULL: the configured
 * PLUS7_SMS_EVENTS): by name, "pickup_reminder" for any pickup_reminder_N,
 * or the list is "all". */
bool notify_sms_event_in(const char *event, const char *list);
bool notify_sms_event_on(const char *event);

/* The wall clock in Unix milliseconds (CLOCK_REALTIME). */
int64_t notify_now_ms(void);

/* The moment the storage of a parcel that arrived at `arrived_ms` counts
 * from, learnt at `now_ms`: arrived_ms, unless arrived_ms + storage_days
 * is already past — then now_ms (the person hears of it only now). */
int64_t notify_pickup_start(int64_t arrived_ms, int64_t now_ms, int storage_days);

#endif
