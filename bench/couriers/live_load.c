/* live_load.c — live-location load and point → websocket latency (bench "couriers").
 *
 * Purpose: plays NCOURIERS couriers moving with Telegram live location: each
 * sends an edited_message update (same message_id, the point ~55 m further
 * on, edit_date = now) every PERIOD_MS, spread evenly, for SECONDS, POSTed
 * to HOST:PORT/telegram/webhook with the secret header, as Telegram does in
 * webhook mode. Meanwhile NCLIENTS websocket clients (a minimal RFC 6455
 * client: civetweb 1.15's mg_connect_websocket_client cannot send the
 * session cookie) hold WS_PATH open with the plus7_session cookie, and every
 * text frame that carries a courier's id and coordinates is matched to the
 * point that produced it: latency = frame received − the point's POST
 * began (CLOCK_MONOTONIC, one process). The same program drives plus7d and
 * the ceiling (live_ceiling.c): both send frames with "id", "lat", "lon".
 *
 * Courier i (0-based) has Telegram id TG0 + i, courier id ID0 + i, live
 * message id 7000 + i, and starts at the point printed by start_point().
 *
 * Usage: live_load HOST PORT SECRET COOKIE_TOKENS_FILE NCOURIERS PERIOD_MS
 *                  SECONDS TG0 ID0 UPDATE_ID0 DRAIN_MS
 * COOKIE_TOKENS_FILE: one 64-hex session token per line, one per client.
 * Output (stdout, "key value" lines): sent, ok, failed, post_p50_ms,
 * post_p99_ms, seconds, frames, matched, unmatched, lat_p50_ms, lat_p99_ms,
 * lat_max_ms, clients. Diagnostics on stderr.
 *
 * Threads: main (setup, report), NSENDERS senders (blocking keep-alive
 * HTTP/1.1, one socket each), one websocket reader (poll over every
 * client). Shared state: the per-courier rings (written by senders before
 * the POST, read by the reader) under g_ring_mu; counters are atomics.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"

#define NSENDERS 16
#define MAX_CLIENTS 64
#define RING 16
#define LIVE_MSG0 7000

typedef struct sent_point {
    int seq;              /* -1 = empty */
    double lat, lon;
    uint64_t t0;
} sent_point_t;

static struct {
    const char *host, *secret;
    int port, ncouriers, period_ms, seconds, drain_ms;
    long long tg0, id0, update0;
    uint64_t start_ns;
    long total;           /* points to send */
} g;

static sent_point_t *g_ring;                 /* ncouriers × RING */
static pthread_mutex_t g_ring_mu = PTHREAD_MUTEX_INITIALIZER;
/* relaxed: plain counters and sample slots, read after the threads joined */
static atomic_long g_ok, g_failed, g_frames, g_matched, g_unmatched, g_nlat;
static uint64_t *g_lat;                      /* latency samples (ns) */
static long g_lat_cap;
static uint64_t *g_post;                     /* POST round trips (ns), by point index */
/* relaxed: only asks the reader to leave its loop; join orders the rest */
static atomic_bool g_stop_reader;

static void start_point(int i, double *lat, double *lon)
{
    static const double centre[5][2] = {
        {48.00, 37.80}, {48.04, 37.98}, {48.57, 39.31}, {47.10, 37.55}, {46.85, 35.37}};
    int z = i % 5;
    *lat = centre[z][0] + ((i / 5) % 40 - 20) * 0.001;
    *lon = centre[z][1] + ((i / 200) - 5) * 0.002;
}

static int tcp_connect(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)g.port)};
    inet_pton(AF_INET, g.host, &a.sin_addr);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

static bool write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

/* Read one HTTP response (headers + Content-Length body). Returns the status or -1. */
static int read_response(int fd)
{
    char buf[8192];
    size_t len = 0;
    for (;;) {
        ssize_t r = read(fd, buf + len, sizeof buf - 1 - len);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
        len += (size_t)r;
        buf[len] = '\0';
        char *end = strstr(buf, "\r\n\r\n");
        if (!end) {
            if (len >= sizeof buf - 1) return -1;
            continue;
        }
        size_t head = (size_t)(end - buf) + 4;
        long clen = 0;
        char *cl = strcasestr(buf, "\r\nContent-Length:");
        if (cl && cl < end) clen = strtol(cl + 17, NULL, 10);
        while (len < head + (size_t)clen) {
            size_t want = head + (size_t)clen - len;
            if (want > sizeof buf - 1 - len) {   /* body larger than the buffer: drop what we have */
                len = head;
                clen -= (long)(sizeof buf - 1 - head);
                if (clen < 0) clen = 0;
            }
            r = read(fd, buf + len, sizeof buf - 1 - len);
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) return -1;
            len += (size_t)r;
        }
        int status = 0;
        if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1) return -1;
        return status;
    }
}

