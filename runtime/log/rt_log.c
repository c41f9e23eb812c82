/* rt_log.c — levelled logfmt logging with an asynchronous writer thread.
 *
 * Purpose: implements runtime/rt_log.h. A caller formats its line on its own
 * thread (timestamp, level, file:line, event, fields), masks phone numbers in
 * it and copies the bytes into one bounded byte ring under a mutex held only
 * for the memcpy. A single writer thread ("rt-log") drains the ring to the
 * file descriptor with write(2) outside the lock, so a slow terminal or disk
 * stalls nobody: when the ring is full the line is dropped and counted.
 *
 * Exports: rt_log_init, rt_log_shutdown, rt_log_set_level, rt_log_level_parse,
 * rt_log_write, rt_log_dropped, rt_log_mask_phones, rt_log_value.
 *
 * Threads: rt_log_init/rt_log_shutdown on the main thread; rt_log_write,
 * rt_log_set_level, rt_log_dropped, rt_log_mask_phones and rt_log_value on
 * any thread. The
 * writer thread is private to this file. Before rt_log_init and after
 * rt_log_shutdown lines are written synchronously to stderr.
 *
 * Ring: bytes [tail, head) (monotonic 64-bit positions, index = pos % cap)
 * are queued. Producers append at head under `mu`; the writer snapshots
 * head under `mu`, writes [tail, head) without the lock (producers never
 * touch that range because they only write into free space), then advances
 * tail under `mu`. Lines never interleave: each is appended whole.
 */
#include "rt_log.h"
#include "rt.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define RT_LOG_RING_BYTES (1u << 20)  /* 1 MiB of queued text */
#define RT_LOG_LINE_MAX 8192          /* longer lines are truncated */

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;        /* writer waits here for data or stop */
    pthread_t thread;
    char *ring;
    uint64_t cap, head, tail; /* guarded by mu */
    bool running;             /* guarded by mu: async mode on */
    bool stopping;            /* guarded by mu */
    bool writer_waiting;      /* guarded by mu */
    int fd;
} g_log = {
    .mu = PTHREAD_MUTEX_INITIALIZER,
    .cv = PTHREAD_COND_INITIALIZER,
    .fd = 2,
};

/* relaxed: the level is an independent flag; a thread seeing the old level
 * for a moment after rt_log_set_level only logs or skips one extra line. */
static atomic_int g_log_level = RT_LOG_INFO;
/* relaxed: a statistic read by /metrics; no other data depends on it. */
static atomic_ulong g_log_dropped;

static const char *const g_level_names[] = {"debug", "info", "warn", "error"};

/* ---- phone masking -------------------------------------------------------- */

static bool log_is_word(unsigned char c)
{
    return isalnum(c) || c == '_';
}

static bool log_is_phone_sep(unsigned char c)
{
    return c == ' ' || c == '-' || c == '(' || c == ')';
}

/* Does a run of `n` digits starting with digit `first` look like a phone?
 * 11..15 digits (E.164 with country code, or 8XXXXXXXXXX) not starting with
 * 0; 10 digits (a Russian number without its prefix, a US number) unless it
 * starts with 1 or 0 — ten digits starting with 1 are Unix times in seconds. */
static bool log_phone_len(size_t n, char first)
{
    if (first == '0') return false;
    if (n >= 11 && n <= 15) return true;
    return n == 10 && first != '1';
}

/* Replace the digits at positions pos[1 .. n-5] with '*'. */
static void log_mask_positions(char *s, const size_t *pos, size_t n)
{
    for (size_t k = 1; k + 4 < n; k++) s[pos[k]] = '*';
}

/* Contract (rt_log.h): masks phone-like digit runs in s[0..len) in place,
 * keeping the first digit (after an optional '+') and the last four; the
 * length never changes. Recognised: '+' followed by 10..15 digits with
 * optional single separators (space, '-', '(', ')', e.g. "+7 (912) 345-67-89"),
 * and bare runs of digits as described at log_phone_len, when the run is
 * not glued to a letter, digit or '_' on either side and is not the
 * fraction of a decimal number. Any thread; touches only `s`. */
