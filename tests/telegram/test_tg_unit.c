/* test_tg_unit.c — unit tests of the pure Telegram pieces: phone
 * normalisation, the update parser and the flood-control scheduler.
 * Threads: main only.
 */
#include "t.h"

#include "phone.h"
#include "rt.h"
#include "tg_flood.h"
#include "tg_update.h"

T_CASE(phone_formats_normalise_to_e164)
{
    char out[PHONE_E164_MAX];
    const char *ok[][2] = {
        {"79491234567", "+79491234567"}, {"+79491234567", "+79491234567"},
        {"89491234567", "+79491234567"}, {"+7 (949) 123-45-67", "+79491234567"},
        {"9491234567", "+79491234567"}, {"+380501234567", "+380501234567"},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        T_EQ_INT(phone_normalize(ok[i][0], out), RT_OK);
        T_EQ_STR(out, ok[i][1]);
    }
    const char *bad[] = {"", "12345", "+7949123456a", "7949123456789012345", "+0123456789", "abc", "+7-949"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) T_EQ_INT(phone_normalize(bad[i], out), RT_EINVAL);
}

/* Every form Telegram clients send a contact in (with or without '+',
 * spaced or not) and people type, for Russia, Ukraine and elsewhere. */
T_CASE(phone_every_country_with_or_without_plus)
{
    char out[PHONE_E164_MAX];
    const char *ok[][2] = {
        /* Russia (and Kazakhstan, which shares +7) */
        {"79001234567", "+79001234567"}, {"+79001234567", "+79001234567"}, {"+7 900 123-45-67", "+79001234567"},
        {"8 (900) 123-45-67", "+79001234567"}, {"9001234567", "+79001234567"}, {"77011234567", "+77011234567"},
        /* Ukraine: the contact arrives without the plus */
        {"380501234567", "+380501234567"}, {"+380501234567", "+380501234567"},
        {"+380 (50) 123-45-67", "+380501234567"}, {"380 50 123 45 67", "+380501234567"},
        {"00380501234567", "+380501234567"},
        /* Belarus, Uzbekistan, Germany, the USA, Israel, China */
        {"375291234567", "+375291234567"}, {"+375 29 123-45-67", "+375291234567"},
        {"998901234567", "+998901234567"}, {"4915112345678", "+4915112345678"},
        {"+49 151 12345678", "+4915112345678"}, {"12025550123", "+12025550123"},
        {"972501234567", "+972501234567"}, {"8613812345678", "+8613812345678"},
        {"+37255123456", "+37255123456"},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        T_EQ_INT(phone_normalize(ok[i][0], out), RT_OK);
        T_EQ_STR(out, ok[i][1]);
        char again[PHONE_E164_MAX];   /* stored E.164 stays as it is */
        T_EQ_INT(phone_normalize(out, again), RT_OK);
        T_EQ_STR(again, out);
    }
    const char *bad[] = {"0501234567",        /* a national Ukrainian number: no country */
                         "1234567890",        /* 10 digits not starting with 9 */
                         "3805012345",        /* too short without the plus */
                         "3805012345678901",  /* 16 digits */
                         "+7949123456",       /* +7 with 9 digits */
                         "0380501234567", "00", "+", "+380 50 123 45 67 x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) T_EQ_INT(phone_normalize(bad[i], out), RT_EINVAL);
}

T_CASE(phone_mask_keeps_country_and_last_four)
{
    char out[PHONE_E164_MAX];
    phone_mask("+79491234567", out, sizeof out);
    T_EQ_STR(out, "+7******4567");
}

T_CASE(update_text_command_with_payload)
{
    const char *j = "{\"update_id\":128527,\"message\":{\"message_id\":11224,\"from\":{\"id\":12345678,"
                    "\"is_bot\":false,\"first_name\":\"Ivan\"},\"chat\":{\"id\":12345678,\"type\":\"private\"},"
                    "\"date\":1750000000,\"text\":\"/start@plus7_bot 12345678-0001-1\","
                    "\"entities\":[{\"offset\":0,\"length\":6,\"type\":\"bot_command\"}]}}";
    tg_update_t u;
    T_EQ_INT(tg_update_parse(j, strlen(j), &u), RT_OK);
    T_EQ_INT(u.update_id, 128527);
    T_EQ_INT(u.kind, TG_UPD_MESSAGE);
    T_EQ_INT(u.chat_id, 12345678);
    T_CHECK(u.chat_private);
    T_EQ_STR(u.command, "/start");
    T_EQ_STR(u.command_arg, "12345678-0001-1");
    T_EQ_STR(u.from_first_name, "Ivan");
    tg_update_free(&u);
}

T_CASE(update_contact_location_callback_and_edit)
{
    const char *c = "{\"update_id\":1,\"message\":{\"message_id\":2,\"from\":{\"id\":5},\"chat\":{\"id\":5,\"type\":\"private\"},"
                    "\"contact\":{\"phone_number\":\"79001234567\",\"first_name\":\"I\",\"user_id\":5}}}";
    tg_update_t u;
    T_EQ_INT(tg_update_parse(c, strlen(c), &u), RT_OK);
    T_CHECK(u.has_contact);
    T_EQ_STR(u.contact_phone, "79001234567");
    T_EQ_INT(u.contact_user_id, 5);
    tg_update_free(&u);

    const char *l = "{\"update_id\":2,\"edited_message\":{\"message_id\":9,\"from\":{\"id\":5},\"chat\":{\"id\":5,\"type\":\"private\"},"
                    "\"edit_date\":1750000160,\"location\":{\"latitude\":48.0159,\"longitude\":37.8028,\"live_period\":900,\"heading\":45}}}";
    T_EQ_INT(tg_update_parse(l, strlen(l), &u), RT_OK);
    T_EQ_INT(u.kind, TG_UPD_EDITED_MESSAGE);
    T_CHECK(u.has_location);
    T_EQ_INT(u.live_period, 900);
    T_EQ_INT(u.edit_date, 1750000160);
    T_CHECK(u.latitude > 48.0 && u.latitude < 48.1);
    tg_update_free(&u);

    const char *cb = "{\"update_id\":3,\"callback_query\":{\"id\":\"4382\",\"from\":{\"id\":7},\"chat_instance\":\"-5\","
                     "\"message\":{\"message_id\":11240,\"chat\":{\"id\":7,\"type\":\"private\"}},\"data\":\"menu:track\"}}";
    T_EQ_INT(tg_update_parse(cb, strlen(cb), &u), RT_OK);
    T_EQ_INT(u.kind, TG_UPD_CALLBACK);
    T_EQ_STR(u.callback_data, "menu:track");
    T_EQ_INT(u.chat_id, 7);
    T_EQ_INT(u.message_id, 11240);
    tg_update_free(&u);
}

T_CASE(update_malformed_is_refused)
{
    const char *bad[] = {"", "{", "[]", "{\"update_id\":\"1\"}", "{\"message\":{}}", "{\"update_id\":-4}",
                         "{\"update_id\":1e300}", "null"};
    tg_update_t u;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) T_EQ_INT(tg_update_parse(bad[i], strlen(bad[i]), &u), RT_EINVAL);
    /* unknown update types are accepted and ignored */
    const char *other = "{\"update_id\":5,\"poll\":{}}";
    T_EQ_INT(tg_update_parse(other, strlen(other), &u), RT_OK);
    T_EQ_INT(u.kind, TG_UPD_OTHER);
    tg_update_free(&u);
}

