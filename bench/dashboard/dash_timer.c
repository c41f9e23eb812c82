/* dash_timer.c — latency sampler of bench/dashboard.sh.
 *
 * Purpose: p50/p99 of one repeated request, in milliseconds, printed as
 * "p50 <ms>\np99 <ms>\n":
 *   dash_timer http URL TOKEN N   GET URL with the cookie plus7_session=TOKEN
 *                                 over one keep-alive connection (libcurl);
 *                                 any status but 200 is an error
 *   dash_timer sql FILE FROM TO N the query in FILE with $1 = FROM and
 *                                 $2 = TO (timestamptz text) over one libpq
 *                                 connection ($PLUS7_DB)
 * Two unmeasured warm-up runs come first. Built by bench/dashboard.sh with
 * cc (libcurl, libpq).
 *
 * Exports: main. Threads: main only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <libpq-fe.h>

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static size_t sink(char *d, size_t s, size_t n, void *arg)
{
    (void)d, (void)arg;
    return s * n;
}

static void report(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp);
    printf("p50 %.2f\np99 %.2f\n", v[(n - 1) / 2], v[(int)(0.99 * (n - 1) + 0.5)]);
}

int main(int argc, char **argv)
{
    if (argc == 5 && strcmp(argv[1], "http") == 0) {
        int n = atoi(argv[4]);
        double *v = calloc((size_t)n, sizeof *v);
        char cookie[128];
        snprintf(cookie, sizeof cookie, "plus7_session=%s", argv[3]);
        CURL *c = curl_easy_init();
        curl_easy_setopt(c, CURLOPT_URL, argv[2]);
        curl_easy_setopt(c, CURLOPT_COOKIE, cookie);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
        for (int i = -2; i < n; i++) {
            double t0 = now_ms();
            long st = 0;
            if (curl_easy_perform(c) != CURLE_OK || (curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &st), st != 200)) {
                fprintf(stderr, "dash_timer: %s answered %ld\n", argv[2], st);
                return 1;
            }
            if (i >= 0) v[i] = now_ms() - t0;
        }
        curl_easy_cleanup(c);
        report(v, n);
        return 0;
    }
    if (argc == 6 && strcmp(argv[1], "sql") == 0) {
        int n = atoi(argv[5]);
        FILE *f = fopen(argv[2], "r");
        static char sql[65536];
        size_t len = f ? fread(sql, 1, sizeof sql - 1, f) : 0;
        if (f) fclose(f);
        sql[len] = '\0';
        PGconn *db = PQconnectdb(getenv("PLUS7_DB") ? getenv("PLUS7_DB") : "");
        if (PQstatus(db) != CONNECTION_OK) {
            fprintf(stderr, "dash_timer: %s", PQerrorMessage(db));
            return 1;
        }
        double *v = calloc((size_t)n, sizeof *v);
        const char *p[] = {argv[3], argv[4]};
        for (int i = -2; i < n; i++) {
            double t0 = now_ms();
            PGresult *r = PQexecParams(db, sql, 2, NULL, p, NULL, NULL, 0);
            if (PQresultStatus(r) != PGRES_TUPLES_OK) {
                fprintf(stderr, "dash_timer: %s", PQresultErrorMessage(r));
                return 1;
            }
            PQclear(r);
            if (i >= 0) v[i] = now_ms() - t0;
        }
        PQfinish(db);
        report(v, n);
        return 0;
    }
    fprintf(stderr, "usage: dash_timer http URL TOKEN N | sql FILE FROM TO N\n");
    return 2;
}
