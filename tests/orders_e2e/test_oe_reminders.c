/* test_oe_reminders.c — pickup reminders as a person expects them (issue 7,
 * item 8), end to end through the real plus7d, tgsim and PostgreSQL.
 *
 * Purpose: plus7d runs with PLUS7_STORAGE_DAYS=5 and PLUS7_REMIND_DAYS=1,2,4
 * (the default notification hours 10-20 Moscow time):
 *   - a parcel that reached the pickup point at 03:00 Moscow time is kept
 *     5 days and reminded on days 1, 2 and 4 at 10:00, not at 03:00;
 *   - an arrival we learn of after its storage would have ended starts
 *     its storage now: the owner reads a deadline in the future, and no
 *     reminder is already due (no burst);
 *   - an arrival learnt of 3 days late keeps its deadline and only the
 *     reminders still ahead (day 4), none of the overdue ones;
 *   - a reminder that fires outside the hours (PLUS7_NOTIFY_HOURS set to
 *     exclude the current hour) is moved to the next opening, and nothing
 *     is sent.
 * Each case has its own posting (41000xxx-0001-1) and owner (chat 741xx),
 * named by the event's recipient_phone.
 *
 * Exports: main (TAP). Tags: "e2e". Threads: main thread only.
 */
#include "t.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "e2e_harness.h"
#include "oe_owner.h"
#include "oe_util.h"

#define DAY 86400LL
#define T_START() T_CHECK(e2e_p7_ensure() == 0)

static const char *const PICKUP = "ПВЗ Луганск, ул. Советская, 1";

/* The reminders of a posting as "name:data:due_s,..." (ordered by name). */
static const char *const SQL_REMINDERS =
    "SELECT string_agg(name || ':' || data || ':' || (extract(epoch FROM due_at))::bigint, ',' ORDER BY name)"
    "  FROM runtime_reminders WHERE kind = 'order' AND key = $1";

/* The latest 03:00 Moscow time at least a minute ago, as Unix seconds. */
static int64_t last_3am(void)
{
    int64_t local = (int64_t)time(NULL) + 3 * 3600;
    int64_t at_local = local - local % DAY + 3 * 3600;
    if (at_local > local - 60) at_local -= DAY;
    return at_local - 3 * 3600;
}

/* Day d after `at`, at 10:00 Moscow time of that day (at is 03:00). */
static int64_t ten_am_after(int64_t at, int d) { return at + d * DAY + 7 * 3600; }

/* Register chat as `name` and post event `id` (status at `at`) that names
 * them as the recipient. 0 when both worked. */
static int owner_event(long long chat, const char *name, const char *id, const char *posting, const char *status,
                       int64_t at)
{
    char phone[24];
    if (oe_owner(chat, name) != 0) return -1;
    const char *pickup = strcmp(status, "at_pickup_point") == 0 ? PICKUP : NULL;
    return oe_event_to(id, posting, status, at, pickup, oe_owner_phone(chat, phone)) == 200 ? 0 : -1;
}