static int item(int v) { return v; }
#define ITEM(v) ((void *)(intptr_t)item(v))

T_CASE(flood_global_window_never_exceeded)
{
    tg_flood_cfg_t cfg = {.global_per_sec = 30};
    tg_flood_t *f = tg_flood_new(&cfg);
    for (int i = 0; i < 300; i++) T_EQ_INT(tg_flood_push(f, 1000 + i, TG_PRIO_BULK, ITEM(i + 1)), RT_OK);
    uint64_t sent_at[300];
    int n = 0;
    for (uint64_t now = 1; n < 300 && now < 20000; now++) {
        int64_t chat, wait;
        void *p;
        while ((p = tg_flood_pop(f, now, &chat, &wait))) {
            sent_at[n++] = now;
            tg_flood_done(f, chat, now);
        }
    }
    T_EQ_INT(n, 300);
    for (int i = 30; i < n; i++) T_CHECK(sent_at[i] - sent_at[i - 30] >= 1000);
    /* and it does not dawdle: 300 messages at 30/s take about 10 s */
    T_CHECK(sent_at[299] <= 10000);
    tg_flood_free(f, NULL);
}

/* Sends arrive at the server some time between our start and our answer.
 * Simulate that (each send's round trip up to max_rtt ms, its arrival
 * anywhere inside it; at most 32 in flight, as in the gateway) and return
 * how many messages went in `n` ms; fail if any one-second window at the
 * server (arrival times, half-open) ever holds more than `rate`. */
