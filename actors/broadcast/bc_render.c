/* bc_render.c — a broadcast's messages (see bc_render.h).
 * Exports: bc_render_message, bc_progress_text, bc_progress_params,
 * bc_counts_final. Threads: any.
 */
#include "bc_render.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "order_status.h"
#include "template.h"
#include "texts.h"
#include "tg_markup.h"
#include "timefmt.h"

char *bc_render_message(const char *body, const bc_recipient_t *r)
{
    order_status_t st = ORDER_NONE;
    char deadline[40] = "";
    if (r->status) order_status_parse(r->status, &st);
    if (r->storage_until_ms && *r->storage_until_ms)
        timefmt_msk(strtoll(r->storage_until_ms, NULL, 10), deadline, sizeof deadline);
    tpl_var_t vars[] = {
        {"name", r->first_name},
        {"posting", r->posting},
        {"status", st != ORDER_NONE ? order_status_name_ru(st) : NULL},
        {"pickup_point", r->pickup_point},
        {"storage_deadline", deadline[0] ? deadline : NULL},
        {"address", r->address},
    };
    char *text = tpl_render(body, vars, (int)(sizeof vars / sizeof vars[0]), true);
    if (!text) return NULL;
    const char *t = text;
    while (*t == ' ' || *t == '\n' || *t == '\t' || *t == '\r') t++;
    char *params = *t ? tg_params_send_message(r->chat_id, text, NULL) : NULL;
    free(text);
    return params;
}

void bc_progress_text(int64_t id, const bc_counts_t *c, bool final, char *out, size_t outsz)
{
    long long left = (long long)(c->total - c->sent - c->failed);
    if (left < 0) left = 0;
    if (final)
        snprintf(out, outsz, text_get(T_BC_DONE), (long long)id, (long long)c->sent, (long long)c->failed);
    else
        snprintf(out, outsz, text_get(T_BC_PROGRESS), (long long)id, (long long)c->sent, (long long)c->failed,
                 left);
}

char *bc_progress_params(int64_t chat_id, int64_t message_id, const char *text)
{
    if (message_id <= 0) return tg_params_send_message(chat_id, text, NULL);
    cJSON *p = cJSON_CreateObject();
    if (!p) return NULL;
    cJSON_AddNumberToObject(p, "chat_id", (double)chat_id);
    cJSON_AddNumberToObject(p, "message_id", (double)message_id);
    cJSON_AddStringToObject(p, "text", text);
    cJSON_AddStringToObject(p, "parse_mode", "HTML");
    char *s = cJSON_PrintUnformatted(p);
    cJSON_Delete(p);
    return s;
}

bool bc_counts_final(const bc_counts_t *c) { return c->pending == 0 && c->queued == 0; }
