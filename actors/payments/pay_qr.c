/* pay_qr.c — QR PNGs and the GOST R 56042-2014 payload (see pay_qr.h).
 * Exports: see pay_qr.h. Threads: any.
 */
#include "pay_qr.h"

#include <png.h>
#include <qrencode.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rt.h"

#define QR_QUIET 4
#define QR_TEXT_MAX 2000

typedef struct qr_buf {
    unsigned char *data;
    size_t len, cap;
    bool failed;
} qr_buf_t;

static void qr_write(png_structp png, png_bytep data, png_size_t n)
{
    qr_buf_t *b = png_get_io_ptr(png);
    if (b->failed) return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 4096;
        while (cap < b->len + n) cap *= 2;
        unsigned char *d = realloc(b->data, cap);
        if (!d) { b->failed = true; return; }
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, data, n);
    b->len += n;
}

static void qr_flush(png_structp png) { (void)png; }

int pay_qr_png(const char *text, int scale, unsigned char **out, size_t *outlen)
{
    *out = NULL;
    *outlen = 0;
    if (!text || !*text || strlen(text) > QR_TEXT_MAX || scale < 1 || scale > 32) return RT_EINVAL;
    QRcode *qr = QRcode_encodeData((int)strlen(text), (const unsigned char *)text, 0, QR_ECLEVEL_M);
    if (!qr) return RT_ENOMEM;
    int side = (qr->width + 2 * QR_QUIET) * scale;
    unsigned char *row = malloc((size_t)side);
    qr_buf_t buf = {0};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    int rc = RT_ENOMEM;
    if (row && png && info && setjmp(png_jmpbuf(png)) == 0) {
        png_set_write_fn(png, &buf, qr_write, qr_flush);
        png_set_IHDR(png, info, (png_uint_32)side, (png_uint_32)side, 8, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
                     PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
        png_write_info(png, info);
        for (int y = 0; y < side; y++) {
            int my = y / scale - QR_QUIET;
            for (int x = 0; x < side; x++) {
                int mx = x / scale - QR_QUIET;
                bool dark = my >= 0 && my < qr->width && mx >= 0 && mx < qr->width &&
                            (qr->data[my * qr->width + mx] & 1);
                row[x] = dark ? 0 : 255;
            }
            png_write_row(png, row);
        }
        png_write_end(png, NULL);
        rc = buf.failed ? RT_ENOMEM : RT_OK;
    }
    png_destroy_write_struct(png ? &png : NULL, info ? &info : NULL);
    free(row);
    QRcode_free(qr);
    if (rc != RT_OK) { free(buf.data); return rc; }
    *out = buf.data;
    *outlen = buf.len;
    return RT_OK;
}

int pay_qr_bytea(const char *text, char **hex)
{
    unsigned char *png = NULL;
    size_t len = 0;
    *hex = NULL;
    int rc = pay_qr_png(text, 6, &png, &len);
    if (rc != RT_OK) return rc;
    char *h = malloc(2 * len + 3);
    if (!h) { free(png); return RT_ENOMEM; }
    static const char digits[] = "0123456789abcdef";
    h[0] = '\\';
    h[1] = 'x';
    for (size_t i = 0; i < len; i++) {
        h[2 + 2 * i] = digits[png[i] >> 4];
        h[3 + 2 * i] = digits[png[i] & 15];
    }
    h[2 + 2 * len] = '\0';
    free(png);
    *hex = h;
    return RT_OK;
}

/* ---- GOST R 56042-2014 --------------------------------------------------------- */

static bool gost_digits(const char *s, size_t min, size_t max)
{
    size_t n = s ? strlen(s) : 0;
    if (n < min || n > max) return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9') return false;
    return true;
}

/* 20 characters: ^[1-9]\d{4}[0-9ABCEHKMPTX]\d{14}$ */
static bool gost_account(const char *s)
{
    if (!s || strlen(s) != 20 || s[0] < '1' || s[0] > '9') return false;
    for (int i = 1; i < 20; i++) {
        if (i == 5 ? !strchr("0123456789ABCEHKMPTX", s[i]) || !s[i] : (s[i] < '0' || s[i] > '9')) return false;
    }
    return true;
}

/* Length in characters (UTF-8 code points). */
static size_t gost_chars(const char *s)
{
    size_t n = 0;
    for (; s && *s; s++) n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

int pay_gost_check(const pay_gost_t *g, const char **field)
{
    const char *dummy;
    if (!field) field = &dummy;
    if (!g->name || !*g->name || gost_chars(g->name) > 160) { *field = "name"; return RT_EINVAL; }
    if (!gost_account(g->account)) { *field = "account"; return RT_EINVAL; }
    if (!g->bank || !*g->bank || gost_chars(g->bank) > 45) { *field = "bank"; return RT_EINVAL; }
    if (!gost_digits(g->bic, 9, 9)) { *field = "bic"; return RT_EINVAL; }
    if (!gost_account(g->corr)) { *field = "corr"; return RT_EINVAL; }
    if (!gost_digits(g->inn, 10, 12) || strlen(g->inn) == 11) { *field = "inn"; return RT_EINVAL; }
    return RT_OK;
}

int pay_gost_payload(const pay_gost_t *g, int64_t sum_kop, const char *purpose, char *out, size_t outsz)
{
    if (pay_gost_check(g, NULL) != RT_OK || sum_kop <= 0 || !purpose || gost_chars(purpose) > 160) return RT_EINVAL;
    const char *vals[] = {g->name, g->account, g->bank, g->bic, g->corr, g->inn, purpose};
    char sep = 0;
    for (const char *c = "|#;:^_~"; *c && !sep; c++) {
        bool used = false;
        for (size_t i = 0; i < sizeof vals / sizeof vals[0] && !used; i++) used = strchr(vals[i], *c) != NULL;
        if (!used) sep = *c;
    }
    if (!sep) return RT_EINVAL;
    int n = snprintf(out, outsz, "ST00012%cName=%s%cPersonalAcc=%s%cBankName=%s%cBIC=%s%cCorrespAcc=%s"
                                 "%cPayeeINN=%s%cSum=%lld%cPurpose=%s",
                     sep, g->name, sep, g->account, sep, g->bank, sep, g->bic, sep, g->corr, sep, g->inn, sep,
                     (long long)sum_kop, sep, purpose);
    return n > 0 && (size_t)n < outsz ? RT_OK : RT_EINVAL;
}
