/* pay_qr.h — payment QR codes: a PNG of any text (libqrencode + libpng)
 * and the GOST R 56042-2014 bank-transfer payload.
 *
 * Exports: pay_qr_png, pay_qr_bytea, pay_gost_t, pay_gost_check,
 * pay_gost_payload.
 * Threads: any (pure; libqrencode and libpng keep no shared state here).
 */
#ifndef PLUS7_PAY_QR_H
#define PLUS7_PAY_QR_H

#include <stddef.h>
#include <stdint.h>

/* Encode `text` (UTF-8, byte mode, error correction M) as a black-on-white
 * 8-bit grey PNG, `scale` pixels per module (1..32) with the standard
 * 4-module quiet zone. On RT_OK *png (malloc'd, caller frees) holds *len
 * bytes. RT_EINVAL for empty or too long text, RT_ENOMEM. */
int pay_qr_png(const char *text, int scale, unsigned char **png, size_t *len);

/* The same PNG as PostgreSQL bytea text ("\\x89504e47…", malloc'd, caller
 * frees) for a text parameter. RT_OK or pay_qr_png's errors. */
int pay_qr_bytea(const char *text, char **hex);

/* Recipient details of a bank QR (PLUS7_PAY_BANK_*). */
typedef struct pay_gost {
    const char *name;       /* Name, <= 160 */
    const char *account;    /* PersonalAcc, 20 characters */
    const char *bank;       /* BankName, <= 45 */
    const char *bic;        /* BIC, 9 digits */
    const char *corr;       /* CorrespAcc, 20 characters */
    const char *inn;        /* PayeeINN, 10 or 12 digits */
} pay_gost_t;

/* Check the recipient details: RT_OK, or RT_EINVAL with *field naming
 * the bad one ("account", "bic", ...). */
int pay_gost_check(const pay_gost_t *g, const char **field);

/* "ST00012|Name=…|PersonalAcc=…|BankName=…|BIC=…|CorrespAcc=…|PayeeINN=…|
 * Sum=<kopecks>|Purpose=…" into out. A '|' inside a value switches the
 * separator to the first of "#;:^_~" that no value contains, as the
 * standard says. RT_OK, RT_EINVAL (details bad, no free separator, too
 * long for outsz). */
int pay_gost_payload(const pay_gost_t *g, int64_t sum_kop, const char *purpose, char *out, size_t outsz);

#endif
