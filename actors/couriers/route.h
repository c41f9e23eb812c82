/* route.h — a courier's visiting order, distances and arrival times.
 *
 * Purpose: pure geometry for the courier module. The day's deliveries are
 * visited slot by slot (an earlier window first, always); inside a window
 * the order starts as the nearest-neighbour tour from where the courier is
 * (or from the last stop of the previous window) and is then improved by
 * 2-opt on that open path. Distances are great-circle (haversine) metres:
 * city blocks make real roads longer, which ROUTE_DETOUR accounts for in
 * arrival times. Stops without coordinates keep their given order at the
 * end of their window.
 *
 * Exports: route_stop_t, route_distance_m, route_plan, route_length_m,
 * route_eta_s, route_map_link.
 * Threads: any (no shared state).
 */
#ifndef PLUS7_ROUTE_H
#define PLUS7_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

#define ROUTE_MAX_STOPS 256
#define ROUTE_SPEED_KMH 25.0     /* average city speed of a courier by car */
#define ROUTE_DETOUR 1.3         /* road distance / straight-line distance */
#define ROUTE_STOP_S 300         /* time spent at each earlier stop */

typedef struct route_stop {
    double lat, lon;
    bool has_point;
    int slot_minute;             /* the window's start, minutes after midnight */
} route_stop_t;

/* Great-circle distance in metres. */
double route_distance_m(double lat1, double lon1, double lat2, double lon2);

/* Fill order[0..n) with the indexes of stops[] in visiting order, starting
 * at (lat, lon) (has_start false: from the first stop of each window).
 * n is capped at ROUTE_MAX_STOPS. Returns RT_OK or RT_EINVAL (n < 0). */
int route_plan(const route_stop_t *stops, int n, bool has_start, double lat, double lon, int *order);

/* Length in metres of visiting stops in `order` from (lat, lon) (has_start
 * false: from the first stop); stops without a point add nothing. */
double route_length_m(const route_stop_t *stops, const int *order, int n, bool has_start, double lat,
                      double lon);

/* Seconds to drive `metres` of straight-line distance (detour included)
 * plus `stops_before` earlier stops. */
int route_eta_s(double metres, int stops_before);

/* A link opening the whole route in a map app: from the courier's position
 * (when has_start) through every stop with a point, in `order`. Writes at
 * most `size` bytes (NUL included); returns RT_OK, RT_ENOTFOUND when no stop
 * has a point, RT_EINVAL when it does not fit. */
int route_map_link(const route_stop_t *stops, const int *order, int n, bool has_start, double lat,
                   double lon, char *buf, size_t size);

#endif
