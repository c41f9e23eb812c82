/* geo.c — polygons and distances (see geo.h).
 * Exports: geo_polygon_parse, geo_polygon_contains, geo_distance_m.
 * Threads: any.
 */
#include "geo.h"

#include <math.h>
#include <stdlib.h>

#include "rt.h"

int geo_polygon_parse(const char *text, geo_point_t *pts, int max)
{
    int n = 0;
    const char *p = text;
    if (!p) return RT_EINVAL;
    while (*p) {
        char *end;
        double lat = strtod(p, &end);
        if (end == p || *end != ',') return RT_EINVAL;
        p = end + 1;
        double lon = strtod(p, &end);
        if (end == p || (*end && *end != ';')) return RT_EINVAL;
        if (!isfinite(lat) || !isfinite(lon) || fabs(lat) > 90 || fabs(lon) > 180 || n >= max) return RT_EINVAL;
        pts[n++] = (geo_point_t){lat, lon};
        p = *end ? end + 1 : end;
    }
    return n >= 3 ? n : RT_EINVAL;
}

bool geo_polygon_contains(const geo_point_t *pts, int n, geo_point_t p)
{
    bool inside = false;
    for (int i = 0, j = n - 1; i < n; j = i++) {
        geo_point_t a = pts[i], b = pts[j];
        /* on the edge: collinear and within the segment's box */
        double cross = (b.lon - a.lon) * (p.lat - a.lat) - (b.lat - a.lat) * (p.lon - a.lon);
        if (fabs(cross) < 1e-12 && p.lat >= fmin(a.lat, b.lat) && p.lat <= fmax(a.lat, b.lat) &&
            p.lon >= fmin(a.lon, b.lon) && p.lon <= fmax(a.lon, b.lon))
            return true;
        if ((a.lat > p.lat) != (b.lat > p.lat) &&
            p.lon < (b.lon - a.lon) * (p.lat - a.lat) / (b.lat - a.lat) + a.lon)
            inside = !inside;
    }
    return inside;
}

double geo_distance_m(geo_point_t a, geo_point_t b)
{
    const double r = 6371008.8, rad = M_PI / 180.0;
    double dlat = (b.lat - a.lat) * rad, dlon = (b.lon - a.lon) * rad;
    double h = sin(dlat / 2) * sin(dlat / 2) + cos(a.lat * rad) * cos(b.lat * rad) * sin(dlon / 2) * sin(dlon / 2);
    return 2 * r * asin(fmin(1.0, sqrt(h)));
}