static void sleep_until(uint64_t t)
{
    uint64_t now = bench_now_ns();
    if (t <= now) return;
    struct timespec ts = {.tv_sec = (time_t)((t - now) / 1000000000u), .tv_nsec = (long)((t - now) % 1000000000u)};
    nanosleep(&ts, NULL);
}

static void *sender(void *arg)
{
    long me = (long)arg;
    int fd = -1;
    char body[1024], req[2048];
    double step_ns = (double)g.period_ms * 1e6 / g.ncouriers;
    for (long j = me; j < g.total; j += NSENDERS) {
        int i = (int)(j % g.ncouriers), seq = (int)(j / g.ncouriers);
        sleep_until(g.start_ns + (uint64_t)(step_ns * (double)j));
        double lat, lon;
        start_point(i, &lat, &lon);
        lat += 0.0005 * (seq + 1);                   /* ~55 m a point: never thinned */
        lon += 0.0001 * ((seq + i) % 3);
        long long tg = g.tg0 + i, now_s = (long long)time(NULL);
        int blen = snprintf(body, sizeof body,
            "{\"update_id\":%lld,\"edited_message\":{\"message_id\":%d,"
            "\"from\":{\"id\":%lld,\"is_bot\":false,\"first_name\":\"Курьер\"},"
            "\"chat\":{\"id\":%lld,\"type\":\"private\",\"first_name\":\"Курьер\"},"
            "\"date\":%lld,\"edit_date\":%lld,\"location\":{\"latitude\":%.7f,\"longitude\":%.7f,"
            "\"horizontal_accuracy\":8.5,\"live_period\":28800,\"heading\":%d}}}",
            g.update0 + j, LIVE_MSG0 + i, tg, tg, now_s - 600, now_s, lat, lon, 1 + (seq * 7 + i) % 359);
        int rlen = snprintf(req, sizeof req,
            "POST /telegram/webhook HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: application/json\r\n"
            "X-Telegram-Bot-Api-Secret-Token: %s\r\nContent-Length: %d\r\n\r\n%s",
            g.host, g.port, g.secret, blen, body);
        uint64_t t0 = bench_now_ns();
        pthread_mutex_lock(&g_ring_mu);
        sent_point_t *s = &g_ring[(size_t)i * RING + (size_t)(seq % RING)];
        *s = (sent_point_t){.seq = seq, .lat = lat, .lon = lon, .t0 = t0};
        pthread_mutex_unlock(&g_ring_mu);
        int status = -1;
        for (int attempt = 0; attempt < 2 && status < 0; attempt++) {
            if (fd < 0) fd = tcp_connect();
            if (fd >= 0 && write_all(fd, req, (size_t)rlen)) status = read_response(fd);
            if (status < 0 && fd >= 0) {
                close(fd);
                fd = -1;
            }
        }
        g_post[j] = bench_now_ns() - t0;
        if (status == 200) atomic_fetch_add_explicit(&g_ok, 1, memory_order_relaxed);
        else atomic_fetch_add_explicit(&g_failed, 1, memory_order_relaxed);
    }
    if (fd >= 0) close(fd);
    return NULL;
}

/* ---- websocket clients --------------------------------------------------------------------- */

typedef struct ws {
    int fd;
    char *buf;
    size_t len, cap;
} ws_t;

static int ws_open(const char *token)
{
    int fd = tcp_connect();
    if (fd < 0) return -1;
    char req[1024];
    int n = snprintf(req, sizeof req,
        "GET /api/live HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        "Origin: http://%s:%d\r\nCookie: plus7_session=%s\r\n\r\n",
        g.host, g.port, g.host, g.port, token);
    if (!write_all(fd, req, (size_t)n)) {
        close(fd);
        return -1;
    }
    char buf[4096];
    size_t len = 0;
    while (len < sizeof buf - 1) {   /* read byte by byte up to the blank line: no frame bytes eaten */
        ssize_t r = read(fd, buf + len, 1);
        if (r <= 0) break;
        len++;
        if (len >= 4 && memcmp(buf + len - 4, "\r\n\r\n", 4) == 0) break;
    }
    buf[len] = '\0';
    if (strncmp(buf, "HTTP/1.1 101", 12) != 0) {
        fprintf(stderr, "live_load: websocket refused: %.80s\n", buf);
        close(fd);
        return -1;
    }
    return fd;
}

static void ws_pong(int fd, const unsigned char *data, size_t n)
{
    unsigned char f[2 + 4 + 125];
    if (n > 125) n = 125;
    f[0] = 0x8A;
    f[1] = (unsigned char)(0x80 | n);
    memset(f + 2, 0, 4);                 /* mask key 0: the payload goes as it is */
    memcpy(f + 6, data, n);
    write_all(fd, (const char *)f, 6 + n);
}

