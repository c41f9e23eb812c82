/* utf8.h — UTF-8 text that is never cut inside a character.
 *
 * Purpose: the one place that cuts, copies, counts and checks UTF-8 text
 * people send or read. A fixed-size buffer filled with snprintf or strncpy
 * can end in the middle of a Cyrillic letter or an emoji; PostgreSQL then
 * refuses the whole row (and the transaction carrying it), and Telegram
 * refuses the message. Every place that bounds outside text goes through
 * these functions instead: they cut on a character boundary and turn
 * invalid bytes into U+FFFD, so what comes out is always valid UTF-8.
 *
 * Valid means RFC 3629: shortest forms only, no surrogates (U+D800..DFFF),
 * nothing above U+10FFFF.
 *
 * Exports: utf8_seq_len, utf8_valid, utf8_cut, utf8_drop_partial, utf8_copy,
 * utf8_trim_copy, utf8_repaired, utf8_chars, utf8_cut_chars, UTF8_REPLACEMENT.
 * Threads: any (pure functions).
 */
#ifndef PLUS7_UTF8_H
#define PLUS7_UTF8_H

#include <stdbool.h>
#include <stddef.h>

#define UTF8_REPLACEMENT "\xEF\xBF\xBD"   /* U+FFFD, 3 bytes */

/* The length in bytes of the valid UTF-8 character at s (n bytes
 * available, n >= 1), or 0 when the bytes there are not a valid character
 * (a stray continuation byte, a truncated or overlong sequence, a
 * surrogate, a code point above U+10FFFF). */
size_t utf8_seq_len(const unsigned char *s, size_t n);

/* Whether the n bytes at s are valid UTF-8 (NUL bytes count as valid). */
bool utf8_valid(const char *s, size_t n);

/* The largest length <= max at which the NUL-terminated string s can be
 * cut without splitting a character: strlen(s) when it is shorter than
 * max, else max moved back over the continuation bytes of a character that
 * would not fit. (Invalid bytes are treated as one-byte characters.) */
size_t utf8_cut(const char *s, size_t max);

/* Copy src (NULL = "") into dst[dstsz] like snprintf("%s") but cut on a
 * character boundary and with invalid bytes replaced by U+FFFD (a
 * replacement that does not fit is left out). dst is always terminated
 * when dstsz > 0. Returns the number of bytes written (without the NUL). */
size_t utf8_copy(char *dst, size_t dstsz, const char *src);

/* The largest length <= len at which the first len bytes of s end on a
 * whole character: len itself, or less when s[len-1] is inside a character
 * that continues past len (for buffers filled byte by byte). */
size_t utf8_drop_partial(const char *s, size_t len);

/* utf8_copy of src without its leading and trailing spaces, tabs, CR and LF. */
size_t utf8_trim_copy(char *dst, size_t dstsz, const char *src);

/* A malloc'd copy of the NUL-terminated s with every invalid byte
 * sequence replaced by U+FFFD (the caller frees). NULL when out of memory. */
char *utf8_repaired(const char *s);

/* Number of characters (code points) of a valid UTF-8 string. */
size_t utf8_chars(const char *s);

/* The byte length of the first `chars` characters of s (all of s when it
 * has fewer). */
size_t utf8_cut_chars(const char *s, size_t chars);

#endif
