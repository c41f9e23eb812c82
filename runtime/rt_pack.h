/* rt_pack.h — the typed msgpack layer for message payloads.
 *
 * Purpose: actor code never hand-rolls msgpack. A message type is declared
 * once, in a definition list (the application's is actors/msg_types.def),
 * as
 *
 *   #define tg_update_FIELDS(F) F(I64, update_id) F(STR, json)
 *   RT_MSG(tg_update, 100, "a stored Telegram update for one chat")
 *
 * and RT_PACK_DECLARE / RT_PACK_DEFINE (below) expand the list into, per
 * type:
 *
 *   enum { MSG_tg_update = 100 };
 *   typedef struct msg_tg_update { int64_t update_id; rt_str_t json; } msg_tg_update_t;
 *   rt_msg_t *msg_tg_update_new(const msg_tg_update_t *v);        // NULL on ENOMEM
 *   int msg_tg_update_decode(const rt_msg_t *m, msg_tg_update_t *out); // RT_OK / RT_EINVAL
 *
 * The payload is a msgpack array with one element per field, in order.
 * Decoded strings point into the message payload (zero copy): they are
 * valid while the message is, and are NOT NUL-terminated (use rt_str_dup or
 * %.*s). Field kinds: I64 (int64), BOOL, F64 (double), STR (UTF-8 string;
 * nil decodes to {NULL,0}).
 *
 * Exports: rt_str_t, rt_pack_writer_*, rt_pack_reader_*, RT_PACK_DECLARE,
 * RT_PACK_DEFINE, rt_str_dup, rt_str_eq.
 *
 * Threads: any; the functions touch only their arguments.
 */
#ifndef PLUS7_RT_PACK_H
#define PLUS7_RT_PACK_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <msgpack.h>

#include "rt.h"

typedef struct rt_str {
    const char *p;
    uint32_t n;
} rt_str_t;

#define RT_STR(cstr) ((rt_str_t){(cstr), (uint32_t)((cstr) ? strlen(cstr) : 0)})

/* malloc'd NUL-terminated copy of s (NULL if s.p is NULL or on ENOMEM). */
char *rt_str_dup(rt_str_t s);
/* s equals the C string c. */
bool rt_str_eq(rt_str_t s, const char *c);

/* ---- writer: packs straight into a growing rt_msg_t ---------------------- */
typedef struct rt_pack_writer {
    rt_msg_t *msg;        /* NULL after an allocation failure */
    msgpack_packer pk;
} rt_pack_writer_t;

/* Begin a message of `type` with an initial payload capacity hint. */
void rt_pack_writer_init(rt_pack_writer_t *w, uint16_t type, uint32_t cap_hint);
/* Finish: return the message (NULL if any allocation failed). */
rt_msg_t *rt_pack_writer_finish(rt_pack_writer_t *w);

void rt_pack_put_array(rt_pack_writer_t *w, uint32_t n);
void rt_pack_put_i64(rt_pack_writer_t *w, int64_t v);
void rt_pack_put_bool(rt_pack_writer_t *w, bool v);
void rt_pack_put_f64(rt_pack_writer_t *w, double v);
void rt_pack_put_str(rt_pack_writer_t *w, rt_str_t s); /* s.p NULL -> nil */

/* ---- reader: walks the top-level array of a payload ------------------------- */
typedef struct rt_pack_reader {
    const char *buf;
    size_t len, off;
    uint32_t left;        /* elements left in the top-level array */
    bool bad;
} rt_pack_reader_t;

/* Open the payload; expects an array of at least `nfields` elements (extra
 * trailing elements are ignored, so a type can grow). */
int rt_pack_reader_open(rt_pack_reader_t *r, const rt_msg_t *m, uint32_t nfields);
void rt_pack_get_i64(rt_pack_reader_t *r, int64_t *v);
void rt_pack_get_bool(rt_pack_reader_t *r, bool *v);
void rt_pack_get_f64(rt_pack_reader_t *r, double *v);
void rt_pack_get_str(rt_pack_reader_t *r, rt_str_t *v);

/* ---- generators ------------------------------------------------------------
 * A definition list declares each type's fields as a macro taking the
 * per-pass field macro, then names the type:
 *
 *   #define tg_update_FIELDS(F) F(I64, update_id) F(STR, json)
 *   RT_MSG(tg_update, 100, "a stored Telegram update for one chat")
 *
 * A header expands declarations with
 *   #define RT_MSG RT_PACK_DECLARE
 *   #include "msg_types.def"
 *   #undef RT_MSG
 * and exactly one .c file expands the code with RT_PACK_DEFINE. */
#define RT_PACK_STRUCT_(kind, n) RT_PACK_STRUCT_##kind(n)
#define RT_PACK_STRUCT_I64(n) int64_t n;
#define RT_PACK_STRUCT_BOOL(n) bool n;
#define RT_PACK_STRUCT_F64(n) double n;
#define RT_PACK_STRUCT_STR(n) rt_str_t n;

#define RT_PACK_COUNT_(kind, n) +1
#define RT_PACK_PUT_(kind, n) rt_pack_put_##kind(&w, v->n);
#define RT_PACK_GET_(kind, n) rt_pack_get_##kind(&r, &out->n);
#define rt_pack_put_I64 rt_pack_put_i64
#define rt_pack_put_BOOL rt_pack_put_bool
#define rt_pack_put_F64 rt_pack_put_f64
#define rt_pack_put_STR rt_pack_put_str
#define rt_pack_get_I64 rt_pack_get_i64
#define rt_pack_get_BOOL rt_pack_get_bool
#define rt_pack_get_F64 rt_pack_get_f64
#define rt_pack_get_STR rt_pack_get_str

#define RT_PACK_DECLARE(name, id, doc)                                          \
    enum { MSG_##name = (id) };                                                 \
    typedef struct msg_##name {                                                 \
        name##_FIELDS(RT_PACK_STRUCT_)                                          \
    } msg_##name##_t;                                                           \
    rt_msg_t *msg_##name##_new(const msg_##name##_t *v);                        \
    int msg_##name##_decode(const rt_msg_t *m, msg_##name##_t *out);

#define RT_PACK_DEFINE(name, id, doc)                                           \
    rt_msg_t *msg_##name##_new(const msg_##name##_t *v) {                       \
        rt_pack_writer_t w;                                                     \
        rt_pack_writer_init(&w, (id), 64);                                      \
        rt_pack_put_array(&w, 0 name##_FIELDS(RT_PACK_COUNT_));                 \
        name##_FIELDS(RT_PACK_PUT_)                                             \
        (void)v;                                                                \
        return rt_pack_writer_finish(&w);                                       \
    }                                                                           \
    int msg_##name##_decode(const rt_msg_t *m, msg_##name##_t *out) {           \
        rt_pack_reader_t r;                                                     \
        memset(out, 0, sizeof *out);                                            \
        if (m->type != (id)) return RT_EINVAL;                                  \
        if (rt_pack_reader_open(&r, m, 0 name##_FIELDS(RT_PACK_COUNT_)) != RT_OK) \
            return RT_EINVAL;                                                   \
        name##_FIELDS(RT_PACK_GET_)                                             \
        return r.bad ? RT_EINVAL : RT_OK;                                       \
    }

#endif