static bool json_num(const char *s, size_t n, const char *key, double *out)
{
    size_t kl = strlen(key);
    for (const char *p = memmem(s, n, key, kl); p; p = memmem(p + 1, n - (size_t)(p + 1 - s), key, kl)) {
        const char *q = p + kl, *end = s + n;
        while (q < end && *q == ' ') q++;
        if (q >= end || *q != ':') continue;
        q++;
        while (q < end && *q == ' ') q++;
        char tmp[40];
        size_t m = 0;
        while (q + m < end && m < sizeof tmp - 1 && strchr("0123456789.-+eE", q[m])) m++;
        if (!m) return false;
        memcpy(tmp, q, m);
        tmp[m] = '\0';
        *out = strtod(tmp, NULL);
        return true;
    }
    return false;
}

static void on_frame(const char *p, size_t n, uint64_t now)
{
    atomic_fetch_add_explicit(&g_frames, 1, memory_order_relaxed);
    double id, lat, lon;
    if (!json_num(p, n, "\"id\"", &id) || !json_num(p, n, "\"lat\"", &lat) || !json_num(p, n, "\"lon\"", &lon)) {
        atomic_fetch_add_explicit(&g_unmatched, 1, memory_order_relaxed);
        return;
    }
    long i = (long)id - g.id0;
    uint64_t t0 = 0;
    if (i >= 0 && i < g.ncouriers) {
        pthread_mutex_lock(&g_ring_mu);
        for (int k = 0; k < RING; k++) {
            const sent_point_t *s = &g_ring[(size_t)i * RING + (size_t)k];
            if (s->seq >= 0 && fabs(s->lat - lat) < 5e-8 && fabs(s->lon - lon) < 5e-8) {
                t0 = s->t0;
                break;
            }
        }
        pthread_mutex_unlock(&g_ring_mu);
    }
    if (!t0) {
        atomic_fetch_add_explicit(&g_unmatched, 1, memory_order_relaxed);
        return;
    }
    atomic_fetch_add_explicit(&g_matched, 1, memory_order_relaxed);
    long k = atomic_fetch_add_explicit(&g_nlat, 1, memory_order_relaxed);
    if (k < g_lat_cap) g_lat[k] = now > t0 ? now - t0 : 0;
}

/* Parse every whole frame in w->buf. Returns false when the server closed. */
static bool ws_frames(ws_t *w, uint64_t now)
{
    size_t off = 0;
    bool open = true;
    while (w->len - off >= 2) {
        const unsigned char *b = (const unsigned char *)w->buf + off;
        int op = b[0] & 0x0F;
        uint64_t plen = b[1] & 0x7F;
        size_t hl = 2;
        if (plen == 126) {
            if (w->len - off < 4) break;
            plen = ((uint64_t)b[2] << 8) | b[3];
            hl = 4;
        } else if (plen == 127) {
            if (w->len - off < 10) break;
            plen = 0;
            for (int k = 0; k < 8; k++) plen = (plen << 8) | b[2 + k];
            hl = 10;
        }
        if (b[1] & 0x80) hl += 4;        /* servers do not mask; tolerate it anyway */
        if (w->len - off < hl + plen) break;
        const char *payload = w->buf + off + hl;
        if (op == 1 || op == 0) on_frame(payload, (size_t)plen, now);
        else if (op == 9) ws_pong(w->fd, (const unsigned char *)payload, (size_t)plen);
        else if (op == 8) open = false;
        off += hl + (size_t)plen;
    }
    memmove(w->buf, w->buf + off, w->len - off);
    w->len -= off;
    return open;
}

static ws_t g_ws[MAX_CLIENTS];
static int g_nws;

static void *reader(void *arg)
{
    (void)arg;
    struct pollfd p[MAX_CLIENTS];
    while (!atomic_load_explicit(&g_stop_reader, memory_order_relaxed)) {
        for (int k = 0; k < g_nws; k++) p[k] = (struct pollfd){.fd = g_ws[k].fd, .events = POLLIN};
        int pr = poll(p, (nfds_t)g_nws, 100);
        if (pr <= 0) continue;
        uint64_t now = bench_now_ns();
        for (int k = 0; k < g_nws; k++) {
            if (!(p[k].revents & (POLLIN | POLLHUP | POLLERR)) || g_ws[k].fd < 0) continue;
            ws_t *w = &g_ws[k];
            if (w->cap - w->len < 65536) {
                w->cap = w->cap * 2 + 65536;
                w->buf = realloc(w->buf, w->cap);
                if (!w->buf) abort();
            }
            ssize_t r = read(w->fd, w->buf + w->len, w->cap - w->len);
            if (r <= 0 || !(w->len += (size_t)r, ws_frames(w, now))) {
                fprintf(stderr, "live_load: websocket %d closed\n", k);
                close(w->fd);
                w->fd = -1;
            }
        }
    }
    return NULL;
}

