/* test_e2e_upload.c — files the bot sends (sendDocument, sendPhoto) go out
 * as multipart uploads from the outbox: the bytes Telegram (tgsim) receives
 * are exactly the stored ones, the caption and keyboard come along as form
 * fields, and a row whose file is missing fails cleanly without blocking
 * the chat.
 *
 * Tags: "e2e". Threads: main thread only.
 */
#include "t.h"

#include <sodium.h>

#include "e2e_harness.h"
#include "tgsim_harness.h"

#define UID 75001LL

/* A 1x1 PNG. */
static const char png_hex[] = "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
                              "0000000a49444154789c63000100000500010d0a2db40000000049454e44ae426082";

static void sha256_hex_of(const unsigned char *p, size_t n, char out[65])
{
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, p, n);
    sodium_bin2hex(out, 65, h, sizeof h);
}

static const char *file_sha(const cJSON *msg)
{
    const cJSON *files = cJSON_GetObjectItem(msg, "files");
    const cJSON *f = cJSON_GetArrayItem(files, 0);
    const cJSON *s = cJSON_GetObjectItem(f, "sha256");
    return cJSON_IsString(s) ? s->valuestring : NULL;
}

T_CASE_TAGGED(document_and_photo_uploaded_intact, "e2e")
{
    T_CHECK(e2e_user(UID, "Файл", NULL, true) == 0);
    /* a "PDF" of 200 KiB with every byte value */
    size_t n = 200 * 1024;
    unsigned char *doc = malloc(n);
    char *hex = malloc(2 * n + 3);
    T_CHECK(doc && hex);
    for (size_t i = 0; i < n; i++) doc[i] = (unsigned char)(i * 131 + 7);
    memcpy(doc, "%PDF-1.4\n", 9);
    strcpy(hex, "\\x");
    sodium_bin2hex(hex + 2, 2 * n + 1, doc, n);
    char want_doc[65], want_png[65];
    sha256_hex_of(doc, n, want_doc);
    unsigned char png[sizeof png_hex / 2];
    size_t png_len = 0;
    sodium_hex2bin(png, sizeof png, png_hex, strlen(png_hex), NULL, &png_len, NULL);
    sha256_hex_of(png, png_len, want_png);

    T_EQ_INT(e2e_sql_exec("INSERT INTO tg_files (id, filename, content_type, data)"
                          " VALUES (9001, 'waybill.pdf', 'application/pdf', $1::bytea)", hex, NULL), 0);
    char pnghex[sizeof png_hex + 3];
    snprintf(pnghex, sizeof pnghex, "\\x%s", png_hex);
    T_EQ_INT(e2e_sql_exec("INSERT INTO tg_files (id, filename, content_type, data)"
                          " VALUES (9002, 'proof.png', 'image/png', $1::bytea)", pnghex, NULL), 0);
    const char *chat = e2e_i(UID);
    T_EQ_INT(e2e_sql_exec("INSERT INTO tg_outbox (chat_id, method, params, file_id, file_field, dedupe_key) VALUES"
                          " ($1, 'sendDocument', json_build_object('chat_id', $1::bigint, 'caption', 'Накладная',"
                          "   'reply_markup', json_build_object('inline_keyboard', json_build_array(json_build_array("
                          "     json_build_object('text', 'OK', 'callback_data', 'x:y')))))::text, 9001, 'document', 'up1'),"
                          " ($1, 'sendPhoto', json_build_object('chat_id', $1::bigint)::text, 9002, 'photo', 'up2'),"
                          " ($1, 'sendDocument', json_build_object('chat_id', $1::bigint)::text, NULL, NULL, 'up3')",
                          chat, NULL), 0);
    /* the gateway replays pending rows when it starts */
    T_CHECK(e2e_p7_start() == 0);
    bool ok = false;
    cJSON *msgs = e2e_wait(UID, 2, 0, 30, &ok);
    T_CHECK(ok);
    const cJSON *m0 = cJSON_GetArrayItem(cJSON_GetObjectItem(msgs, "messages"), 0);
    const cJSON *m1 = cJSON_GetArrayItem(cJSON_GetObjectItem(msgs, "messages"), 1);
    T_EQ_STR(file_sha(m0), want_doc);
    T_EQ_STR(e2e_text(m0), "Накладная");
    /* the inline keyboard came along as a JSON form field */
    const cJSON *ik = cJSON_GetObjectItem(cJSON_GetObjectItem(m0, "reply_markup"), "inline_keyboard");
    const cJSON *b = cJSON_GetArrayItem(cJSON_GetArrayItem(ik, 0), 0);
    T_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItem(b, "callback_data")), "x:y");
    T_EQ_STR(file_sha(m1), want_png);
    cJSON_Delete(msgs);
    T_CHECK(e2e_sql_until(20, "sent sent", "SELECT string_agg(status, ' ' ORDER BY dedupe_key) FROM tg_outbox"
                          " WHERE dedupe_key IN ('up1', 'up2')", NULL));
    /* a document call without a file is refused by Telegram (400) and marked failed */
    T_CHECK(e2e_sql_until(20, "failed", "SELECT status FROM tg_outbox WHERE dedupe_key = 'up3'", NULL));
    free(doc);
    free(hex);
}

int main(void)
{
    if (sodium_init() < 0) return 1;
    e2e_init("upload", E2E_POLLING);
    return e2e_finish(t_run_all());
}
