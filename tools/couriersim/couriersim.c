/* couriersim.c — emulated couriers for demos and benchmarks.
 *
 * Purpose: N couriers who work entirely through the emulated Telegram
 * (tools/tgsim), exactly as people do: each is granted the courier role
 * (role_grants, as `plus7d role` would), registers with /start and the
 * share-phone button, presses «▶️ Начать смену», shares a live location and
 * then drives — every --step-s seconds a live-location edit — around a loop
 * of main streets of one of the demo cities (Donetsk, Makeyevka, Luhansk,
 * Mariupol, Melitopol). With --work it also does the job: a delivery
 * assigned to it is picked up («✅ Забрал»), driven to («🚗 В пути к
 * клиенту», the moves now heading for the address) and handed over with a
 * photo proof when it arrives; then the patrol goes on.
 *
 * It reads plus7's database only for what a courier sees in their chat
 * (their deliveries' ids, card generations and addresses), so the button
 * presses carry the same callback data as the cards.
 *
 * usage: couriersim --tgsim URL --db CONNINFO [--couriers N] [--step-s S]
 *                   [--first-id ID] [--work] [--seconds T]
 * Exits 0 on SIGTERM/SIGINT or after --seconds, 2 on bad arguments, 1 when
 * tgsim or the database cannot be reached at start.
 *
 * Exports: main. Threads: main only (a tool, not part of the service).
 */
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <libpq-fe.h>

#include "texts.h"

#define CS_MAX 5000
#define CS_SPEED_MPS 8.0          /* about 30 km/h in town */
#define CS_ARRIVE_M 40.0

typedef struct cs_pt { double lat, lon; } cs_pt_t;

/* Loops along main streets (approximate), one per city, in driving order. */
static const cs_pt_t cs_donetsk[] = {
    {48.0159, 37.8028}, {48.0087, 37.8040}, {48.0005, 37.8105}, {47.9975, 37.8390}, {48.0040, 37.8320},
    {48.0150, 37.8240}, {48.0290, 37.8050}, {48.0430, 37.7880}, {48.0330, 37.7960}, {48.0230, 37.8000},
};
static const cs_pt_t cs_makeyevka[] = {
    {48.0440, 37.9640}, {48.0500, 37.9750}, {48.0560, 37.9900}, {48.0480, 38.0050}, {48.0390, 37.9900},
    {48.0350, 37.9700},
};
static const cs_pt_t cs_luhansk[] = {
    {48.5690, 39.3180}, {48.5740, 39.3070}, {48.5800, 39.3150}, {48.5750, 39.3300}, {48.5620, 39.3330},
    {48.5600, 39.3220},
};
static const cs_pt_t cs_mariupol[] = {
    {47.0990, 37.5470}, {47.1050, 37.5520}, {47.1120, 37.5580}, {47.1060, 37.5690}, {47.0960, 37.5620},
    {47.0930, 37.5500},
};
static const cs_pt_t cs_melitopol[] = {
    {46.8470, 35.3670}, {46.8520, 35.3600}, {46.8560, 35.3700}, {46.8500, 35.3790}, {46.8430, 35.3750},
};
static const struct { const cs_pt_t *pts; int n; } cs_loops[] = {
    {cs_donetsk, sizeof cs_donetsk / sizeof cs_donetsk[0]},
    {cs_makeyevka, sizeof cs_makeyevka / sizeof cs_makeyevka[0]},
    {cs_luhansk, sizeof cs_luhansk / sizeof cs_luhansk[0]},
    {cs_mariupol, sizeof cs_mariupol / sizeof cs_mariupol[0]},
    {cs_melitopol, sizeof cs_melitopol / sizeof cs_melitopol[0]},
};
#define CS_NLOOPS (int)(sizeof cs_loops / sizeof cs_loops[0])

typedef enum { CS_PATROL = 0, CS_TO_CLIENT } cs_mode_t;

typedef struct cs_courier {
    long long uid;
    char phone[20];
    int loop, next;              /* the loop and the index of the next waypoint */
    cs_pt_t at;
    long long live_msg;
    cs_mode_t mode;
    long long delivery;          /* the delivery being driven to */
    int gen;
    cs_pt_t target;
} cs_courier_t;

static volatile sig_atomic_t cs_stop;
static const char *cs_tgsim;
static CURL *cs_curl;

static void cs_on_signal(int sig) { (void)sig; cs_stop = 1; }

