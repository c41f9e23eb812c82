/* rt_pack.c — msgpack writer into rt_msg_t payloads and a bounds-checked
 * reader over them (the typed layer's engine, see rt_pack.h).
 *
 * Exports: rt_pack_writer_*, rt_pack_put_*, rt_pack_reader_open,
 * rt_pack_get_*, rt_str_dup, rt_str_eq.
 * Threads: any; no shared state.
 */
#include "rt_pack.h"

#include <stdlib.h>

char *rt_str_dup(rt_str_t s)
{
    if (!s.p) return NULL;
    char *d = malloc((size_t)s.n + 1);
    if (!d) return NULL;
    memcpy(d, s.p, s.n);
    d[s.n] = '\0';
    return d;
}

bool rt_str_eq(rt_str_t s, const char *c)
{
    size_t n = strlen(c);
    return s.p && s.n == n && memcmp(s.p, c, n) == 0;
}

/* msgpack write callback: append to the message payload, moving it to a
 * message of double the capacity when needed (messages live in size-class
 * pools, so they are never realloc'd). */
static int rt_pack_write_cb(void *data, const char *buf, size_t len)
{
    rt_pack_writer_t *w = data;
    if (!w->msg) return -1;
    rt_msg_t *m = w->msg;
    if ((size_t)m->len + len > m->cap) {
        size_t cap = m->cap ? m->cap : 64;
        while (cap < (size_t)m->len + len) cap *= 2;
        if (cap > UINT32_MAX - sizeof(rt_msg_t)) { rt_msg_free(m); w->msg = NULL; return -1; }
        rt_msg_t *g = rt_msg_new(m->type, (uint32_t)cap);
        if (!g) { rt_msg_free(m); w->msg = NULL; return -1; }
        g->flags = m->flags;
        g->corr = m->corr;
        g->from = m->from;
        memcpy(g->payload, m->payload, m->len);
        g->len = m->len;
        rt_msg_free(m);
        w->msg = m = g;
    }
    memcpy(m->payload + m->len, buf, len);
    m->len += (uint32_t)len;
    return 0;
}

void rt_pack_writer_init(rt_pack_writer_t *w, uint16_t type, uint32_t cap_hint)
{
    w->msg = rt_msg_new(type, cap_hint);
    msgpack_packer_init(&w->pk, w, rt_pack_write_cb);
}

rt_msg_t *rt_pack_writer_finish(rt_pack_writer_t *w)
{
    rt_msg_t *m = w->msg;
    w->msg = NULL;
    return m;
}

void rt_pack_put_array(rt_pack_writer_t *w, uint32_t n) { msgpack_pack_array(&w->pk, n); }
void rt_pack_put_i64(rt_pack_writer_t *w, int64_t v) { msgpack_pack_int64(&w->pk, v); }
void rt_pack_put_f64(rt_pack_writer_t *w, double v) { msgpack_pack_double(&w->pk, v); }

void rt_pack_put_bool(rt_pack_writer_t *w, bool v)
{
    if (v) msgpack_pack_true(&w->pk);
    else msgpack_pack_false(&w->pk);
}

void rt_pack_put_str(rt_pack_writer_t *w, rt_str_t s)
{
    if (!s.p) { msgpack_pack_nil(&w->pk); return; }
    msgpack_pack_str(&w->pk, s.n);
    msgpack_pack_str_body(&w->pk, s.p, s.n);
}

/* ---- reader ----------------------------------------------------------------
 * A hand-written bounds-checked walker over the subset we emit (the payload
 * comes from our own writer, but a reader must never trust lengths). It
 * avoids msgpack_zone allocations on the hot path. */

static bool rt_pack_need(rt_pack_reader_t *r, size_t n)
{
    if (r->bad || r->len - r->off < n) { r->bad = true; return false; }
    return true;
}

static uint64_t rt_pack_be(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++) v = (v << 8) | p[i];
    return v;
}

