/* test_rt_pack.c — the typed msgpack layer (runtime/rt_pack.h): message
 * types declared with the X-macro pattern round-trip; bad payloads decode
 * to RT_EINVAL and never read out of bounds.
 *
 * Threads: the main thread only.
 */
#include "rt_pack.h"
#include "t.h"

#include <float.h>
#include <stdlib.h>

/* A tiny definition list, as actors/msg_types.def does for the service. */
#define TEST_TYPES(X)                                                             \
    X(t_order, 900, "an order snapshot")                                          \
    X(t_empty, 901, "no fields at all")                                           \
    X(t_text, 902, "one string")
#define t_order_FIELDS(F) F(I64, id) F(STR, posting) F(BOOL, paid) F(F64, weight) F(STR, note)
#define t_empty_FIELDS(F)
#define t_text_FIELDS(F) F(STR, s)

TEST_TYPES(RT_PACK_DECLARE)
TEST_TYPES(RT_PACK_DEFINE)

T_CASE(pack_round_trip_all_field_kinds)
{
    msg_t_order_t in = {.id = -1234567890123LL, .posting = RT_STR("0123456789-0001-1"), .paid = true,
                        .weight = 1.25, .note = {NULL, 0}};
    rt_msg_t *m = msg_t_order_new(&in);
    T_CHECK(m);
    T_EQ_INT(m->type, MSG_t_order);
    msg_t_order_t out;
    T_EQ_INT(msg_t_order_decode(m, &out), RT_OK);
    T_EQ_INT(out.id, in.id);
    T_CHECK(rt_str_eq(out.posting, "0123456789-0001-1"));
    T_CHECK(out.paid);
    T_CHECK(out.weight == 1.25);
    T_CHECK(out.note.p == NULL && out.note.n == 0);   /* nil string */
    char *dup = rt_str_dup(out.posting);
    T_EQ_STR(dup, "0123456789-0001-1");
    free(dup);
    T_CHECK(rt_str_dup(out.note) == NULL);
    rt_msg_free(m);
}

T_CASE(pack_round_trip_extremes_and_long_strings)
{
    int64_t ints[] = {0, 1, -1, 127, 128, -32, -33, 255, 256, 65535, 65536, -32768, -32769,
                      INT32_MAX, INT32_MIN, (int64_t)UINT32_MAX + 1, INT64_MAX, INT64_MIN};
    size_t lens[] = {0, 31, 32, 255, 256, 65535, 65536, 200000};
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        size_t n = lens[i % (sizeof lens / sizeof lens[0])];
        char *buf = malloc(n + 1);
        for (size_t j = 0; j < n; j++) buf[j] = (char)('a' + (j % 26));
        buf[n] = '\0';
        msg_t_order_t in = {.id = ints[i], .posting = {buf, (uint32_t)n}, .paid = (i & 1) != 0,
                            .weight = (i & 1) ? DBL_MAX : -0.0, .note = RT_STR("")};
        rt_msg_t *m = msg_t_order_new(&in);
        T_CHECK(m);
        msg_t_order_t out;
        T_EQ_INT(msg_t_order_decode(m, &out), RT_OK);
        T_EQ_INT(out.id, ints[i]);
        T_EQ_INT(out.posting.n, n);
        T_CHECK(n == 0 || memcmp(out.posting.p, buf, n) == 0);
        T_EQ_INT(out.paid, (i & 1) != 0);
        T_CHECK(out.weight == in.weight);
        T_CHECK(out.note.p != NULL && out.note.n == 0);   /* empty, not nil */
        rt_msg_free(m);
        free(buf);
    }
    msg_t_empty_t e;
    memset(&e, 0, sizeof e);
    rt_msg_t *m = msg_t_empty_new(&e);
    T_CHECK(m);
    T_EQ_INT(msg_t_empty_decode(m, &e), RT_OK);
    rt_msg_free(m);
}

/* Payload helpers for hand-made (bad) messages. */
static rt_msg_t *raw(uint16_t type, const void *bytes, uint32_t n)
{
    rt_msg_t *m = rt_msg_new(type, n);
    memcpy(m->payload, bytes, n);
    m->len = n;
    return m;
}

