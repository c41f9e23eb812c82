/* fuzz_ozon_posting.c — fuzz target: everything that reads Ozon's answers.
 *
 * The input is read as a posting object (ozon_posting_parse), a
 * /v3/posting/fbs/get reply (ozon_fetch_result), a /v4/posting/fbs/list page
 * (ozon_list_parse), a status-method reply (ozon_push_parse) and an error
 * envelope (ozon_classify).
 * Invariants: an accepted posting has a valid posting number, an items
 * array and comma-free actions; a refused one leaves nothing allocated;
 * every posting of an accepted page parses again with the same number;
 * error texts stay log-safe (no quotes, backslashes or control bytes).
 * Exports: LLVMFuzzerTestOneInput. Threads: the fuzzer's.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ozon_api.h"
#include "ozon_posting.h"
#include "posting.h"
#include "rt.h"

static void fuzz_log_safe(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == '"' || *s == '\\' || *s == 0x7f) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *json = (const char *)data;
    ozon_posting_t p;
    int rc = ozon_posting_parse(json, size, &p);
    if (rc == RT_OK) {
        if (!posting_is_valid(p.posting_number) || !p.items || p.items[0] != '[' || !p.available_actions) abort();
        if (p.weight_g < 0) abort();
        ozon_posting_free(&p);
    } else if (p.items || p.available_actions || p.customer_name || p.addressee_name || p.address) {
        abort();
    }

    char *res = NULL;
    if (ozon_fetch_result(json, size, &res) == RT_OK) {
        if (ozon_posting_parse(res, strlen(res), &p) != RT_OK) abort();
        ozon_posting_free(&p);
        free(res);
    } else if (res) {
        abort();
    }

    ozon_list_page_t pg;
    if (ozon_list_parse(json, size, &pg) == RT_OK) {
        if (pg.n < 0 || pg.skipped < 0 || !pg.cursor) abort();
        for (int i = 0; i < pg.n; i++) {
            if (!posting_is_valid(pg.number[i])) abort();
            if (ozon_posting_parse(pg.json[i], strlen(pg.json[i]), &p) != RT_OK) abort();
            if (strcmp(p.posting_number, pg.number[i]) != 0) abort();
            ozon_posting_free(&p);
        }
        ozon_list_page_free(&pg);
    }

    ozon_push_result_t pr;
    if (ozon_push_parse(json, size, "12345678-0001-1", &pr) == RT_OK) {
        fuzz_log_safe(pr.error);
        if (pr.ok && pr.error[0]) abort();
    }

    ozon_error_t e;
    ozon_class_t c = ozon_classify(RT_OK, 400 + (long)(size % 200), json, size, NULL, &e);
    if (c < 0 || c >= OZON_CLASS_N) abort();
    fuzz_log_safe(e.code);
    fuzz_log_safe(e.message);
    return 0;
}