static int flood_jitter_run(int rate, int max_rtt, uint64_t n_ms, bool *exceeded)
{
    tg_flood_cfg_t cfg = {.global_per_sec = rate};
    tg_flood_t *f = tg_flood_new(&cfg);
    enum { MSGS = 4000, FLIGHT = 32 };
    for (int i = 0; i < MSGS; i++) tg_flood_push(f, 5000 + i, TG_PRIO_BULK, ITEM(i + 1));
    static uint64_t arrival[MSGS];
    int64_t fchat[FLIGHT];
    uint64_t fdone[FLIGHT];
    int nflight = 0, n = 0;
    uint32_t seed = 12345;
    for (uint64_t now = 1; now < n_ms && n < MSGS; now++) {
        for (int k = 0; k < nflight;) {
            if (fdone[k] <= now) {
                tg_flood_done(f, fchat[k], now);
                fchat[k] = fchat[nflight - 1];
                fdone[k] = fdone[--nflight];
            } else {
                k++;
            }
        }
        int64_t chat, wait;
        while (nflight < FLIGHT && tg_flood_pop(f, now, &chat, &wait)) {
            seed = seed * 1103515245u + 12345u;
            uint64_t rtt = 1 + (seed >> 8) % (uint32_t)max_rtt;
            seed = seed * 1103515245u + 12345u;
            arrival[n++] = now + (seed >> 8) % (rtt + 1);
            fchat[nflight] = chat;
            fdone[nflight++] = now + rtt;
        }
    }
    /* sort arrivals (insertion: nearly sorted already) */
    for (int i = 1; i < n; i++)
        for (int k = i; k > 0 && arrival[k - 1] > arrival[k]; k--) {
            uint64_t t = arrival[k];
            arrival[k] = arrival[k - 1];
            arrival[k - 1] = t;
        }
    *exceeded = false;
    for (int i = rate; i < n; i++)
        if (arrival[i] - arrival[i - rate] < 1000) *exceeded = true;
    tg_flood_free(f, NULL);
    return n;
}

T_CASE(flood_no_server_window_exceeded_whatever_the_jitter)
{
    bool exceeded = true;
    /* round trips up to 400 ms, arrivals anywhere inside them */
    int n = flood_jitter_run(30, 400, 20000, &exceeded);
    T_CHECK(n > 0);
    T_CHECK(!exceeded);
    /* a local server (round trips up to 20 ms): at least 0.9 of the rate */
    n = flood_jitter_run(30, 20, 20000, &exceeded);
    T_CHECK(!exceeded);
    T_CHECK(n >= (int)(0.9 * 30 * 20));
    n = flood_jitter_run(100, 20, 20000, &exceeded);
    T_CHECK(!exceeded);
    T_CHECK(n >= (int)(0.9 * 100 * 20));
}