T_CASE(pack_bad_payloads_are_einval)
{
    msg_t_order_t o;
    msg_t_text_t t;
    /* wrong type id */
    msg_t_text_t tin = {.s = RT_STR("hi")};
    rt_msg_t *m = msg_t_text_new(&tin);
    T_EQ_INT(msg_t_order_decode(m, &o), RT_EINVAL);
    T_EQ_INT(msg_t_text_decode(m, &t), RT_OK);
    /* every truncation of a valid payload fails cleanly */
    for (uint32_t cut = 0; cut < m->len; cut++) {
        rt_msg_t *c = raw(MSG_t_text, m->payload, cut);
        T_EQ_INT(msg_t_text_decode(c, &t), RT_EINVAL);
        rt_msg_free(c);
    }
    rt_msg_free(m);
    msg_t_order_t oin = {.id = 7, .posting = RT_STR("p"), .paid = false, .weight = 2.5, .note = RT_STR("n")};
    m = msg_t_order_new(&oin);
    for (uint32_t cut = 0; cut < m->len; cut++) {
        rt_msg_t *c = raw(MSG_t_order, m->payload, cut);
        T_EQ_INT(msg_t_order_decode(c, &o), RT_EINVAL);
        rt_msg_free(c);
    }
    rt_msg_free(m);

    /* empty payload, not an array, too few fields */
    m = raw(MSG_t_text, "", 0);
    T_EQ_INT(msg_t_text_decode(m, &t), RT_EINVAL);
    rt_msg_free(m);
    m = raw(MSG_t_text, "\xa2hi", 3);                 /* a bare string */
    T_EQ_INT(msg_t_text_decode(m, &t), RT_EINVAL);
    rt_msg_free(m);
    m = raw(MSG_t_order, "\x92\x07\xa1p", 4);         /* 2 of 5 fields */
    T_EQ_INT(msg_t_order_decode(m, &o), RT_EINVAL);
    rt_msg_free(m);
    /* wrong field kinds */
    m = raw(MSG_t_text, "\x91\x07", 2);               /* int where a string is */
    T_EQ_INT(msg_t_text_decode(m, &t), RT_EINVAL);
    rt_msg_free(m);
    m = raw(MSG_t_order, "\x95\xa1x\xa1p\xc2\xcb\0\0\0\0\0\0\0\0\xc0", 16); /* string id */
    T_EQ_INT(msg_t_order_decode(m, &o), RT_EINVAL);
    rt_msg_free(m);
    m = raw(MSG_t_order, "\x95\x01\xa1p\x01\xcb\0\0\0\0\0\0\0\0\xc0", 15);  /* int for bool */
    T_EQ_INT(msg_t_order_decode(m, &o), RT_EINVAL);
    rt_msg_free(m);
    /* a string length that runs past the payload */
    m = raw(MSG_t_text, "\x91\xdb\x7f\xff\xff\xff" "abc", 9);
    T_EQ_INT(msg_t_text_decode(m, &t), RT_EINVAL);
    rt_msg_free(m);
    m = raw(MSG_t_text, "\x91\xd9\x10" "abc", 6);
    T_EQ_INT(msg_t_text_decode(m, &t), RT_EINVAL);
    rt_msg_free(m);
    /* an array header claiming more elements than present */
    m = raw(MSG_t_text, "\xdd\x00\x01\x00\x00\xa1x", 7);
    T_EQ_INT(msg_t_text_decode(m, &t), RT_OK);        /* first field is there */
    rt_msg_free(m);
    m = raw(MSG_t_order, "\xdd\x00\x01\x00\x00\x01", 6);
    T_EQ_INT(msg_t_order_decode(m, &o), RT_EINVAL);   /* the second is not */
    rt_msg_free(m);
    /* uint64 above INT64_MAX does not fit an I64 */
    m = raw(MSG_t_order, "\x95\xcf\xff\xff\xff\xff\xff\xff\xff\xff\xa1p\xc2\xcb\0\0\0\0\0\0\0\0\xc0", 23);
    T_EQ_INT(msg_t_order_decode(m, &o), RT_EINVAL);
    rt_msg_free(m);
}

T_CASE(pack_extra_trailing_fields_are_ignored)
{
    /* a newer sender may append fields: [s, 1, true] still decodes as t_text */
    rt_msg_t *m = raw(MSG_t_text, "\x93\xa2hi\x01\xc3", 6);
    msg_t_text_t t;
    T_EQ_INT(msg_t_text_decode(m, &t), RT_OK);
    T_CHECK(rt_str_eq(t.s, "hi"));
    T_CHECK(!rt_str_eq(t.s, "h"));
    rt_msg_free(m);
}

T_CASE(pack_writer_grows_and_reader_reads_floats)
{
    rt_pack_writer_t w;
    rt_pack_writer_init(&w, 77, 1);   /* tiny hint: forces reallocations */
    rt_pack_put_array(&w, 3);
    rt_pack_put_f64(&w, -3.5);
    rt_pack_put_i64(&w, 42);
    char big[5000];
    memset(big, 'z', sizeof big);
    rt_pack_put_str(&w, (rt_str_t){big, sizeof big});
    rt_msg_t *m = rt_pack_writer_finish(&w);
    T_CHECK(m);
    T_CHECK(m->len > sizeof big);
    rt_pack_reader_t r;
    T_EQ_INT(rt_pack_reader_open(&r, m, 3), RT_OK);
    double d = 0;
    int64_t i = 0;
    rt_str_t s = {0};
    rt_pack_get_f64(&r, &d);
    rt_pack_get_i64(&r, &i);
    rt_pack_get_str(&r, &s);
    T_CHECK(!r.bad);
    T_CHECK(d == -3.5);
    T_EQ_INT(i, 42);
    T_EQ_INT(s.n, sizeof big);
    /* reading past the array's end marks the reader bad */
    rt_pack_get_i64(&r, &i);
    T_CHECK(r.bad);
    rt_msg_free(m);
    /* a float32 on the wire reads as a double */
    m = raw(78, "\x91\xca\x40\x20\x00\x00", 6);   /* 2.5f */
    T_EQ_INT(rt_pack_reader_open(&r, m, 1), RT_OK);
    rt_pack_get_f64(&r, &d);
    T_CHECK(!r.bad && d == 2.5);
    rt_msg_free(m);
}

T_MAIN()
