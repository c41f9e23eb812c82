/* geo.h — delivery-zone geometry: point in polygon, distances.
 *
 * Zones are polygons of (lat, lon) vertices stored as text
 * "lat,lon;lat,lon;..." (the dashboard edits them; PostGIS is not needed
 * for a few dozen zones). Exports: geo_point_t, geo_polygon_parse,
 * geo_polygon_contains, geo_distance_m. Threads: any (pure).
 */
#ifndef PLUS7_GEO_H
#define PLUS7_GEO_H

#include <stdbool.h>

typedef struct geo_point {
    double lat, lon;
} geo_point_t;

#define GEO_POLYGON_MAX 256

/* Parse "lat,lon;lat,lon;..." (3..GEO_POLYGON_MAX vertices) into pts.
 * Returns the vertex count, or RT_EINVAL. */
int geo_polygon_parse(const char *text, geo_point_t *pts, int max);

/* Even-odd ray casting; points on an edge count as inside. */
bool geo_polygon_contains(const geo_point_t *pts, int n, geo_point_t p);

/* Great-circle distance in metres (haversine, mean Earth radius). */
double geo_distance_m(geo_point_t a, geo_point_t b);

#endif
