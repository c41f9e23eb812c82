/* cmd_seed.c — `plus7d seed`: demo delivery data (idempotent).
 *
 * Purpose: fill an empty installation with what the delivery form needs to
 * be tried at once: courier zones around Donetsk, Makeyevka, Luhansk,
 * Mariupol and Melitopol (approximate city outlines as simple polygons),
 * pickup points in those cities (and one in Gorlovka, which has no courier
 * zone), tariffs per zone and weight band (0–1, 1–5, 5–15, 15–30 kg, in
 * kopecks) and three daily windows per zone (10–14, 14–18, 18–22, 20
 * deliveries each). `./dev up` runs it after `plus7d migrate`.
 * `--demo-orders` also adds 400 demo orders over the last 30 days
 * (dash_demo_orders, sql/022_dash_demo.sql) so every dashboard chart has
 * data; existing postings are left alone.
 *
 * Idempotent: every row is keyed (zone name; city + pickup point name;
 * zone + band start; zone + window start) and inserted only when absent,
 * in one transaction, so running it twice gives the same rows and values
 * an administrator changed since are kept.
 *
 * Exports: app_cmd_seed.
 * Threads: main thread; no runtime is started (blocking libpq is fine).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "commands.h"

typedef struct seed_zone {
    const char *name, *city, *polygon;
    long long price[4];   /* kopecks for the bands below */
} seed_zone_t;

typedef struct seed_pickup {
    const char *city, *name, *address, *lat, *lon;
} seed_pickup_t;

static const int seed_band_from[4] = {0, 1000, 5000, 15000};
static const int seed_band_to[4] = {1000, 5000, 15000, 30000};

static const seed_zone_t seed_zones[] = {
    {"Донецк", "Донецк",
     "48.105,37.760;48.090,37.840;48.060,37.880;48.020,37.895;47.980,37.905;47.930,37.890;"
     "47.900,37.830;47.920,37.710;47.940,37.620;47.980,37.580;48.020,37.640;48.060,37.680;48.090,37.700",
     {25000, 35000, 50000, 80000}},
    {"Макеевка", "Макеевка",
     "48.100,37.900;48.110,38.000;48.080,38.100;48.030,38.110;47.990,38.060;47.970,37.980;"
     "47.980,37.915;48.020,37.905;48.060,37.890",
     {30000, 40000, 55000, 85000}},
    {"Луганск", "Луганск",
     "48.630,39.250;48.635,39.360;48.600,39.420;48.550,39.430;48.500,39.380;48.490,39.280;"
     "48.520,39.200;48.580,39.190",
     {25000, 35000, 50000, 80000}},
    {"Мариуполь", "Мариуполь",
     "47.170,37.470;47.170,37.580;47.140,37.660;47.100,37.700;47.060,37.670;47.050,37.580;"
     "47.040,37.500;47.060,37.430;47.120,37.420",
     {30000, 40000, 60000, 90000}},
    {"Мелитополь", "Мелитополь",
     "46.890,35.330;46.890,35.400;46.870,35.430;46.820,35.420;46.800,35.380;46.810,35.330;46.850,35.310",
     {35000, 45000, 65000, 95000}},
};

static const seed_pickup_t seed_pickups[] = {
    {"Донецк", "ПВЗ «Центр»", "г. Донецк, ул. Артёма, 130", "48.0087", "37.8040"},
    {"Донецк", "ПВЗ на Ильича", "г. Донецк, пр. Ильича, 19", "47.9975", "37.8390"},
    {"Донецк", "ПВЗ на Киевском", "г. Донецк, пр. Киевский, 48", "48.0430", "37.7880"},
    {"Макеевка", "ПВЗ «Центральный»", "г. Макеевка, ул. Ленина, 45", "48.0440", "37.9640"},
    {"Макеевка", "ПВЗ «Зелёный»", "г. Макеевка, пр. 250-летия Донбасса, 74", "48.0560", "37.9900"},
    {"Луганск", "ПВЗ «Центр»", "г. Луганск, ул. Советская, 76", "48.5690", "39.3180"},
    {"Луганск", "ПВЗ на Оборонной", "г. Луганск, ул. Оборонная, 2", "48.5620", "39.3330"},
    {"Мариуполь", "ПВЗ «Центральный»", "г. Мариуполь, пр. Мира, 80", "47.0990", "37.5470"},
    {"Мариуполь", "ПВЗ на Металлургов", "г. Мариуполь, пр. Металлургов, 62", "47.1120", "37.5580"},
    {"Мелитополь", "ПВЗ «Центр»", "г. Мелитополь, пр. Богдана Хмельницкого, 40", "46.8470", "35.3670"},
    {"Горловка", "ПВЗ «Центральный»", "г. Горловка, пр. Победы, 58", "48.3000", "38.0500"},
};

static const char *const seed_hours = "пн–пт 9:00–20:00, сб–вс 10:00–18:00";
static const char *const seed_slots[][2] = {{"10:00", "14:00"}, {"14:00", "18:00"}, {"18:00", "22:00"}};
static const char *const seed_slot_capacity = "20";

#define SEED_NZONES (sizeof seed_zones / sizeof seed_zones[0])
#define SEED_NPICKUPS (sizeof seed_pickups / sizeof seed_pickups[0])

