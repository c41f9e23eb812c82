/* oe_owner.c — owners and events that name them (see oe_owner.h).
 * Exports: oe_owner_phone, oe_owner, oe_event_to, oe_msk.
 * Threads: see oe_owner.h.
 */
#include "oe_owner.h"

#include <stdio.h>
#include <time.h>

#include "e2e_harness.h"
#include "oe_util.h"

const char *oe_owner_phone(long long chat, char out[24])
{
    snprintf(out, 24, "+7949%07lld", chat % 10000000);
    return out;
}

int oe_owner(long long chat, const char *name)
{
    char phone[24];
    oe_owner_phone(chat, phone);
    if (e2e_user(chat, name, phone, true) != 0) return -1;
    return e2e_sql_exec("INSERT INTO users (tg_user_id, chat_id, phone, first_name) VALUES ($1::bigint, $1::bigint, $2, $3)"
                        " ON CONFLICT (tg_user_id) DO NOTHING", e2e_i(chat), phone, name, NULL);
}

long oe_event_to(const char *id, const char *posting, const char *status, int64_t at_s, const char *pickup,
                 const char *recipient_phone)
{
    cJSON *root = cJSON_CreateObject(), *e = cJSON_CreateObject();
    cJSON_AddItemToArray(cJSON_AddArrayToObject(root, "events"), e);
    cJSON_AddStringToObject(e, "id", id);
    cJSON_AddStringToObject(e, "posting_number", posting);
    cJSON_AddStringToObject(e, "status", status);
    cJSON_AddStringToObject(e, "at", oe_rfc3339(at_s));
    if (pickup) cJSON_AddStringToObject(e, "pickup_point", pickup);
    if (recipient_phone) cJSON_AddStringToObject(e, "recipient_phone", recipient_phone);
    char *body = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    oe_resp_t r = oe_post_signed(body ? body : "");
    long st = r.status;
    if (st != 200) printf("# logistics POST %s: HTTP %ld %s\n", id, st, r.body ? r.body : "");
    oe_resp_free(&r);
    cJSON_free(body);
    return st;
}

const char *oe_msk(int64_t t)
{
    static char b[8][32];
    static unsigned next;
    char *out = b[next++ % 8];
    time_t tt = (time_t)(t + 3 * 3600);
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, sizeof b[0], "%d.%m.%Y %H:%M", &tm);
    return out;
}
