/* lo_sign.c — the logistics body signature (see lo_sign.h).
 * Exports: lo_sign. Threads: any.
 */
#include "lo_sign.h"

#include <string.h>

#include <sodium.h>

#include "rt.h"

int lo_sign(const char *secret, const void *body, size_t len, char out[LO_SIGNATURE_MAX])
{
    if (!secret || (!body && len)) return RT_EINVAL;
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, strlen(secret));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, len);
    crypto_auth_hmacsha256_final(&st, mac);
    memcpy(out, "sha256=", 7);
    sodium_bin2hex(out + 7, LO_SIGNATURE_MAX - 7, mac, sizeof mac);
    return RT_OK;
}
