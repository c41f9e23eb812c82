/* tgsim_util.h — small helpers shared by every tgsim file.
 *
 * Purpose: a growable byte buffer, UTF-8/UTF-16 arithmetic (Telegram counts
 * entity offsets in UTF-16 code units), base64, URL decoding, clocks, random
 * identifiers and SHA-256 (libsodium). Nothing here knows about Telegram.
 *
 * Exports: tgsim_buf_*, tgsim_xmalloc/xcalloc/xrealloc/xstrdup/xstrndup,
 * tgsim_utf8_*, tgsim_utf16_len, tgsim_b64_*, tgsim_url_decode,
 * tgsim_now_mono, tgsim_now_unix, tgsim_random_chars, tgsim_sha256_hex,
 * tgsim_parse_int64, tgsim_parse_double, tgsim_parse_bool, tgsim_strcaseeq,
 * tgsim_json_parse.
 *
 * Threads: every function is reentrant and may be called from any thread.
 * Allocation failure aborts the process (tgsim is a test tool; a half-built
 * reply would be worse than a crash).
 */
#ifndef TGSIM_UTIL_H
#define TGSIM_UTIL_H

#include <stddef.h>
#include <stdint.h>

typedef struct tgsim_buf {
    char *p;      /* always NUL-terminated when non-NULL */
    size_t len;
    size_t cap;
} tgsim_buf_t;

void *tgsim_xmalloc(size_t n);
void *tgsim_xcalloc(size_t n, size_t size);
void *tgsim_xrealloc(void *p, size_t n);
char *tgsim_xstrdup(const char *s);          /* NULL in, NULL out */
char *tgsim_xstrndup(const char *s, size_t n);

/* Append bytes / a C string / formatted text to `b`; the buffer grows as
 * needed and stays NUL-terminated. */
void tgsim_buf_put(tgsim_buf_t *b, const void *data, size_t len);
void tgsim_buf_puts(tgsim_buf_t *b, const char *s);
void tgsim_buf_printf(tgsim_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Hand the contents to the caller (malloc'd, NUL-terminated, never NULL) and
 * leave `b` empty. */
char *tgsim_buf_take(tgsim_buf_t *b);
void tgsim_buf_free(tgsim_buf_t *b);

/* 1 if s[0..len) is well-formed UTF-8 (no overlongs, no surrogates), else 0. */
int tgsim_utf8_valid(const char *s, size_t len);
/* Decode one code point at *p (< end) and advance *p. Malformed bytes decode
 * as U+FFFD consuming one byte. */
uint32_t tgsim_utf8_next(const char **p, const char *end);
/* Append code point `cp` as UTF-8. */
void tgsim_utf8_put(tgsim_buf_t *b, uint32_t cp);
/* Length of s[0..len) in UTF-16 code units. */
size_t tgsim_utf16_len(const char *s, size_t len);

/* Decode standard or URL-safe base64 (padding optional, whitespace ignored).
 * Returns 0 and a malloc'd *out, or -1 on a bad character. */
int tgsim_b64_decode(const char *in, size_t len, unsigned char **out, size_t *out_len);
/* Encode as standard base64 with padding into `b`. */
void tgsim_b64_encode(tgsim_buf_t *b, const unsigned char *in, size_t len);

/* Percent-decode s[0..len) ('+' becomes a space when plus_space) into a
 * malloc'd NUL-terminated string; *out_len gets the decoded length. */
char *tgsim_url_decode(const char *s, size_t len, int plus_space, size_t *out_len);

double tgsim_now_mono(void);     /* seconds since an arbitrary point */
int64_t tgsim_now_unix(void);    /* Unix seconds */

/* Fill out[0..n) with random characters from [A-Za-z0-9_-] and NUL-terminate
 * at out[n]. */
void tgsim_random_chars(char *out, size_t n);
/* Random non-negative integer below 2^53 (for ids). */
int64_t tgsim_random_i53(void);
/* Hex SHA-256 of data into out[65]. */
void tgsim_sha256_hex(const void *data, size_t len, char out[65]);

/* cJSON_ParseWithLength, but refuse (NULL) input nested deeper than 32
 * levels: cJSON recurses per level and civetweb threads have 100 KB stacks. */
struct cJSON;
struct cJSON *tgsim_json_parse(const char *s, size_t len);

/* Strict parsers: the whole string must be consumed (surrounding spaces
 * allowed). Return 0 on success, -1 otherwise. */
int tgsim_parse_int64(const char *s, int64_t *out);
int tgsim_parse_double(const char *s, double *out);
/* "true"/"1" -> 1, "false"/"0"/"" -> 0 (case-insensitive); -1 otherwise. */
int tgsim_parse_bool(const char *s);
int tgsim_strcaseeq(const char *a, const char *b);

#endif