void rt_log_mask_phones(char *s, size_t len)
{
    size_t pos[16];
    size_t i = 0;
    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        bool left_ok = i == 0 || !log_is_word((unsigned char)s[i - 1]);
        if (c == '+' && left_ok && i + 1 < len && isdigit((unsigned char)s[i + 1])) {
            size_t n = 0, j = i + 1, end = j, seps = 0;
            bool too_long = false;
            while (j < len) {
                unsigned char d = (unsigned char)s[j];
                if (isdigit(d)) {
                    if (n < 16) pos[n] = j; else too_long = true;
                    n++;
                    end = j + 1;
                    seps = 0;
                } else if (log_is_phone_sep(d) && ++seps <= 2) {
                    /* separator: allowed between digit groups */
                } else {
                    break;
                }
                j++;
            }
            bool right_ok = end >= len || !log_is_word((unsigned char)s[end]);
            if (!too_long && n >= 10 && n <= 15 && s[pos[0]] != '0' && right_ok)
                log_mask_positions(s, pos, n);
            i = end;
            continue;
        }
        if (isdigit(c)) {
            size_t j = i;
            while (j < len && isdigit((unsigned char)s[j])) j++;
            size_t n = j - i;
            bool right_ok = j >= len || !log_is_word((unsigned char)s[j]);
            bool fraction = i >= 2 && s[i - 1] == '.' && isdigit((unsigned char)s[i - 2]);
            if (left_ok && right_ok && !fraction && log_phone_len(n, s[i])) {
                for (size_t k = 0; k < n && k < 16; k++) pos[k] = i + k;
                log_mask_positions(s, pos, n);
            }
            i = j;
            continue;
        }
        i++;
    }
}

/* ---- levels --------------------------------------------------------------- */

/* Contract (rt_log.h): sets the minimum level written; out-of-range values
 * are clamped. Any thread. */
void rt_log_set_level(int level)
{
    if (level < RT_LOG_DEBUG) level = RT_LOG_DEBUG;
    if (level > RT_LOG_ERROR) level = RT_LOG_ERROR;
    atomic_store_explicit(&g_log_level, level, memory_order_relaxed); /* see g_log_level */
}

/* Contract (rt_log.h): "debug" | "info" | "warn" | "error" (also "warning")
 * -> level, -1 if unknown or NULL. Pure. */
int rt_log_level_parse(const char *name)
{
    if (!name) return -1;
    for (int i = 0; i < 4; i++)
        if (strcmp(name, g_level_names[i]) == 0) return i;
    if (strcmp(name, "warning") == 0) return RT_LOG_WARN;
    return -1;
}

/* Contract (rt_log.h): lines dropped because the ring was full. Any thread. */
unsigned long rt_log_dropped(void)
{
    return atomic_load_explicit(&g_log_dropped, memory_order_relaxed); /* statistic */
}

/* ---- output ---------------------------------------------------------------- */

/* write(2) all of buf, retrying on EINTR/partial writes. Gives up silently
 * on other errors: there is nowhere left to report them. */
static void log_write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, buf, len);
        if (w < 0) {
            if (errno == EINTR) continue;
            return;
        }
        buf += w;
        len -= (size_t)w;
    }
}

static void *log_writer_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&g_log.mu);
    for (;;) {
        while (g_log.head == g_log.tail && !g_log.stopping) {
            g_log.writer_waiting = true;
            pthread_cond_wait(&g_log.cv, &g_log.mu);
            g_log.writer_waiting = false;
        }
        if (g_log.head == g_log.tail && g_log.stopping) break;
        uint64_t tail = g_log.tail, head = g_log.head, cap = g_log.cap;
        int fd = g_log.fd;
        pthread_mutex_unlock(&g_log.mu);

        /* [tail, head) is ours until tail advances: producers only write
         * into free space beyond head. */
        uint64_t from = tail % cap, n = head - tail;
        uint64_t first = n < cap - from ? n : cap - from;
        log_write_all(fd, g_log.ring + from, first);
        if (n > first) log_write_all(fd, g_log.ring, n - first);

        pthread_mutex_lock(&g_log.mu);
        g_log.tail = head;
    }
    pthread_mutex_unlock(&g_log.mu);
    return NULL;
}

/* Contract (rt_log.h): allocates the ring and starts the writer thread
 * writing to `fd` at `level`. Returns RT_OK, RT_EINVAL if already running,
 * RT_ENOMEM or RT_EIO if the thread cannot start (lines then keep going to
 * stderr synchronously). Main thread. */
int rt_log_init(int level, int fd)
{
    rt_log_set_level(level);
    pthread_mutex_lock(&g_log.mu);
    if (g_log.running) {
        pthread_mutex_unlock(&g_log.mu);
        return RT_EINVAL;
    }
    g_log.ring = malloc(RT_LOG_RING_BYTES);
    if (!g_log.ring) {
        pthread_mutex_unlock(&g_log.mu);
        return RT_ENOMEM;
    }
    g_log.cap = RT_LOG_RING_BYTES;
    g_log.head = g_log.tail = 0;
    g_log.fd = fd;
    g_log.stopping = false;
    if (pthread_create(&g_log.thread, NULL, log_writer_main, NULL) != 0) {
        free(g_log.ring);
        g_log.ring = NULL;
        pthread_mutex_unlock(&g_log.mu);
        return RT_EIO;
    }
    g_log.running = true;
    pthread_mutex_unlock(&g_log.mu);
    return RT_OK;
}