/* Run one statement; on failure print it and return false. *added grows
 * by the rows it inserted. */
static bool seed_exec(PGconn *db, const char *sql, int n, const char *const *params, long *added)
{
    PGresult *r = PQexecParams(db, sql, n, NULL, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(r);
    bool ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
    if (!ok) app_fail(APP_EXIT_RUNTIME, "seed: %s", PQresultErrorMessage(r));
    else if (added) *added += atol(PQcmdTuples(r));
    PQclear(r);
    return ok;
}

static bool seed_all(PGconn *db, long *added)
{
    char from[16], to[16], price[24];
    for (size_t z = 0; z < SEED_NZONES; z++) {
        const seed_zone_t *zn = &seed_zones[z];
        const char *zp[] = {zn->name, zn->city, zn->polygon};
        if (!seed_exec(db, "INSERT INTO delivery_zones (name, city, polygon) VALUES ($1, $2, $3)"
                           " ON CONFLICT (name) DO NOTHING", 3, zp, added))
            return false;
        for (int b = 0; b < 4; b++) {
            snprintf(from, sizeof from, "%d", seed_band_from[b]);
            snprintf(to, sizeof to, "%d", seed_band_to[b]);
            snprintf(price, sizeof price, "%lld", zn->price[b]);
            const char *tp[] = {zn->name, from, to, price};
            if (!seed_exec(db, "INSERT INTO tariffs (zone_id, weight_from_g, weight_to_g, price_kopecks)"
                               " SELECT id, $2::int, $3::int, $4::bigint FROM delivery_zones WHERE name = $1"
                               " ON CONFLICT (zone_id, weight_from_g) DO NOTHING", 4, tp, added))
                return false;
        }
        for (size_t s = 0; s < sizeof seed_slots / sizeof seed_slots[0]; s++) {
            const char *sp[] = {zn->name, seed_slots[s][0], seed_slots[s][1], seed_slot_capacity};
            if (!seed_exec(db, "INSERT INTO delivery_slots (zone_id, start_time, end_time, capacity)"
                               " SELECT id, $2::time, $3::time, $4::int FROM delivery_zones WHERE name = $1"
                               " ON CONFLICT (zone_id, start_time) DO NOTHING", 4, sp, added))
                return false;
        }
    }
    for (size_t i = 0; i < SEED_NPICKUPS; i++) {
        const seed_pickup_t *p = &seed_pickups[i];
        const char *pp[] = {p->city, p->name, p->address, p->lat, p->lon, seed_hours};
        if (!seed_exec(db, "INSERT INTO pickup_points (zone_id, city, name, address, lat, lon, hours)"
                           " VALUES ((SELECT id FROM delivery_zones WHERE city = $1 ORDER BY id LIMIT 1),"
                           "         $1, $2, $3, $4::float8, $5::float8, $6)"
                           " ON CONFLICT (city, name) DO NOTHING", 6, pp, added))
            return false;
    }
    return true;
}

static int cmd_seed_run(const app_config_t *cfg, int argc, char **argv)
{
    bool demo_orders = argc == 1 && strcmp(argv[0], "--demo-orders") == 0;   /* sql/022_dash_demo.sql */
    if (argc != 0 && !demo_orders) return app_fail(APP_EXIT_USAGE, "seed: usage: plus7d seed [--demo-orders]");
    int rc = APP_EXIT_RUNTIME;
    PGconn *db = app_db_connect(cfg->db, "seed", &rc);
    if (!db) return rc;
    PGresult *r = PQexec(db, "SELECT to_regclass('delivery_zones') IS NOT NULL");
    bool have = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    PQclear(r);
    if (!have) {
        PQfinish(db);
        return app_fail(APP_EXIT_RUNTIME, "seed: no delivery tables in the database: run plus7d migrate first");
    }
    long added = 0;
    bool ok = seed_exec(db, "BEGIN", 0, NULL, NULL) && seed_all(db, &added) && seed_exec(db, "COMMIT", 0, NULL, NULL);
    if (!ok) {
        PQclear(PQexec(db, "ROLLBACK"));
        PQfinish(db);
        return APP_EXIT_RUNTIME;
    }
    if (demo_orders) {   /* the dashboard's demo orders (once: existing postings are kept) */
        r = PQexec(db, "SELECT dash_demo_orders(400)");
        ok = PQresultStatus(r) == PGRES_TUPLES_OK;
        if (ok) printf("seed: %s demo orders over the last 30 days\n", PQgetvalue(r, 0, 0));
        else app_fail(APP_EXIT_RUNTIME, "seed: demo orders: %s", PQresultErrorMessage(r));
        PQclear(r);
        if (!ok) {
            PQfinish(db);
            return APP_EXIT_RUNTIME;
        }
    }
    PQfinish(db);
    printf("seed: %zu delivery zones, %zu pickup points, %zu tariffs, %zu delivery slots (%ld new rows)\n",
           SEED_NZONES, SEED_NPICKUPS, SEED_NZONES * 4, SEED_NZONES * (sizeof seed_slots / sizeof seed_slots[0]),
           added);
    return APP_EXIT_OK;
}

const app_command_t app_cmd_seed = {
    "seed", "[--demo-orders]",
    "load demo delivery zones, pickup points, tariffs and time slots (idempotent); --demo-orders adds 400 demo orders once",
    cmd_seed_run,
};
