/* assign_route.c — automatic assignment time and route lengths (bench "couriers").
 *
 * Purpose: with today's deliveries and couriers on shift already loaded
 * (bench/couriers/load_assign.sql), times courier_auto_assign(CAPACITY,
 * BATCH) called over libpq the way the dispatcher calls it (one statement,
 * BATCH deliveries at most, repeated until a call assigns nothing), then
 * plans every courier's day with route_plan() (slot by slot, nearest
 * neighbour from the courier's position improved by 2-opt; the code the
 * courier's «Доставки на сегодня» runs) and with plain nearest neighbour
 * (the baseline, written here: same windows, same start), and sums both
 * lengths with route_length_m().
 *
 * Usage: assign_route CONNINFO CAPACITY BATCH
 * Output (stdout, "key value" lines): calls, assigned, unassigned,
 * assign_s, call_p50_ms, call_max_ms, couriers, stops, route_km, nn_km,
 * plan_ms (route_plan's CPU time over all couriers).
 * Threads: main only (synchronous libpq).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "bench_util.h"
#include "route.h"

static PGresult *q(PGconn *db, const char *sql, int n, const char *const *params)
{
    PGresult *r = PQexecParams(db, sql, n, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK && PQresultStatus(r) != PGRES_COMMAND_OK) {
        fprintf(stderr, "assign_route: %s", PQresultErrorMessage(r));
        PQclear(r);
        return NULL;
    }
    return r;
}

/* Nearest neighbour only, window by window, from (lat, lon): the baseline. */
static void nn_plan(const route_stop_t *s, int n, double lat, double lon, int *order)
{
    bool used[ROUTE_MAX_STOPS] = {false};
    double clat = lat, clon = lon;
    for (int k = 0; k < n; k++) {
        int best = -1, win = -1;
        double bd = 0;
        for (int i = 0; i < n; i++)      /* the earliest window with a stop left */
            if (!used[i] && (win < 0 || s[i].slot_minute < win)) win = s[i].slot_minute;
        for (int i = 0; i < n; i++) {
            if (used[i] || s[i].slot_minute != win) continue;
            double d = route_distance_m(clat, clon, s[i].lat, s[i].lon);
            if (best < 0 || d < bd) best = i, bd = d;
        }
        used[best] = true;
        order[k] = best;
        clat = s[best].lat;
        clon = s[best].lon;
    }
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: assign_route CONNINFO CAPACITY BATCH\n");
        return 2;
    }
    PGconn *db = PQconnectdb(argv[1]);
    if (PQstatus(db) != CONNECTION_OK) {
        fprintf(stderr, "assign_route: %s", PQerrorMessage(db));
        return 1;
    }
    const char *ap[] = {argv[2], argv[3]};
    uint64_t times[1024];
    int calls = 0;
    long assigned = 0;
    uint64_t t_all = bench_now_ns();
    while (calls < 1024) {
        uint64_t t0 = bench_now_ns();
        PGresult *r = q(db, "SELECT courier_auto_assign($1::int, $2::int)", 2, ap);
        if (!r) return 1;
        times[calls++] = bench_now_ns() - t0;
        long n = strtol(PQgetvalue(r, 0, 0), NULL, 10);
        PQclear(r);
        fprintf(stderr, "assign_route: call %d assigned %ld in %.0f ms\n", calls, n, times[calls - 1] / 1e6);
        assigned += n;
        if (n == 0) break;
    }
    double assign_s = (double)(bench_now_ns() - t_all) / 1e9;
    PGresult *r = q(db, "SELECT count(*) FROM deliveries WHERE status = 'ordered' AND stage = 'new'"
                        " AND slot_date = msk_today()", 0, NULL);
    if (!r) return 1;
    long unassigned = strtol(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    bench_sort_u64(times, (size_t)calls);

    r = q(db, "SELECT c.id, c.lat, c.lon, d.lat, d.lon,"
              "       extract(hour FROM d.slot_start)::int * 60 + extract(minute FROM d.slot_start)::int"
              "  FROM couriers c JOIN deliveries d ON d.courier_id = c.id"
              " WHERE d.status = 'ordered' AND d.stage = 'assigned' AND d.slot_date = msk_today()"
              " ORDER BY c.id, d.slot_start, d.id", 0, NULL);
    if (!r) return 1;
    int rows = PQntuples(r), couriers = 0, stops = 0;
    double route_m = 0, nn_m = 0;
    uint64_t plan_ns = 0;
    route_stop_t s[ROUTE_MAX_STOPS];
    int order[ROUTE_MAX_STOPS], nn[ROUTE_MAX_STOPS];
    for (int i = 0; i < rows;) {
        const char *cid = PQgetvalue(r, i, 0);
        double lat = strtod(PQgetvalue(r, i, 1), NULL), lon = strtod(PQgetvalue(r, i, 2), NULL);
        int n = 0;
        for (; i < rows && strcmp(PQgetvalue(r, i, 0), cid) == 0; i++) {
            if (n == ROUTE_MAX_STOPS) continue;
            s[n++] = (route_stop_t){.lat = strtod(PQgetvalue(r, i, 3), NULL),
                                    .lon = strtod(PQgetvalue(r, i, 4), NULL),
                                    .has_point = true,
                                    .slot_minute = atoi(PQgetvalue(r, i, 5))};
        }
        uint64_t t0 = bench_now_ns();
        if (route_plan(s, n, true, lat, lon, order) != 0) return 1;
        plan_ns += bench_now_ns() - t0;
        nn_plan(s, n, lat, lon, nn);
        route_m += route_length_m(s, order, n, true, lat, lon);
        nn_m += route_length_m(s, nn, n, true, lat, lon);
        couriers++;
        stops += n;
    }
    PQclear(r);
    PQfinish(db);
    printf("calls %d\nassigned %ld\nunassigned %ld\nassign_s %.3f\n", calls, assigned, unassigned, assign_s);
    printf("call_p50_ms %.1f\ncall_max_ms %.1f\n", bench_pct_u64(times, (size_t)calls, 50) / 1e6,
           times[calls - 1] / 1e6);
    printf("couriers %d\nstops %d\nroute_km %.3f\nnn_km %.3f\nplan_ms %.3f\n", couriers, stops, route_m / 1000,
           nn_m / 1000, plan_ns / 1e6);
    return 0;
}
