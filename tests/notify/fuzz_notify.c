/* fuzz_notify.c — fuzz target: what the notifier reads from outside.
 *
 * The first byte picks the parser, the rest is its input:
 *   0  an SMS.ru /sms/send reply (smsru_parse): the outcome is one of the
 *      three, a 'sent' outcome has a 100-103 code, texts are terminated;
 *   1  a template (operators type them): tpl_check_ex, tpl_check_html, and
 *      when it passes, tpl_render (html and plain) must succeed and tidy;
 *   2  a notify_outbox row's vars JSON rendered through notify_render_*
 *      with a fixed template: never NULL, the params are JSON.
 * Exports: LLVMFuzzerTestOneInput. Threads: the fuzzer's.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "notify_render.h"
#include "rt.h"
#include "smsru.h"
#include "template.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    int mode = data[0] % 3;
    char *s = malloc(size);
    if (!s) return 0;
    memcpy(s, data + 1, size - 1);
    s[size - 1] = '\0';
    if (mode == 0) {
        smsru_result_t r;
        smsru_parse(true, NULL, 200, (const char *)data + 1, size - 1, "+79491234501", &r);
        if (r.outcome != SMSRU_SENT && r.outcome != SMSRU_RETRY && r.outcome != SMSRU_FAILED) abort();
        if (r.outcome == SMSRU_SENT && (r.code < 100 || r.code > 103)) abort();
        if (strnlen(r.text, sizeof r.text) == sizeof r.text || strnlen(r.sms_id, sizeof r.sms_id) == sizeof r.sms_id)
            abort();
    } else if (mode == 1) {
        char bad[64];
        tpl_problem_t pr;
        int rc = tpl_check_ex(s, bad, sizeof bad, &pr);
        tpl_check_html(s, bad, sizeof bad);
        if (rc == RT_OK) {
            tpl_var_t v[] = {{"posting", "12345678-0001-1"}, {"name", "<&\">"}, {"days", "3"}};
            for (int html = 0; html < 2; html++) {
                char *out = tpl_render(s, v, 3, html);
                if (!out) abort();
                tpl_tidy(out);
                free(out);
            }
        } else if (pr == TPL_OK) {
            abort();
        }
    } else {
        notify_row_t row = {.event = "pickup_reminder_3", .posting = "12345678-0001-1", .vars_json = s,
                            .tpl = "{name} {posting} {status} {pickup_point} {storage_deadline} {days}"};
        unsigned flags;
        char *text = notify_render_text(&row, false, &flags);
        if (!text) abort();
        free(text);
        char *params = notify_render_tg_params(&row, 42, &flags);
        cJSON *j = params ? cJSON_Parse(params) : NULL;
        if (!j) abort();
        cJSON_Delete(j);
        free(params);
    }
    free(s);
    return 0;
}