typedef struct cs_buf { char *p; size_t n; } cs_buf_t;

static size_t cs_write(char *d, size_t sz, size_t nm, void *u)
{
    cs_buf_t *b = u;
    size_t n = sz * nm;
    char *p = realloc(b->p, b->n + n + 1);
    if (!p) return 0;
    memcpy(p + b->n, d, n);
    b->p = p;
    b->n += n;
    p[b->n] = '\0';
    return n;
}

/* A tgsim control request; the parsed reply (caller frees) or NULL. */
static cJSON *cs_call(const char *method, const char *path, const char *body)
{
    char url[1024];
    snprintf(url, sizeof url, "%s%s", cs_tgsim, path);
    cs_buf_t b = {0};
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    curl_easy_reset(cs_curl);
    curl_easy_setopt(cs_curl, CURLOPT_URL, url);
    curl_easy_setopt(cs_curl, CURLOPT_CUSTOMREQUEST, method);
    if (body) curl_easy_setopt(cs_curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(cs_curl, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(cs_curl, CURLOPT_WRITEFUNCTION, cs_write);
    curl_easy_setopt(cs_curl, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(cs_curl, CURLOPT_TIMEOUT, 10L);
    CURLcode rc = curl_easy_perform(cs_curl);
    curl_slist_free_all(h);
    cJSON *j = rc == CURLE_OK && b.p ? cJSON_Parse(b.p) : NULL;
    if (rc != CURLE_OK) fprintf(stderr, "couriersim: %s %s: %s\n", method, path, curl_easy_strerror(rc));
    free(b.p);
    return j;
}

static cJSON *cs_act(long long uid, const char *action, const char *body)
{
    char path[128];
    snprintf(path, sizeof path, "/control/users/%lld/%s", uid, action);
    return cs_call("POST", path, body ? body : "{}");
}

static void cs_act_quiet(long long uid, const char *action, const char *body) { cJSON_Delete(cs_act(uid, action, body)); }

/* Waits (up to 30 s) until the bot has sent `n` messages to uid's chat. */
static bool cs_wait_bot(long long uid, int n)
{
    char path[128];
    snprintf(path, sizeof path, "/control/chats/%lld", uid);
    for (int i = 0; i < 300 && !cs_stop; i++) {
        cJSON *j = cs_call("GET", path, NULL);
        int got = (int)cJSON_GetNumberValue(cJSON_GetObjectItem(j, "bot_messages"));
        cJSON_Delete(j);
        if (got >= n) return true;
        usleep(100000);
    }
    return false;
}

/* A button of the current reply keyboard, as a person presses it. */
static void cs_press_reply(long long uid, text_id_t label)
{
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "text", text_get(label));
    char *s = cJSON_PrintUnformatted(b);
    cs_act_quiet(uid, "press_reply", s);
    free(s);
    cJSON_Delete(b);
}

/* The newest bot message in the courier's chat, 0 if none. */
static long long cs_last_bot_message(long long uid)
{
    char path[128];
    snprintf(path, sizeof path, "/control/chats/%lld?from=bot", uid);
    cJSON *j = cs_call("GET", path, NULL);
    long long id = 0;
    const cJSON *m;
    cJSON_ArrayForEach(m, cJSON_GetObjectItem(j, "messages"))
        id = (long long)cJSON_GetNumberValue(cJSON_GetObjectItem(m, "message_id"));
    cJSON_Delete(j);
    return id;
}

static void cs_press_inline(long long uid, const char *data)
{
    char body[160];
    snprintf(body, sizeof body, "{\"message_id\":%lld,\"data\":\"%s\",\"force\":true}", cs_last_bot_message(uid), data);
    cs_act_quiet(uid, "press_inline", body);
}

static double cs_dist(cs_pt_t a, cs_pt_t b)
{
    double dlat = (b.lat - a.lat) * M_PI / 180, dlon = (b.lon - a.lon) * M_PI / 180;
    double h = sin(dlat / 2) * sin(dlat / 2) + cos(a.lat * M_PI / 180) * cos(b.lat * M_PI / 180) * sin(dlon / 2) * sin(dlon / 2);
    return 2 * 6371008.8 * asin(sqrt(h < 1 ? h : 1));
}

/* Move `metres` from `from` toward `to`; true when it arrived. */
static bool cs_step_toward(cs_pt_t *at, cs_pt_t to, double metres)
{
    double d = cs_dist(*at, to);
    if (d <= metres || d < 1) { *at = to; return true; }
    double f = metres / d;
    at->lat += (to.lat - at->lat) * f;
    at->lon += (to.lon - at->lon) * f;
    return false;
}

static void cs_live(cs_courier_t *c, bool start)
{
    char body[256];
    if (start) {
        snprintf(body, sizeof body, "{\"latitude\":%.6f,\"longitude\":%.6f,\"live_period\":28800,\"horizontal_accuracy\":10}",
                 c->at.lat, c->at.lon);
        cJSON *r = cs_act(c->uid, "live_start", body);
        c->live_msg = (long long)cJSON_GetNumberValue(cJSON_GetObjectItem(r, "message_id"));
        cJSON_Delete(r);
        return;
    }
    snprintf(body, sizeof body, "{\"message_id\":%lld,\"latitude\":%.6f,\"longitude\":%.6f,\"horizontal_accuracy\":10}",
             c->live_msg, c->at.lat, c->at.lon);
    cs_act_quiet(c->uid, "live_move", body);
}

static int cs_setup(PGconn *db, cs_courier_t *c, int i, long long first_id)
{
    c->uid = first_id + i;
    snprintf(c->phone, sizeof c->phone, "+7949%07d", 9000000 + i);
    c->loop = i % CS_NLOOPS;
    const cs_pt_t *pts = cs_loops[c->loop].pts;
    int n = cs_loops[c->loop].n;
    c->next = (i / CS_NLOOPS) % n;
    c->at = pts[c->next];
    c->at.lat += ((i * 37) % 11 - 5) * 0.0004;    /* not all on one spot */
    c->next = (c->next + 1) % n;
    const char *params[] = {c->phone};
    PGresult *r = PQexecParams(db, "INSERT INTO role_grants (phone, role) VALUES ($1, 'courier')"
                                   " ON CONFLICT (phone) DO UPDATE SET role = 'courier'", 1, NULL, params, NULL, NULL, 0);
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    if (!ok) { fprintf(stderr, "couriersim: %s", PQerrorMessage(db)); return -1; }
    char body[256];
    snprintf(body, sizeof body, "{\"id\":%lld,\"first_name\":\"Курьер %d\",\"phone\":\"%s\"}", c->uid, i + 1, c->phone);
    cJSON *u = cs_call("POST", "/control/users", body);
    if (!u) return -1;
    cJSON_Delete(u);
    /* a courier already registered (a restart of the tool) keeps its chat */
    char path[128];
    snprintf(path, sizeof path, "/control/chats/%lld", c->uid);
    cJSON *chat = cs_call("GET", path, NULL);
    int seen = (int)cJSON_GetNumberValue(cJSON_GetObjectItem(chat, "bot_messages"));
    cJSON_Delete(chat);
    cs_act_quiet(c->uid, "command", "{\"command\":\"start\"}");
    if (!cs_wait_bot(c->uid, seen + 1)) return -1;
    cs_press_reply(c->uid, T_BTN_SHARE_PHONE);
    if (!cs_wait_bot(c->uid, seen + 2)) return -1;
    cs_press_reply(c->uid, T_BTN_SHIFT_START);
    if (!cs_wait_bot(c->uid, seen + 3)) return -1;
    cs_live(c, true);
    return 0;
}

/* --work: the courier's next move with its deliveries. */
static void cs_work(PGconn *db, cs_courier_t *c)
{
    char uid[24];
    snprintf(uid, sizeof uid, "%lld", c->uid);
    const char *params[] = {uid};
    PGresult *r = PQexecParams(db,
        "SELECT d.id, d.card_gen, d.stage, coalesce(d.lat, 0), coalesce(d.lon, 0), d.lat IS NOT NULL"
        "  FROM deliveries d JOIN couriers c ON c.id = d.courier_id"
        " WHERE c.tg_user_id = $1::bigint AND d.status = 'ordered' AND d.stage IN ('assigned', 'picked', 'en_route')"
        "   AND d.slot_date = msk_today() AND NOT d.card_pending AND NOT d.locked"
        " ORDER BY d.slot_start, d.id LIMIT 1", 1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) == 0) {
        PQclear(r);
        c->mode = CS_PATROL;
        return;
    }
    long long id = atoll(PQgetvalue(r, 0, 0));
    int gen = atoi(PQgetvalue(r, 0, 1));
    const char *stage = PQgetvalue(r, 0, 2);
    cs_pt_t target = {atof(PQgetvalue(r, 0, 3)), atof(PQgetvalue(r, 0, 4))};
    bool has_point = PQgetvalue(r, 0, 5)[0] == 't';
    char data[64];
    if (strcmp(stage, "assigned") == 0) {
        snprintf(data, sizeof data, "cr:pk:%lld:%d", id, gen);
        cs_press_inline(c->uid, data);
    } else if (strcmp(stage, "picked") == 0) {
        snprintf(data, sizeof data, "cr:go:%lld:%d", id, gen);
        cs_press_inline(c->uid, data);
    } else if (c->mode == CS_TO_CLIENT && c->delivery == id && (!has_point || cs_dist(c->at, target) <= CS_ARRIVE_M)) {
        snprintf(data, sizeof data, "cr:ph:%lld:%d", id, gen);    /* arrived: a photo proof */
        cs_press_inline(c->uid, data);
        cs_act_quiet(c->uid, "photo", "{\"size\":4096,\"width\":800,\"height\":600}");
        c->mode = CS_PATROL;
    } else {
        c->mode = CS_TO_CLIENT;
        c->delivery = id;
        c->gen = gen;
        c->target = has_point ? target : c->at;
    }
    PQclear(r);
}

int main(int argc, char **argv)
{
    const char *dbinfo = NULL;
    int n = 5, step_s = 5, seconds = 0;
    long long first_id = 990001;
    bool work = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--tgsim") && i + 1 < argc) cs_tgsim = argv[++i];
        else if (!strcmp(argv[i], "--db") && i + 1 < argc) dbinfo = argv[++i];
        else if (!strcmp(argv[i], "--couriers") && i + 1 < argc) n = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--step-s") && i + 1 < argc) step_s = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--first-id") && i + 1 < argc) first_id = atoll(argv[++i]);
        else if (!strcmp(argv[i], "--seconds") && i + 1 < argc) seconds = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--work")) work = true;
        else {
            fprintf(stderr, "usage: couriersim --tgsim URL --db CONNINFO [--couriers N] [--step-s S] [--first-id ID]"
                            " [--work] [--seconds T]\n");
            return 2;
        }
    }
    if (!cs_tgsim || !dbinfo || n < 1 || n > CS_MAX || step_s < 1 || first_id < 1) {
        fprintf(stderr, "couriersim: --tgsim and --db are required; 1 <= --couriers <= %d; --step-s >= 1\n", CS_MAX);
        return 2;
    }
    signal(SIGTERM, cs_on_signal);
    signal(SIGINT, cs_on_signal);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0 || !(cs_curl = curl_easy_init())) return 1;
    PGconn *db = PQconnectdb(dbinfo);
    if (PQstatus(db) != CONNECTION_OK) {
        fprintf(stderr, "couriersim: database: %s", PQerrorMessage(db));
        PQfinish(db);
        return 1;
    }
    cs_courier_t *cs = calloc((size_t)n, sizeof *cs);
    if (!cs) return 1;
    for (int i = 0; i < n && !cs_stop; i++)
        if (cs_setup(db, &cs[i], i, first_id) != 0) {
            fprintf(stderr, "couriersim: could not set up courier %d (is tgsim at %s?)\n", i + 1, cs_tgsim);
            return 1;
        }
    printf("couriersim: %d couriers on shift, a point every %d s%s\n", n, step_s, work ? ", delivering" : "");
    fflush(stdout);
    time_t end = seconds > 0 ? time(NULL) + seconds : 0;
    while (!cs_stop && (!end || time(NULL) < end)) {
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (int i = 0; i < n && !cs_stop; i++) {
            cs_courier_t *c = &cs[i];
            if (PQstatus(db) != CONNECTION_OK) PQreset(db);
            if (work) cs_work(db, c);
            double metres = CS_SPEED_MPS * step_s;
            if (c->mode == CS_TO_CLIENT) {
                cs_step_toward(&c->at, c->target, metres);
            } else if (cs_step_toward(&c->at, cs_loops[c->loop].pts[c->next], metres)) {
                c->next = (c->next + 1) % cs_loops[c->loop].n;
            }
            cs_live(c, false);
        }
        struct timespec t1;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double spent = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        if (spent < step_s) usleep((useconds_t)((step_s - spent) * 1e6));
    }
    free(cs);
    PQfinish(db);
    curl_easy_cleanup(cs_curl);
    curl_global_cleanup();
    return 0;
}
