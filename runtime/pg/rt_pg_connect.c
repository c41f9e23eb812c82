/* rt_pg_connect.c — getting an rt_pg connection connected.
 *
 * Purpose: the DOWN -> [RESOLVING] -> CONNECTING half of rt_pg_conn (see
 * rt_pg_conn.c for the state machine): the conninfo parsed once (an
 * unparsable one refused), a host name resolved on the resolver thread
 * (rt_pg_resolve.h) and every address found passed to libpq as `hostaddr`,
 * PQconnectStartParams/PQconnectPoll driven by socket events under a
 * connect timeout, and the retry after a failure: exponential backoff
 * with equal jitter. On PGRES_POLLING_OK it hands over to rt_pg_conn_up.
 *
 * Exports: rt_pg_connect_init, rt_pg_connect_fini, rt_pg_connect_retry,
 * rt_pg_connect_failed (rt_pg_conn_int.h); rt_pg_backoff_jitter
 * (rt_pg_conn.h).
 *
 * Threads: the connection's event-loop thread.
 */
#include "rt_pg_conn_int.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "rt_clock.h"
#include "rt_log.h"

static void on_io_connect(evutil_socket_t fd, short what, void *arg);

uint32_t rt_pg_backoff_jitter(uint32_t backoff_ms, uint64_t *rng)
{
    /* xorshift64: cheap, per connection, no shared state */
    uint64_t x = *rng ? *rng : 0x9e3779b97f4a7c15ull;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *rng = x;
    uint32_t half = backoff_ms / 2;
    return backoff_ms - half + (uint32_t)(x % ((uint64_t)half + 1));
}

/* Retry after the backoff (doubling from backoff_min_ms to backoff_max_ms)
 * with "equal jitter": a random delay in [backoff/2, backoff], so the
 * connections of all workers do not reconnect in lockstep after a restart. */
void rt_pg_connect_retry(rt_pg_conn_t *c)
{
    if (c->closing) return;
    if (c->backoff_ms == 0) c->backoff_ms = c->o.backoff_min_ms;
    else c->backoff_ms = c->backoff_ms * 2 > c->o.backoff_max_ms ? c->o.backoff_max_ms
                                                                 : c->backoff_ms * 2;
    struct timeval tv = rt_clock_tv(rt_pg_backoff_jitter(c->backoff_ms, &c->rng));
    if (evtimer_add(c->ev_retry, &tv) != 0)
        LOG_ERROR("pg_retry_unscheduled", "reason=event_add; the connection stays down until the next request");
}

/* A connection attempt failed (never reached UP). Logged at warn on the
 * first failure of a streak and every 20th after, debug otherwise. */
void rt_pg_connect_failed(rt_pg_conn_t *c, const char *why)
{
    char buf[240];
    c->fail_streak++;
    int level = (c->fail_streak == 1 || c->fail_streak % 20 == 0) ? RT_LOG_WARN : RT_LOG_DEBUG;
    rt_log_write(level, __FILE__, __LINE__, "pg_connect_failed",
                 "error=\"%s\" failures=%u", rt_log_value(buf, sizeof buf, why), c->fail_streak);
    rt_pg_conn_teardown(c);
    rt_pg_connect_retry(c);
}

/* Wait for the socket direction PQconnectPoll asked for. */
static void conn_connect_wait(rt_pg_conn_t *c, PostgresPollingStatusType st)
{
    int fd = PQsocket(c->pg);
    if (fd < 0) { rt_pg_connect_failed(c, "no socket"); return; }
    if (c->ev_io) event_free(c->ev_io);
    c->fd = fd;
    c->ev_io = event_new(c->base, fd, st == PGRES_POLLING_READING ? EV_READ : EV_WRITE,
                         on_io_connect, c);
    if (!c->ev_io || event_add(c->ev_io, NULL) != 0)
        rt_pg_connect_failed(c, "event allocation failed");
}

static void conn_connect_step(rt_pg_conn_t *c)
{
    PostgresPollingStatusType st = PQconnectPoll(c->pg);
    switch (st) {
    case PGRES_POLLING_OK: rt_pg_conn_up(c); break;
    case PGRES_POLLING_READING:
    case PGRES_POLLING_WRITING: conn_connect_wait(c, st); break;
    default: rt_pg_connect_failed(c, PQerrorMessage(c->pg)); break;
    }
}

static void on_io_connect(evutil_socket_t fd, short what, void *arg)
{
    conn_connect_step(arg);
}

