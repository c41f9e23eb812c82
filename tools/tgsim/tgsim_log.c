/* tgsim_log.c — the emulator's stderr logger (see tgsim_log.h).
 *
 * Exports: tgsim_log_write, tgsim_log_verbose. Threads: any.
 */
#include "tgsim_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int tgsim_log_verbose;

static void tgsim_log_mask(char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        if (s[i] < '0' || s[i] > '9') { i++; continue; }
        size_t j = i;
        while (j < n && s[j] >= '0' && s[j] <= '9') j++;
        if (j - i >= 10 && j - i <= 15)
            for (size_t k = i + 1; k < j - 4; k++) s[k] = '*';
        i = j;
    }
}

void tgsim_log_write(const char *level, const char *file, int line, const char *event,
                     const char *fmt, ...)
{
    char buf[2048];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    const char *base = strrchr(file, '/');
    base = base ? base + 1 : file;
    int n = snprintf(buf, sizeof buf, "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s at=%s:%d event=%s ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     ts.tv_nsec / 1000000, level, base, line, event);
    if (n < 0 || (size_t)n >= sizeof buf) return;
    size_t head = (size_t)n;
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(buf + head, sizeof buf - head - 1, fmt, ap);
    va_end(ap);
    size_t len = head + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof buf - 2) len = sizeof buf - 2;
    tgsim_log_mask(buf + head, len - head);
    buf[len++] = '\n';
    ssize_t w = write(2, buf, len);
    (void)w;
}