T_CASE_TAGGED(arrival_at_3am_reminds_at_10_on_the_configured_days, "e2e")
{
    T_START();
    const char *p = "41000001-0001-1";
    const long long chat = 74101;
    int64_t at = last_3am();
    T_EQ_INT(owner_event(chat, "Ольга", "rm1-a", p, "in_transit", at - 3600), 0);
    T_EQ_INT(oe_event_to("rm1-b", p, "at_pickup_point", at, PICKUP, NULL), 200);
    char want[256];
    snprintf(want, sizeof want, "pickup_0:1:%lld,pickup_1:2:%lld,pickup_2:4:%lld", (long long)ten_am_after(at, 1),
             (long long)ten_am_after(at, 2), (long long)ten_am_after(at, 4));
    if (!e2e_sql_until(OE_WAIT_S, want, SQL_REMINDERS, p, NULL))
        printf("# want %s, have %s\n", want, e2e_sqls(SQL_REMINDERS, p, NULL) ? e2e_sqls(SQL_REMINDERS, p, NULL) : "-");
    T_EQ_STR(e2e_sqls(SQL_REMINDERS, p, NULL), want);
    snprintf(want, sizeof want, "%lld", (long long)(at + 5 * DAY));   /* PLUS7_STORAGE_DAYS=5 */
    T_EQ_STR(e2e_sqls("SELECT (extract(epoch FROM storage_until))::bigint FROM orders WHERE posting_number = $1", p,
                      NULL), want);
    /* the owner reads that deadline */
    bool ok = false;
    cJSON *w = e2e_wait(chat, 2, 0, OE_WAIT_S, &ok);
    const cJSON *m = cJSON_GetArrayItem(cJSON_GetObjectItem(w, "messages"), 1);
    T_CHECK(ok && strstr(e2e_text(m), oe_msk(at + 5 * DAY)) != NULL);
    cJSON_Delete(w);
}

T_CASE_TAGGED(late_arrival_shows_no_past_deadline_and_no_burst, "e2e")
{
    T_START();
    const char *p = "41000002-0001-1";
    const long long chat = 74102;
    int64_t at = (int64_t)time(NULL) - 10 * DAY;   /* its storage would have ended 5 days ago */
    T_EQ_INT(owner_event(chat, "Иван", "rm2-a", p, "at_pickup_point", at), 0);
    T_CHECK(oe_processed_until(OE_WAIT_S, "rm2-"));
    T_EQ_STR(e2e_sqls("SELECT (storage_until > now() + interval '4 days 23 hours'"
                      "        AND storage_until <= now() + interval '5 days')::text"
                      "  FROM orders WHERE posting_number = $1", p, NULL), "true");
    cJSON *m = e2e_reply(chat, OE_WAIT_S);
    T_CHECK(m != NULL);
    const char *until = e2e_sqls("SELECT to_char(storage_until AT TIME ZONE 'Europe/Moscow', 'DD.MM.YYYY HH24:MI')"
                                 "  FROM orders WHERE posting_number = $1", p, NULL);
    T_CHECK(until && strstr(e2e_text(m), until) != NULL);
    T_CHECK(strstr(e2e_text(m), oe_msk(at + 5 * DAY)) == NULL);
    cJSON_Delete(m);
    /* the reminders count from now: all three ahead, none already due */
    T_CHECK(e2e_sql_until(OE_WAIT_S, "3", "SELECT count(*) FROM runtime_reminders WHERE kind = 'order' AND key = $1",
                          p, NULL));
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM runtime_reminders WHERE kind = 'order' AND key = $1"
                         " AND due_at <= now() + interval '20 hours'", p, NULL), 0);
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM notify_outbox WHERE posting_number = $1 AND event LIKE 'pickup%'", p,
                         NULL), 0);
}

T_CASE_TAGGED(arrival_learnt_late_keeps_only_the_reminders_ahead, "e2e")
{
    T_START();
    const char *p = "41000003-0001-1";
    int64_t at = (int64_t)time(NULL) - 3 * DAY - 3600;   /* days 1 and 2 are past, day 4 ahead */
    T_EQ_INT(owner_event(74103, "Нина", "rm3-a", p, "at_pickup_point", at), 0);
    /* the one ahead is set; the overdue ones were never set (the same actor
     * decided them first), so nothing fires at once */
    T_CHECK(e2e_sql_until(OE_WAIT_S, "pickup_2", "SELECT string_agg(name, ',' ORDER BY name) FROM runtime_reminders"
                                                 " WHERE kind = 'order' AND key = $1", p, NULL));
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM runtime_reminders WHERE kind = 'order' AND key = $1"
                         " AND due_at <= now()", p, NULL), 0);
    char want[32];
    snprintf(want, sizeof want, "%lld", (long long)(at + 5 * DAY));   /* the deadline is still ahead: kept */
    T_EQ_STR(e2e_sqls("SELECT (extract(epoch FROM storage_until))::bigint FROM orders WHERE posting_number = $1", p,
                      NULL), want);
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM notify_outbox WHERE posting_number = $1 AND event LIKE 'pickup%'", p,
                         NULL), 0);
}

