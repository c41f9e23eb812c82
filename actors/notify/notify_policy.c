/* notify_policy.c — when and how a notification may go out (see
 * notify_policy.h).
 * Exports: notify_policy_set, notify_window_next_h, notify_window_next, notify_window_open,
 * notify_sms_event_in, notify_sms_event_on, notify_pickup_start, notify_now_ms.
 * Threads: any.
 */
#include "notify_policy.h"

#include <string.h>
#include <time.h>

#include "rt.h"

#include <stdlib.h>

#define NP_HOUR_MS 3600000LL
#define NP_DAY_MS (24 * NP_HOUR_MS)
#define NP_MSK_MS (3 * NP_HOUR_MS)   /* Europe/Moscow: UTC+3, no daylight saving since 2014 */

/* floor division that works for times before 1970 too */
static int64_t np_floor_div(int64_t a, int64_t b) { return a / b - (a % b != 0 && (a < 0) != (b < 0)); }

int64_t notify_window_next_h(int64_t t_ms, int from_h, int to_h)
{
    int64_t local = t_ms + NP_MSK_MS;
    int64_t day = np_floor_div(local, NP_DAY_MS) * NP_DAY_MS;   /* Moscow midnight, as local ms */
    int64_t in_day = local - day;
    if (in_day >= from_h * NP_HOUR_MS && in_day < to_h * NP_HOUR_MS) return t_ms;
    int64_t open = day + from_h * NP_HOUR_MS;
    if (in_day >= to_h * NP_HOUR_MS) open += NP_DAY_MS;
    return open - NP_MSK_MS;
}

#define NP_SMS_DEFAULT "at_pickup_point,out_for_delivery,pickup_reminder"

/* Written once by the main thread before the workers start (thread
 * creation orders it before every read); read-only afterwards. */
static int np_from_h = 10, np_to_h = 20;
static char *np_sms_events;

int notify_policy_set(int from_h, int to_h, const char *sms_events)
{
    if (from_h < 0 || to_h > 24 || from_h >= to_h) return RT_EINVAL;
    char *copy = strdup(sms_events ? sms_events : NP_SMS_DEFAULT);
    if (!copy) return RT_ENOMEM;
    free(np_sms_events);
    np_sms_events = copy;
    np_from_h = from_h;
    np_to_h = to_h;
    return RT_OK;
}

static void np_hours(int *from, int *to)
{
    *from = np_from_h;
    *to = np_to_h;
}

int64_t notify_window_next(int64_t t_ms)
{
    int from, to;
    np_hours(&from, &to);
    return notify_window_next_h(t_ms, from, to);
}

bool notify_window_open(int64_t t_ms) { return notify_window_next(t_ms) == t_ms; }

bool notify_sms_event_in(const char *event, const char *list)
{
    if (!event || !list) return false;
    size_t elen = strlen(event);
    bool reminder = strncmp(event, "pickup_reminder", 15) == 0;
    for (const char *p = list; *p;) {
        size_t n = strcspn(p, ",");
        const char *a = p, *b = p + n;
        while (a < b && *a == ' ') a++;
        while (b > a && b[-1] == ' ') b--;
        size_t len = (size_t)(b - a);
        if ((len == 3 && strncmp(a, "all", 3) == 0) || (len == elen && strncmp(a, event, len) == 0) ||
            (reminder && len == 15 && strncmp(a, "pickup_reminder", 15) == 0))
            return true;
        p += n + (p[n] == ',');
    }
    return false;
}

bool notify_sms_event_on(const char *event)
{
    return notify_sms_event_in(event, np_sms_events ? np_sms_events : NP_SMS_DEFAULT);
}

int64_t notify_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t notify_pickup_start(int64_t arrived_ms, int64_t now_ms, int storage_days)
{
    return arrived_ms + storage_days * NP_DAY_MS > now_ms ? arrived_ms : now_ms;
}
