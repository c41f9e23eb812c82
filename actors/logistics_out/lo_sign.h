/* lo_sign.h — the signature of a logistics request body.
 *
 * Purpose: the header value both directions of the logistics integration
 * carry (DESIGN.md): "sha256=<hex HMAC-SHA256 of the raw body with
 * PLUS7_LOGISTICS_SECRET>". The outbound sender signs with it; the
 * emulated logistics system (tools/logisim) checks it the same way.
 *
 * Exports: LO_SIGNATURE_MAX, lo_sign.
 * Threads: any (pure; libsodium's HMAC needs no initialisation).
 */
#ifndef PLUS7_LO_SIGN_H
#define PLUS7_LO_SIGN_H

#include <stddef.h>

#define LO_SIGNATURE_MAX 72   /* "sha256=" + 64 hex digits + NUL */

/* Write "sha256=<hex>" for `body` (len bytes) under `secret` into out
 * (at least LO_SIGNATURE_MAX bytes). RT_OK, or RT_EINVAL for NULL input. */
int lo_sign(const char *secret, const void *body, size_t len, char out[LO_SIGNATURE_MAX]);

#endif