T_CASE(flood_private_chat_bursts_then_one_per_second_in_order)
{
    tg_flood_cfg_t cfg = {.global_per_sec = 30, .chat_burst = 3};
    tg_flood_t *f = tg_flood_new(&cfg);
    for (int i = 1; i <= 10; i++) tg_flood_push(f, 42, TG_PRIO_INTERACTIVE, ITEM(i));
    int expect = 1;
    uint64_t times[10];
    for (uint64_t now = 1; expect <= 10 && now < 20000; now++) {
        int64_t chat, wait;
        void *p = tg_flood_pop(f, now, &chat, &wait);
        if (!p) continue;
        T_EQ_INT((intptr_t)p, expect);
        times[expect - 1] = now;
        expect++;
        tg_flood_done(f, chat, now);
    }
    T_EQ_INT(expect, 11);
    T_CHECK(times[2] - times[0] < 100);          /* the burst goes at the global pace (30/s) */
    T_CHECK(times[3] - times[0] >= 999);         /* then the bucket refills at 1/s */
    for (int i = 4; i < 10; i++) T_CHECK(times[i] - times[i - 1] >= 999);
    tg_flood_free(f, NULL);
}

T_CASE(flood_group_twenty_per_minute)
{
    tg_flood_cfg_t cfg = {0};
    tg_flood_t *f = tg_flood_new(&cfg);
    for (int i = 1; i <= 25; i++) tg_flood_push(f, -100, TG_PRIO_INTERACTIVE, ITEM(i));
    int n = 0;
    uint64_t now;
    for (now = 1; now < 59000; now += 10) {
        int64_t chat, wait;
        void *p;
        while ((p = tg_flood_pop(f, now, &chat, &wait))) { n++; tg_flood_done(f, chat, now); }
    }
    T_EQ_INT(n, 20);
    tg_flood_free(f, NULL);
}

T_CASE(flood_interactive_before_bulk_and_no_overlap_per_chat)
{
    tg_flood_cfg_t cfg = {.global_per_sec = 30};
    tg_flood_t *f = tg_flood_new(&cfg);
    for (int i = 0; i < 10; i++) tg_flood_push(f, 500 + i, TG_PRIO_BULK, ITEM(100 + i));
    tg_flood_push(f, 7, TG_PRIO_INTERACTIVE, ITEM(1));
    tg_flood_push(f, 7, TG_PRIO_INTERACTIVE, ITEM(2));
    int64_t chat, wait;
    void *p = tg_flood_pop(f, 5, &chat, &wait);
    T_EQ_INT((intptr_t)p, 1);
    T_EQ_INT(chat, 7);
    /* chat 7 is in flight: its second message must wait; bulk goes meanwhile
     * (after the global pacing interval, 1000/30 ms) */
    p = tg_flood_pop(f, 5, &chat, &wait);
    T_CHECK(p == NULL && wait > 0 && wait <= 34);
    p = tg_flood_pop(f, 5 + 34, &chat, &wait);
    T_CHECK(p && chat != 7);
    tg_flood_done(f, chat, 5 + 34);
    /* 429 on chat 7's first message: back at the head, chat and bot paused */
    tg_flood_retry(f, 7, TG_PRIO_INTERACTIVE, ITEM(1), 6, 3000, true);
    p = tg_flood_pop(f, 100, &chat, &wait);
    T_CHECK(p == NULL);
    T_CHECK(wait >= 2900 && wait <= 3000);
    p = tg_flood_pop(f, 3006, &chat, &wait);
    T_EQ_INT((intptr_t)p, 1);
    T_EQ_INT(chat, 7);
    tg_flood_done(f, 7, 3006);
    p = tg_flood_pop(f, 3006 + 34, &chat, &wait);   /* next global slot */
    T_EQ_INT((intptr_t)p, 2);
    tg_flood_done(f, 7, 3006 + 34);
    T_EQ_INT(tg_flood_pending(f), 9);
    tg_flood_free(f, NULL);
}

T_MAIN()