/* Contract (rt_log.h): writes every queued line, stops and joins the writer
 * thread, frees the ring. Later lines go synchronously to stderr.
 * Idempotent. Main thread. */
void rt_log_shutdown(void)
{
    pthread_mutex_lock(&g_log.mu);
    if (!g_log.running) {
        pthread_mutex_unlock(&g_log.mu);
        return;
    }
    g_log.stopping = true;
    pthread_cond_signal(&g_log.cv);
    pthread_mutex_unlock(&g_log.mu);
    pthread_join(g_log.thread, NULL);

    pthread_mutex_lock(&g_log.mu);
    g_log.running = false;
    g_log.stopping = false;
    free(g_log.ring);
    g_log.ring = NULL;
    g_log.cap = g_log.head = g_log.tail = 0;
    g_log.fd = 2;
    pthread_mutex_unlock(&g_log.mu);
}

/* Format the line prefix and fields into buf; returns the length (always
 * < cap, newline included). */
static size_t log_format(char *buf, size_t cap, int level, const char *file,
                         int line, const char *event, const char *fmt, va_list ap)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    const char *base = file ? strrchr(file, '/') : NULL;
    base = base ? base + 1 : (file ? file : "?");
    int n = snprintf(buf, cap, "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s at=%s:%d event=%s",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, ts.tv_nsec / 1000000L, g_level_names[level], base, line,
                     event ? event : "?");
    size_t len = n < 0 ? 0 : (size_t)n;
    if (len > cap - 2) len = cap - 2;
    if (fmt && *fmt && len < cap - 2) {
        buf[len++] = ' ';
        int m = vsnprintf(buf + len, cap - len, fmt, ap);
        if (m > 0) len += (size_t)m;
        if (len > cap - 2) {       /* truncated: mark it */
            len = cap - 2;
            memcpy(buf + len - 3, "...", 3);
        }
    }
    while (len > 0 && buf[len - 1] == ' ') len--;   /* fmt rendered nothing */
    /* One event, one line: a stray newline in a field would split it. */
    for (size_t i = 0; i < len; i++)
        if (buf[i] == '\n' || buf[i] == '\r') buf[i] = ' ';
    buf[len++] = '\n';
    buf[len] = '\0';
    return len;
}

/* Contract (rt_log.h): formats, masks and queues one line if `level` is at
 * or above the current level; drops and counts it when the ring is full.
 * Never blocks on I/O once rt_log_init has run. Any thread. */
void rt_log_write(int level, const char *file, int line, const char *event,
                  const char *fmt, ...)
{
    if (level < RT_LOG_DEBUG || level > RT_LOG_ERROR) level = RT_LOG_ERROR;
    if (level < atomic_load_explicit(&g_log_level, memory_order_relaxed)) return; /* see g_log_level */

    char buf[RT_LOG_LINE_MAX];
    va_list ap;
    va_start(ap, fmt);
    size_t len = log_format(buf, sizeof buf, level, file, line, event, fmt, ap);
    va_end(ap);
    rt_log_mask_phones(buf, len);

    pthread_mutex_lock(&g_log.mu);
    if (!g_log.running) {
        pthread_mutex_unlock(&g_log.mu);
        log_write_all(2, buf, len);
        return;
    }
    if (g_log.cap - (g_log.head - g_log.tail) < len) {
        pthread_mutex_unlock(&g_log.mu);
        atomic_fetch_add_explicit(&g_log_dropped, 1, memory_order_relaxed); /* statistic */
        return;
    }
    uint64_t at = g_log.head % g_log.cap;
    uint64_t first = len < g_log.cap - at ? len : g_log.cap - at;
    memcpy(g_log.ring + at, buf, first);
    if (len > first) memcpy(g_log.ring, buf + first, len - first);
    g_log.head += len;
    if (g_log.writer_waiting) pthread_cond_signal(&g_log.cv);
    pthread_mutex_unlock(&g_log.mu);
}

/* Contract: see rt_log.h. */
char *rt_log_value(char *dst, size_t cap, const char *src)
{
    size_t n = src ? strlen(src) : 0;
    if (n >= cap) {
        n = cap - 1;
        while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80) n--;   /* not inside a character */
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)src[i];
        dst[i] = c == '"' ? '\'' : (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
    }
    while (n > 0 && dst[n - 1] == ' ') n--;   /* libpq's messages end in a newline */
    dst[n] = '\0';
    return dst;
}
