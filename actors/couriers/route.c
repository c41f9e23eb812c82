/* route.c — a courier's visiting order (see route.h).
 *
 * Per window: nearest neighbour from the current position, then 2-opt on
 * the open path (the start is fixed, the end is free): reversing the
 * segment order[i..j] changes exactly two edges, (prev_i → i) and
 * (j → next_j), the last of which does not exist when j is the path's end.
 * Windows hold a handful of stops, so O(n²) per pass is nothing.
 *
 * Exports: see route.h. Threads: any.
 */
#include "route.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "rt.h"

#define ROUTE_EARTH_M 6371008.8
#define ROUTE_DEG (M_PI / 180.0)

double route_distance_m(double lat1, double lon1, double lat2, double lon2)
{
    double dlat = (lat2 - lat1) * ROUTE_DEG, dlon = (lon2 - lon1) * ROUTE_DEG;
    double a = sin(dlat / 2) * sin(dlat / 2) +
               cos(lat1 * ROUTE_DEG) * cos(lat2 * ROUTE_DEG) * sin(dlon / 2) * sin(dlon / 2);
    if (a > 1.0) a = 1.0;
    return 2.0 * ROUTE_EARTH_M * asin(sqrt(a));
}

/* Distance between two points of the path; index -1 is the start. */
typedef struct route_pt { double lat, lon; } route_pt_t;

static double route_d(route_pt_t a, route_pt_t b) { return route_distance_m(a.lat, a.lon, b.lat, b.lon); }

/* 2-opt on path[0..n) of points, with an optional fixed start `s`. */
static void route_two_opt(route_pt_t *pts, int *idx, int n, bool has_start, route_pt_t s)
{
    bool improved = true;
    for (int pass = 0; improved && pass < 64; pass++) {
        improved = false;
        for (int i = has_start ? 0 : 1; i < n - 1; i++) {
            route_pt_t before = i == 0 ? s : pts[i - 1];
            for (int j = i + 1; j < n; j++) {
                double old_len = route_d(before, pts[i]), new_len = route_d(before, pts[j]);
                if (j + 1 < n) {
                    old_len += route_d(pts[j], pts[j + 1]);
                    new_len += route_d(pts[i], pts[j + 1]);
                }
                if (new_len + 1e-6 < old_len) {
                    for (int a = i, b = j; a < b; a++, b--) {
                        route_pt_t tp = pts[a]; pts[a] = pts[b]; pts[b] = tp;
                        int ti = idx[a]; idx[a] = idx[b]; idx[b] = ti;
                    }
                    improved = true;
                }
            }
        }
    }
}

int route_plan(const route_stop_t *stops, int n, bool has_start, double lat, double lon, int *order)
{
    if (n < 0) return RT_EINVAL;
    if (n > ROUTE_MAX_STOPS) n = ROUTE_MAX_STOPS;
    bool used[ROUTE_MAX_STOPS] = {false};
    route_pt_t cur = {lat, lon};
    bool have_cur = has_start;
    int out = 0;
    while (out < n) {
        /* the earliest window not yet visited */
        int slot = 0;
        bool found = false;
        for (int i = 0; i < n; i++)
            if (!used[i] && (!found || stops[i].slot_minute < slot)) { slot = stops[i].slot_minute; found = true; }
        int first = out;
        route_pt_t pts[ROUTE_MAX_STOPS];
        int npts = 0;
        route_pt_t start = cur;
        bool group_start = have_cur;
        /* nearest neighbour among the window's stops with a point */
        for (;;) {
            int best = -1;
            double best_d = 0;
            for (int i = 0; i < n; i++) {
                if (used[i] || stops[i].slot_minute != slot || !stops[i].has_point) continue;
                double d = have_cur ? route_distance_m(cur.lat, cur.lon, stops[i].lat, stops[i].lon) : 0;
                if (best < 0 || d < best_d) { best = i; best_d = d; }
            }
            if (best < 0) break;
            used[best] = true;
            order[out++] = best;
            cur = (route_pt_t){stops[best].lat, stops[best].lon};
            pts[npts++] = cur;
            have_cur = true;
        }
        if (npts > 2 || (npts == 2 && group_start)) {
            route_two_opt(pts, order + first, npts, group_start, start);
            cur = pts[npts - 1];
        }
        /* then the window's stops without a point, in the given order */
        for (int i = 0; i < n; i++)
            if (!used[i] && stops[i].slot_minute == slot) { used[i] = true; order[out++] = i; }
    }
    return RT_OK;
}

double route_length_m(const route_stop_t *stops, const int *order, int n, bool has_start, double lat,
                      double lon)
{
    double total = 0;
    bool have = has_start;
    route_pt_t cur = {lat, lon};
    for (int k = 0; k < n; k++) {
        const route_stop_t *s = &stops[order[k]];
        if (!s->has_point) continue;
        if (have) total += route_distance_m(cur.lat, cur.lon, s->lat, s->lon);
        cur = (route_pt_t){s->lat, s->lon};
        have = true;
    }
    return total;
}

int route_eta_s(double metres, int stops_before)
{
    double drive_s = metres * ROUTE_DETOUR / (ROUTE_SPEED_KMH * 1000.0 / 3600.0);
    return (int)lround(drive_s) + (stops_before > 0 ? stops_before : 0) * ROUTE_STOP_S;
}

int route_map_link(const route_stop_t *stops, const int *order, int n, bool has_start, double lat,
                   double lon, char *buf, size_t size)
{
    /* Yandex Maps builds a route through "lat,lon~lat,lon~…" (rtext). */
    size_t len = (size_t)snprintf(buf, size, "https://yandex.ru/maps/?rtt=auto&rtext=");
    if (len >= size) return RT_EINVAL;
    int points = 0;
    if (has_start) {
        len += (size_t)snprintf(buf + len, size - len, "%.6f,%.6f", lat, lon);
        if (len >= size) return RT_EINVAL;
    }
    for (int k = 0; k < n; k++) {
        const route_stop_t *s = &stops[order[k]];
        if (!s->has_point) continue;
        len += (size_t)snprintf(buf + len, size - len, "%s%.6f,%.6f", (has_start || points) ? "~" : "", s->lat,
                                s->lon);
        if (len >= size) return RT_EINVAL;
        points++;
    }
    return points ? RT_OK : RT_ENOTFOUND;
}