int rt_pack_reader_open(rt_pack_reader_t *r, const rt_msg_t *m, uint32_t nfields)
{
    r->buf = (const char *)m->payload;
    r->len = m->len;
    r->off = 0;
    r->bad = false;
    r->left = 0;
    if (!rt_pack_need(r, 1)) return RT_EINVAL;
    const unsigned char *p = (const unsigned char *)r->buf;
    uint32_t n;
    if ((p[0] & 0xf0) == 0x90) { n = p[0] & 0x0f; r->off = 1; }
    else if (p[0] == 0xdc && rt_pack_need(r, 3)) { n = (uint32_t)rt_pack_be(p + 1, 2); r->off = 3; }
    else if (p[0] == 0xdd && rt_pack_need(r, 5)) { n = (uint32_t)rt_pack_be(p + 1, 4); r->off = 5; }
    else return RT_EINVAL;
    if (n < nfields) return RT_EINVAL;
    r->left = n;
    return RT_OK;
}

/* Take one element; returns its first byte pointer or NULL. */
static const unsigned char *rt_pack_take(rt_pack_reader_t *r)
{
    if (r->bad || r->left == 0 || !rt_pack_need(r, 1)) { r->bad = true; return NULL; }
    r->left--;
    return (const unsigned char *)r->buf + r->off;
}

void rt_pack_get_i64(rt_pack_reader_t *r, int64_t *v)
{
    const unsigned char *p = rt_pack_take(r);
    if (!p) return;
    unsigned char t = p[0];
    if (t <= 0x7f) { *v = t; r->off += 1; return; }
    if (t >= 0xe0) { *v = (int8_t)t; r->off += 1; return; }
    int n;
    bool sign;
    switch (t) {
    case 0xcc: n = 1; sign = false; break;
    case 0xcd: n = 2; sign = false; break;
    case 0xce: n = 4; sign = false; break;
    case 0xcf: n = 8; sign = false; break;
    case 0xd0: n = 1; sign = true; break;
    case 0xd1: n = 2; sign = true; break;
    case 0xd2: n = 4; sign = true; break;
    case 0xd3: n = 8; sign = true; break;
    default: r->bad = true; return;
    }
    if (!rt_pack_need(r, 1 + (size_t)n)) return;
    uint64_t u = rt_pack_be(p + 1, n);
    if (sign && n < 8) {
        uint64_t m = 1ULL << (n * 8 - 1);
        *v = (int64_t)((u ^ m) - m);
    } else if (!sign && u > INT64_MAX) {
        r->bad = true;
        return;
    } else {
        *v = (int64_t)u;
    }
    r->off += 1 + (size_t)n;
}

void rt_pack_get_bool(rt_pack_reader_t *r, bool *v)
{
    const unsigned char *p = rt_pack_take(r);
    if (!p) return;
    if (p[0] == 0xc3) *v = true;
    else if (p[0] == 0xc2) *v = false;
    else { r->bad = true; return; }
    r->off += 1;
}

void rt_pack_get_f64(rt_pack_reader_t *r, double *v)
{
    const unsigned char *p = rt_pack_take(r);
    if (!p) return;
    if (p[0] == 0xcb && rt_pack_need(r, 9)) {
        uint64_t u = rt_pack_be(p + 1, 8);
        memcpy(v, &u, sizeof *v);
        r->off += 9;
    } else if (p[0] == 0xca && rt_pack_need(r, 5)) {
        uint32_t u = (uint32_t)rt_pack_be(p + 1, 4);
        float f;
        memcpy(&f, &u, sizeof f);
        *v = f;
        r->off += 5;
    } else {
        r->bad = true;
    }
}

void rt_pack_get_str(rt_pack_reader_t *r, rt_str_t *v)
{
    const unsigned char *p = rt_pack_take(r);
    if (!p) return;
    size_t hdr, n;
    if (p[0] == 0xc0) { v->p = NULL; v->n = 0; r->off += 1; return; }
    if ((p[0] & 0xe0) == 0xa0) { hdr = 1; n = p[0] & 0x1f; }
    else if (p[0] == 0xd9 && rt_pack_need(r, 2)) { hdr = 2; n = p[1]; }
    else if (p[0] == 0xda && rt_pack_need(r, 3)) { hdr = 3; n = rt_pack_be(p + 1, 2); }
    else if (p[0] == 0xdb && rt_pack_need(r, 5)) { hdr = 5; n = rt_pack_be(p + 1, 4); }
    else { r->bad = true; return; }
    if (!rt_pack_need(r, hdr + n)) return;
    v->p = (const char *)p + hdr;
    v->n = (uint32_t)n;
    r->off += hdr + n;
}
