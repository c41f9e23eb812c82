/* pay.c — the payments module's configuration and start-up (see pay.h).
 * Exports: pay_register, pay_start, pay_config, pay_yk_enabled,
 * pay_auth_header. Threads: main thread (register/start); the getters
 * from any thread afterwards (the copy is never modified again).
 */
#include "pay.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conv_pay.h"
#include "msg_types.h"

static pay_cfg_t pay_cfg_copy;
static char *pay_auth;

static const char *pay_dup(const char *s) { return s ? strdup(s) : NULL; }

const pay_cfg_t *pay_config(void) { return &pay_cfg_copy; }

bool pay_yk_enabled(void) { return pay_cfg_copy.yk_shop_id && pay_cfg_copy.yk_secret && pay_auth; }

const char *pay_auth_header(void) { return pay_auth ? pay_auth : ""; }

int pay_register(rt_runtime_t *rt, const pay_cfg_t *cfg)
{
    pay_cfg_t *c = &pay_cfg_copy;
    *c = *cfg;
    c->provider_token = pay_dup(cfg->provider_token);
    c->yk_api = pay_dup(cfg->yk_api ? cfg->yk_api : "https://api.yookassa.ru/v3");
    c->yk_shop_id = pay_dup(cfg->yk_shop_id);
    c->yk_secret = pay_dup(cfg->yk_secret);
    c->bank = (pay_gost_t){pay_dup(cfg->bank.name), pay_dup(cfg->bank.account), pay_dup(cfg->bank.bank),
                           pay_dup(cfg->bank.bic), pay_dup(cfg->bank.corr), pay_dup(cfg->bank.inn)};
    if (c->sweep_ms <= 0) c->sweep_ms = 2000;
    if (c->yk_shop_id && c->yk_secret) {
        if (sodium_init() < 0) return RT_EIO;
        char cred[512];
        int n = snprintf(cred, sizeof cred, "%s:%s", c->yk_shop_id, c->yk_secret);
        if (n <= 0 || (size_t)n >= sizeof cred) return RT_EINVAL;
        size_t b64 = sodium_base64_encoded_len((size_t)n, sodium_base64_VARIANT_ORIGINAL);
        pay_auth = malloc(b64 + 32);
        if (!pay_auth) return RT_ENOMEM;
        strcpy(pay_auth, "Authorization: Basic ");
        sodium_bin2base64(pay_auth + strlen(pay_auth), b64, (const unsigned char *)cred, (size_t)n,
                          sodium_base64_VARIANT_ORIGINAL);
        sodium_memzero(cred, sizeof cred);
    }
    conv_pay_cfg_t cc = {
        .provider_token = c->provider_token,
        .qr = pay_yk_enabled(),
        .bank = c->bank.name != NULL && pay_gost_check(&c->bank, NULL) == RT_OK,
        .gost = c->bank,
        .poke = pay_poke,
    };
    conv_pay_configure(&cc);
    int rc = rt_kind_register(rt, &pay_kind);
    if (rc == RT_OK) rc = rt_kind_register(rt, &pay_sweeper_kind);
    return rc;
}

int pay_start(rt_runtime_t *rt)
{
    msg_pay_poke_t p = {0};
    rt_msg_t *m = msg_pay_poke_new(&p);
    return m ? rt_send_key(rt, &pay_sweeper_kind, "main", m) : RT_ENOMEM;
}