static double ms(uint64_t ns) { return (double)ns / 1e6; }

int main(int argc, char **argv)
{
    if (argc != 12) {
        fprintf(stderr, "usage: live_load HOST PORT SECRET TOKENS_FILE NCOURIERS PERIOD_MS SECONDS TG0 ID0 "
                        "UPDATE_ID0 DRAIN_MS\n");
        return 2;
    }
    g.host = argv[1];
    g.port = atoi(argv[2]);
    g.secret = argv[3];
    g.ncouriers = atoi(argv[5]);
    g.period_ms = atoi(argv[6]);
    g.seconds = atoi(argv[7]);
    g.tg0 = atoll(argv[8]);
    g.id0 = atoll(argv[9]);
    g.update0 = atoll(argv[10]);
    g.drain_ms = atoi(argv[11]);
    if (g.ncouriers <= 0 || g.period_ms <= 0 || g.seconds <= 0) return 2;
    g.total = (long)((double)g.seconds * 1000.0 / g.period_ms * g.ncouriers);

    FILE *f = fopen(argv[4], "r");
    if (!f) {
        perror(argv[4]);
        return 1;
    }
    char line[256];
    while (g_nws < MAX_CLIENTS && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (!line[0]) continue;
        int fd = ws_open(line);
        if (fd < 0) return 1;
        g_ws[g_nws++] = (ws_t){.fd = fd};
    }
    fclose(f);

    g_ring = malloc((size_t)g.ncouriers * RING * sizeof *g_ring);
    g_post = calloc((size_t)g.total, sizeof *g_post);
    g_lat_cap = g.total * (g_nws ? g_nws : 1);
    g_lat = malloc((size_t)g_lat_cap * sizeof *g_lat);
    if (!g_ring || !g_post || !g_lat) return 1;
    for (long k = 0; k < (long)g.ncouriers * RING; k++) g_ring[k].seq = -1;

    pthread_t rd, snd[NSENDERS];
    pthread_create(&rd, NULL, reader, NULL);
    g.start_ns = bench_now_ns() + 100000000u;
    for (long k = 0; k < NSENDERS; k++) pthread_create(&snd[k], NULL, sender, (void *)k);
    for (int k = 0; k < NSENDERS; k++) pthread_join(snd[k], NULL);
    double secs = (double)(bench_now_ns() - g.start_ns) / 1e9;
    /* drain: wait until every expected frame came, or DRAIN_MS without progress */
    long expect = atomic_load(&g_ok) * g_nws, last = -1;
    uint64_t quiet_since = bench_now_ns();
    while (atomic_load(&g_matched) < expect) {
        long m = atomic_load(&g_matched);
        if (m != last) {
            last = m;
            quiet_since = bench_now_ns();
        } else if (bench_now_ns() - quiet_since > (uint64_t)g.drain_ms * 1000000u) {
            break;
        }
        usleep(20000);
    }
    atomic_store_explicit(&g_stop_reader, true, memory_order_relaxed);
    pthread_join(rd, NULL);
    for (int k = 0; k < g_nws; k++)
        if (g_ws[k].fd >= 0) close(g_ws[k].fd);

    long n = atomic_load(&g_nlat);
    if (n > g_lat_cap) n = g_lat_cap;
    bench_sort_u64(g_lat, (size_t)n);
    bench_sort_u64(g_post, (size_t)g.total);
    printf("sent %ld\nok %ld\nfailed %ld\nseconds %.3f\n", g.total, atomic_load(&g_ok), atomic_load(&g_failed), secs);
    printf("post_p50_ms %.2f\npost_p99_ms %.2f\n", ms(bench_pct_u64(g_post, (size_t)g.total, 50)),
           ms(bench_pct_u64(g_post, (size_t)g.total, 99)));
    printf("clients %d\nframes %ld\nmatched %ld\nunmatched %ld\n", g_nws, atomic_load(&g_frames),
           atomic_load(&g_matched), atomic_load(&g_unmatched));
    printf("lat_p50_ms %.2f\nlat_p99_ms %.2f\nlat_max_ms %.2f\n", ms(bench_pct_u64(g_lat, (size_t)n, 50)),
           ms(bench_pct_u64(g_lat, (size_t)n, 99)), n ? ms(g_lat[n - 1]) : 0.0);
    free(g_ring);
    free(g_post);
    free(g_lat);
    for (int k = 0; k < g_nws; k++) free(g_ws[k].buf);
    return 0;
}