T_CASE_TAGGED(reminder_outside_the_hours_waits_for_the_opening, "e2e")
{
    T_START();
    const char *p = "41000001-0001-1";   /* the first case's parcel, reminders pending */
    int h = (int)e2e_sql_int("SELECT extract(hour FROM now() AT TIME ZONE 'Europe/Moscow')::int", NULL);
    int open_h = h < 22 ? h + 1 : 0;     /* a one-hour window that does not hold this hour */
    char hours[16], from[8];
    snprintf(hours, sizeof hours, "%d-%d", open_h, open_h + 1);
    snprintf(from, sizeof from, "%d", open_h);
    T_EQ_INT(e2e_p7_stop(NULL), 0);
    e2e_p7_setenv("PLUS7_NOTIFY_HOURS", hours);
    T_EQ_INT(e2e_p7_start(), 0);
    T_EQ_INT(e2e_sql_exec("UPDATE runtime_reminders SET due_at = now() - interval '1 second'"
                          " WHERE kind = 'order' AND key = $1 AND name = 'pickup_0'", p, NULL), 0);
    /* it fired, and the order actor put it off to the opening hour */
    T_CHECK(e2e_sql_until(OE_WAIT_S, from,
                          "SELECT extract(hour FROM due_at AT TIME ZONE 'Europe/Moscow')::int FROM runtime_reminders"
                          " WHERE kind = 'order' AND key = $1 AND name = 'pickup_0' AND due_at > now()", p, NULL));
    T_EQ_INT(e2e_sql_int("SELECT count(*) FROM notify_outbox WHERE posting_number = $1 AND event LIKE 'pickup%'", p,
                         NULL), 0);
    T_EQ_INT(e2e_p7_stop(NULL), 0);
    e2e_p7_setenv("PLUS7_NOTIFY_HOURS", NULL);
    T_EQ_INT(e2e_p7_start(), 0);
}

T_CASE_TAGGED(bad_settings_are_refused_naming_them, "e2e")
{
    static const char *const bad[][2] = {
        {"PLUS7_REMIND_DAYS", "3,2"},     {"PLUS7_REMIND_DAYS", "9"},        {"PLUS7_REMIND_DAYS", "1,2,3,4,5"},
        {"PLUS7_NOTIFY_HOURS", "20-10"},  {"PLUS7_NOTIFY_HOURS", "10-25"},   {"PLUS7_NOTIFY_HOURS", "10"},
        {"PLUS7_SMS_EVENTS", "at pickup"}, {"PLUS7_STORAGE_DAYS", "0"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char path[] = "/tmp/oe_reminders_cfg_XXXXXX";
        int fd = mkstemp(path);
        T_CHECK(fd >= 0);
        FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
        if (!f) continue;
        fprintf(f, "%s=%s\n", bad[i][0], bad[i][1]);
        fclose(f);
        char out[2048];
        const char *args[] = {"--config", path, "migrate", NULL};
        int rc = e2e_p7_run(args, out, sizeof out);
        unlink(path);
        if (rc != 2 || !strstr(out, bad[i][0])) printf("# %s=%s: exit %d: %s\n", bad[i][0], bad[i][1], rc, out);
        T_EQ_INT(rc, 2);
        T_CHECK(strstr(out, bad[i][0]) != NULL);
    }
}

int main(void)
{
    int rc = oe_init("oe_reminders");
    e2e_p7_setenv("PLUS7_STORAGE_DAYS", "5");
    e2e_p7_setenv("PLUS7_REMIND_DAYS", "1,2,4");
    if (rc == 0) rc = e2e_p7_start();
    int failed = t_run_all();
    return e2e_finish(failed);
}