static void on_connect_timeout(evutil_socket_t fd, short what, void *arg)
{
    rt_pg_conn_t *c = arg;
    if (c->state == C_RESOLVING) rt_pg_connect_failed(c, "connect timeout (host name lookup)");
    else if (c->state == C_CONNECTING) rt_pg_connect_failed(c, "connect timeout");
}

/* Start libpq's non-blocking connect. `host`, `hostaddr` and `port`
 * (NULL = as in the conninfo) override the conninfo's values: after a
 * lookup they carry the resolved addresses, so libpq does no DNS itself. */
static void conn_connect(rt_pg_conn_t *c, const char *host, const char *hostaddr, const char *port)
{
    const char *kw[6] = {"dbname", "fallback_application_name"};
    const char *vals[6] = {c->conninfo, "plus7"};
    int n = 2;
    if (host) { kw[n] = "host"; vals[n++] = host; }
    if (hostaddr) { kw[n] = "hostaddr"; vals[n++] = hostaddr; }
    if (port) { kw[n] = "port"; vals[n++] = port; }
    kw[n] = vals[n] = NULL;
    c->pg = PQconnectStartParams(kw, vals, 1);
    if (!c->pg) { rt_pg_connect_failed(c, "out of memory"); return; }
    if (PQstatus(c->pg) == CONNECTION_BAD) { rt_pg_connect_failed(c, PQerrorMessage(c->pg)); return; }
    c->state = C_CONNECTING;
    /* libpq's first step wants the socket writable (a connect is under way). */
    conn_connect_wait(c, PGRES_POLLING_WRITING);
}

/* Entry `i` of a comma-separated list into out (empty when absent). */
static void csv_item(const char *list, int i, char *out, size_t n)
{
    const char *p = list;
    for (; i > 0 && p; i--) {
        p = strchr(p, ',');
        if (p) p++;
    }
    size_t len = p ? strcspn(p, ",") : 0;
    if (len >= n) len = n - 1;
    memcpy(out, p ? p : "", len);
    out[len] = '\0';
}

/* Append `item` to a comma list in buf (cap bytes); false when it does not fit. */
static bool csv_add(char *buf, size_t cap, const char *item)
{
    size_t used = strlen(buf), len = strlen(item);
    if (used + len + 2 > cap) return false;
    if (used) buf[used++] = ',';
    memcpy(buf + used, item, len + 1);
    return true;
}

/* The resolver finished: connect to every address it found, in order,
 * each with the host name it came from (for TLS and .pgpass) and its port. */
static void on_dns(evutil_socket_t fd, short what, void *arg)
{
    rt_pg_conn_t *c = arg;
    uint64_t v;
    while (read(fd, &v, sizeof v) == (ssize_t)sizeof v) {}
    if (c->state != C_RESOLVING || !c->dns) return;
    int n = 0;
    const char *const *addr = NULL;
    const int *hidx = NULL;
    const char *err = NULL;
    int rc = rt_pg_resolve_result(c->dns, &n, &addr, &hidx, &err);
    if (rc == RT_PENDING) return;
    if (rc != RT_OK) {
        char why[200];
        snprintf(why, sizeof why, "%s", err && *err ? err : "host name lookup failed");
        rt_pg_connect_failed(c, why);
        return;
    }
    bool per_host_port = c->dns_ports && strchr(c->dns_ports, ',');
    char hosts[2048] = "", addrs[1024] = "", ports[512] = "", item[256];
    bool fit = true;
    for (int i = 0; i < n && fit; i++) {
        csv_item(c->dns_hosts, hidx[i], item, sizeof item);
        fit = csv_add(hosts, sizeof hosts, item) && csv_add(addrs, sizeof addrs, addr[i]);
        if (fit && per_host_port) {
            csv_item(c->dns_ports, hidx[i], item, sizeof item);
            fit = csv_add(ports, sizeof ports, item);
        }
    }
    rt_pg_resolve_drop(c->dns);
    c->dns = NULL;
    if (!fit) { rt_pg_connect_failed(c, "too many resolved addresses"); return; }
    conn_connect(c, hosts, addrs, per_host_port ? ports : NULL);
}

