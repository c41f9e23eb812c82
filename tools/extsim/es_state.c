/* es_state.c — the configuration, the shared lock, the clock and logging.
 *
 * Exports: see es_state.h. Threads: any.
 */
#include "es_state.h"

#include <ctype.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

es_config_t es_cfg;
es_config_t es_cfg_startup;

static pthread_mutex_t es_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t es_cv;
static pthread_once_t es_cv_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t es_log_mu = PTHREAD_MUTEX_INITIALIZER;

static void es_cv_init(void)
{
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(&es_cv, &a);
    pthread_condattr_destroy(&a);
}

void es_lock(void) { pthread_mutex_lock(&es_mu); }
void es_unlock(void) { pthread_mutex_unlock(&es_mu); }

int es_wait_until(int64_t deadline_mono_ms)
{
    pthread_once(&es_cv_once, es_cv_init);
    if (es_mono_ms() >= deadline_mono_ms) return 1;
    struct timespec ts = {.tv_sec = deadline_mono_ms / 1000,
                          .tv_nsec = (long)(deadline_mono_ms % 1000) * 1000000L};
    int rc = pthread_cond_timedwait(&es_cv, &es_mu, &ts);
    return rc == 0 ? 0 : 1;
}

void es_broadcast(void)
{
    pthread_once(&es_cv_once, es_cv_init);
    pthread_cond_broadcast(&es_cv);
}

int64_t es_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t es_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void es_iso_time(int64_t ms, char out[32])
{
    time_t s = (time_t)(ms / 1000);
    int frac = (int)(ms % 1000);
    if (frac < 0) { frac += 1000; s -= 1; }
    struct tm tm;
    gmtime_r(&s, &tm);
    size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    if (frac) snprintf(out + n, 32 - n, ".%03dZ", frac);
    else snprintf(out + n, 32 - n, "Z");
}

static int es_digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)**p)) return -1;
        v = v * 10 + (**p - '0');
        (*p)++;
    }
    *out = v;
    return 0;
}

int es_parse_iso(const char *s, int64_t *ms)
{
    if (!s) return -1;
    const char *p = s;
    int y, mo, d, h = 0, mi = 0, sec = 0, frac = 0;
    if (es_digits(&p, 4, &y) || *p++ != '-' || es_digits(&p, 2, &mo) || *p++ != '-' ||
        es_digits(&p, 2, &d))
        return -1;
    if (*p == 'T' || *p == 't' || *p == ' ') {
        p++;
        if (es_digits(&p, 2, &h) || *p++ != ':' || es_digits(&p, 2, &mi)) return -1;
        if (*p == ':') {
            p++;
            if (es_digits(&p, 2, &sec)) return -1;
            if (*p == '.') {
                p++;
                int scale = 100, any = 0;
                while (isdigit((unsigned char)*p)) {
                    frac += (*p - '0') * scale;
                    scale /= 10;
                    p++;
                    any = 1;
                }
                if (!any) return -1;
            }
        }
    }
    int off = 0;
    if (*p == 'Z' || *p == 'z') p++;
    else if (*p == '+' || *p == '-') {
        int sign = *p++ == '-' ? -1 : 1, oh, om = 0;
        if (es_digits(&p, 2, &oh)) return -1;
        if (*p == ':') p++;
        if (isdigit((unsigned char)*p) && es_digits(&p, 2, &om)) return -1;
        off = sign * (oh * 60 + om) * 60;
    }
    if (*p) return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return -1;
    struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d,
                    .tm_hour = h, .tm_min = mi, .tm_sec = sec};
    time_t t = timegm(&tm);
    *ms = ((int64_t)t - off) * 1000 + frac;
    return 0;
}

/* Mask runs of 10..15 digits (optionally after '+'): keep the first digit and
 * the last four. */
static void es_mask_phones(char *s)
{
    for (char *p = s; *p;) {
        if (!isdigit((unsigned char)*p)) { p++; continue; }
        char *q = p;
        while (isdigit((unsigned char)*q)) q++;
        size_t n = (size_t)(q - p);
        if (n >= 10 && n <= 15)
            for (size_t i = 1; i + 4 < n; i++) p[i] = '*';
        p = q;
    }
}

void es_log(const char *level, const char *event, const char *fmt, ...)
{
    char line[2048], ts[32];
    es_iso_time(es_now_ms(), ts);
    int n = snprintf(line, sizeof line, "ts=%s level=%s app=extsim event=%s ", ts, level, event);
    if (n < 0 || (size_t)n >= sizeof line) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    va_end(ap);
    es_mask_phones(line + n);
    pthread_mutex_lock(&es_log_mu);
    fprintf(stderr, "%s\n", line);
    pthread_mutex_unlock(&es_log_mu);
}