static void conn_start(rt_pg_conn_t *c)
{
    struct timeval tv = rt_clock_tv(c->o.connect_timeout_ms);
    if (evtimer_add(c->ev_conn_to, &tv) != 0) { rt_pg_connect_failed(c, "event_add failed"); return; }
    if (c->dns_fd < 0) {
        conn_connect(c, NULL, NULL, NULL);
        return;
    }
    /* the connect timeout also bounds the lookup */
    c->state = C_RESOLVING;
    c->dns = rt_pg_resolve_start(c->dns_hosts, c->dns_fd);
    if (!c->dns) rt_pg_connect_failed(c, "out of memory");
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
    rt_pg_conn_t *c = arg;
    if (c->state == C_DOWN && !c->closing) conn_start(c);
}

/* True when `h` is a host that libpq would look up: not empty, not a
 * socket directory ('/' or '@'), not a numeric IPv4/IPv6 address. */
static bool host_needs_lookup(const char *h, size_t len)
{
    char buf[256];
    if (len == 0 || h[0] == '/' || h[0] == '@' || len >= sizeof buf) return false;
    memcpy(buf, h, len);
    buf[len] = '\0';
    unsigned char a[16];
    return inet_pton(AF_INET, buf, a) != 1 && inet_pton(AF_INET6, buf, a) != 1;
}

/* Parse the conninfo (a string libpq cannot parse is refused here, so a
 * runtime with such a configuration fails to start rather than retrying
 * for ever) and decide whether connecting needs a host-name lookup: when
 * `host` lists names and `hostaddr` is not given. Mixed lists (a name and
 * a socket directory) are left to libpq, as are conninfos without names. */
static int conn_parse(rt_pg_conn_t *c)
{
    char *err = NULL;
    PQconninfoOption *opts = PQconninfoParse(c->conninfo, &err);
    if (!opts) {
        char buf[200];
        LOG_ERROR("pg_conninfo_invalid", "error=\"%s\"", rt_log_value(buf, sizeof buf, err ? err : "out of memory"));
        PQfreemem(err);
        return RT_EINVAL;
    }
    const char *host = NULL, *hostaddr = NULL, *port = NULL;
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        if (!o->val || !*o->val) continue;
        if (strcmp(o->keyword, "host") == 0) host = o->val;
        else if (strcmp(o->keyword, "hostaddr") == 0) hostaddr = o->val;
        else if (strcmp(o->keyword, "port") == 0) port = o->val;
    }
    bool names = false, paths = false;
    for (const char *p = host; p && *p;) {
        size_t len = strcspn(p, ",");
        if (host_needs_lookup(p, len)) names = true;
        else if (len == 0 || p[0] == '/' || p[0] == '@') paths = true;
        p += len;
        if (*p == ',') p++;
    }
    int rc = RT_OK;
    if (host && names && !paths && !hostaddr) {
        c->dns_hosts = strdup(host);
        c->dns_ports = port ? strdup(port) : NULL;
        c->dns_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        c->ev_dns = c->dns_fd >= 0 ? event_new(c->base, c->dns_fd, EV_READ | EV_PERSIST, on_dns, c) : NULL;
        if (!c->dns_hosts || (port && !c->dns_ports) || !c->ev_dns || event_add(c->ev_dns, NULL) != 0)
            rc = RT_ENOMEM;
    }
    PQconninfoFree(opts);
    return rc;
}

int rt_pg_connect_init(rt_pg_conn_t *c)
{
    c->dns_fd = -1;
    c->rng = (uint64_t)(uintptr_t)c ^ rt_clock_us();
    c->ev_retry = evtimer_new(c->base, on_retry, c);
    c->ev_conn_to = evtimer_new(c->base, on_connect_timeout, c);
    if (!c->ev_retry || !c->ev_conn_to) return RT_ENOMEM;
    int rc = conn_parse(c);
    if (rc != RT_OK) return rc;
    struct timeval now = {0, 0};
    return evtimer_add(c->ev_retry, &now) == 0 ? RT_OK : RT_ENOMEM; /* first attempt from the loop */
}

void rt_pg_connect_fini(rt_pg_conn_t *c)
{
    if (c->ev_retry) event_free(c->ev_retry);
    if (c->ev_conn_to) event_free(c->ev_conn_to);
    if (c->ev_dns) event_free(c->ev_dns);
    if (c->dns_fd >= 0) close(c->dns_fd);   /* rt_pg_conn_teardown dropped the lookup */
    free(c->dns_hosts);
    free(c->dns_ports);
    c->ev_retry = c->ev_conn_to = c->ev_dns = NULL;
    c->dns_fd = -1;
}
