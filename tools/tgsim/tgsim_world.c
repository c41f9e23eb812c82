/* tgsim_world.c — the emulated world: users, chats, messages, the update
 * queue and stored files.
 *
 * Everything here runs with w->mu held (see tgsim.h) except init/destroy,
 * which run on the main thread while no other thread exists.
 *
 * Exports: tgsim_world_*, tgsim_bot_*, tgsim_user_*, tgsim_chat_*,
 * tgsim_msg_*, tgsim_update_*, tgsim_file_*, tgsim_cbq_new,
 * tgsim_payment_new, tgsim_update_names.
 */
#include "tgsim.h"
#include "tgsim_log.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *const tgsim_update_names[TGSIM_U_COUNT] = {
    "message", "edited_message", "callback_query", "pre_checkout_query", "my_chat_member", "chat_member",
};

void tgsim_world_init(tgsim_world_t *w, const tgsim_config_t *cfg)
{
    memset(w, 0, sizeof *w);
    w->cfg = *cfg;
    pthread_mutex_init(&w->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w->cv, &ca);
    pthread_condattr_destroy(&ca);
    w->next_update_id = cfg->update_id_start;
    w->next_user_id = cfg->user_id_start;
    w->next_group_id = -1000000001;
    w->allowed_mask = TGSIM_ALLOWED_DEFAULT;
    w->global_bucket.tokens = cfg->rate_global_burst;
    w->global_bucket.last = tgsim_now_mono();
}

static void tgsim_user_free(tgsim_user_t *u)
{
    free(u->first_name); free(u->last_name); free(u->username);
    free(u->phone); free(u->language_code); free(u->role);
    free(u);
}

static void tgsim_chat_free(tgsim_chat_t *c)
{
    for (size_t i = 0; i < c->nmsgs; i++) {
        tgsim_msg_t *m = c->msgs[i];
        cJSON_Delete(m->json);
        cJSON_Delete(m->edits);
        cJSON_Delete(m->files);
        cJSON_Delete(m->markup);
        cJSON_Delete(m->meta);
        free(m->parse_mode);
        free(m->raw);
        free(m);
    }
    free(c->msgs);
    for (size_t i = 0; i < c->ncbqs; i++) {
        free(c->cbqs[i]->data);
        cJSON_Delete(c->cbqs[i]->answer);
        free(c->cbqs[i]);
    }
    free(c->cbqs);
    for (size_t i = 0; i < c->npays; i++) {
        tgsim_payment_t *p = c->pays[i];
        free(p->error_message); free(p->currency); free(p->payload);
        free(p);
    }
    free(c->pays);
    cJSON_Delete(c->reply_keyboard);
    free(c->title);
    free(c);
}

/* Free the world's contents; with bot_settings also the bot's webhook,
 * allowed_updates and commands. */
static void tgsim_world_clear(tgsim_world_t *w, int bot_settings)
{
    size_t pos = 0;
    tgsim_map_ent_t *e = NULL;
    void *v;
    while ((v = tgsim_map_next(&w->users, &pos, &e))) tgsim_user_free(v);
    tgsim_map_clear(&w->users);
    pos = 0; e = NULL;
    while ((v = tgsim_map_next(&w->chats, &pos, &e))) tgsim_chat_free(v);
    tgsim_map_clear(&w->chats);
    pos = 0; e = NULL;
    while ((v = tgsim_map_next(&w->buckets, &pos, &e))) free(v);
    tgsim_map_clear(&w->buckets);
    pos = 0; e = NULL;
    while ((v = tgsim_map_next(&w->stats.methods, &pos, &e))) free(v);
    tgsim_map_clear(&w->stats.methods);
    tgsim_map_clear(&w->cbqs);
    tgsim_map_clear(&w->pays);
    tgsim_map_clear(&w->files);
    for (size_t i = 0; i < w->nfiles; i++) {
        free(w->file_list[i]->data);
        free(w->file_list[i]->file_name);
        free(w->file_list[i]->mime_type);
        free(w->file_list[i]);
    }
    free(w->file_list);
    w->file_list = NULL;
    w->nfiles = w->capfiles = 0;
    tgsim_update_drop_all(w);
    free(w->last_error_message);
    w->last_error_message = NULL;
    w->last_error_date = 0;
    if (!bot_settings) return;
    cJSON_Delete(w->allowed_list);
    w->allowed_list = NULL;
    w->allowed_mask = TGSIM_ALLOWED_DEFAULT;
    free(w->webhook_url); free(w->webhook_secret); free(w->webhook_token);
    w->webhook_url = w->webhook_secret = w->webhook_token = NULL;
    w->webhook_max_conn = 0;
    w->webhook_gen++;
    cJSON_Delete(w->commands);
    w->commands = NULL;
}

void tgsim_world_destroy(tgsim_world_t *w)
{
    tgsim_world_clear(w, 1);
    free(w->wh_threads);
    for (size_t i = 0; i < w->cfg.ntokens; i++) free(w->cfg.tokens[i]);
    free(w->cfg.tokens);
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
}

void tgsim_world_reset(tgsim_world_t *w, int bot_settings)
{
    tgsim_world_clear(w, bot_settings);
    memset(&w->stats, 0, sizeof w->stats);
    memset(&w->fault_429, 0, sizeof w->fault_429);
    memset(&w->fault_5xx, 0, sizeof w->fault_5xx);
    w->next_user_id = w->cfg.user_id_start;
    w->next_group_id = -1000000001;
    w->global_bucket.tokens = w->cfg.rate_global_burst;
    w->global_bucket.last = tgsim_now_mono();
    w->global_window.n = w->global_window.pos = 0;
    tgsim_world_touch(w, NULL);
}

void tgsim_world_touch(tgsim_world_t *w, tgsim_chat_t *chat)
{
    if (chat) chat->version = ++w->version;
    else w->version++;
    pthread_cond_broadcast(&w->cv);
}

int tgsim_world_wait(tgsim_world_t *w, double deadline)
{
    double now = tgsim_now_mono();
    if (now >= deadline) return 1;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    double d = deadline - now;
    ts.tv_sec += (time_t)d;
    ts.tv_nsec += (long)((d - floor(d)) * 1e9);
    if (ts.tv_nsec >= 1000000000L) { ts.tv_sec++; ts.tv_nsec -= 1000000000L; }
    int rc = pthread_cond_timedwait(&w->cv, &w->mu, &ts);
    return rc == ETIMEDOUT ? 1 : 0;
}

int64_t tgsim_bot_id(const char *token)
{
    int64_t id = 0;
    const char *p = token ? token : "";
    int digits = 0;
    for (; *p >= '0' && *p <= '9' && digits < 15; p++, digits++) id = id * 10 + (*p - '0');
    return digits && *p == ':' && id > 0 ? id : 5000000000LL;
}

cJSON *tgsim_bot_json(tgsim_world_t *w, const char *token)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)tgsim_bot_id(token));
    cJSON_AddBoolToObject(o, "is_bot", 1);
    cJSON_AddStringToObject(o, "first_name", w->cfg.bot_name);
    cJSON_AddStringToObject(o, "username", w->cfg.bot_username);
    return o;
}

tgsim_user_t *tgsim_user_find(tgsim_world_t *w, int64_t id)
{
    return tgsim_map_get(&w->users, (uint64_t)id);
}

static void tgsim_set_str(char **dst, const char *v)
{
    if (!v) return;
    free(*dst);
    *dst = *v ? tgsim_xstrdup(v) : NULL;
}

tgsim_user_t *tgsim_user_upsert(tgsim_world_t *w, int64_t id, const char *first_name,
                                const char *last_name, const char *username,
                                const char *phone, const char *language_code, const char *role)
{
    tgsim_user_t *u = id > 0 ? tgsim_user_find(w, id) : NULL;
    if (!u) {
        if (id <= 0) {
            while (tgsim_user_find(w, w->next_user_id)) w->next_user_id++;
            id = w->next_user_id++;
        }
        u = tgsim_xcalloc(1, sizeof *u);
        u->id = id;
        u->first_name = tgsim_xstrdup("Пользователь");
        u->language_code = tgsim_xstrdup("ru");
        tgsim_map_put(&w->users, (uint64_t)id, u);
        tgsim_chat_t *c = tgsim_xcalloc(1, sizeof *c);
        c->id = id;
        snprintf(c->type, sizeof c->type, "private");
        tgsim_map_put(&w->chats, (uint64_t)id, c);
    }
    if (first_name && *first_name) tgsim_set_str(&u->first_name, first_name);
    tgsim_set_str(&u->last_name, last_name);
    tgsim_set_str(&u->username, username);
    tgsim_set_str(&u->phone, phone);
    tgsim_set_str(&u->language_code, language_code);
    tgsim_set_str(&u->role, role);
    tgsim_world_touch(w, tgsim_chat_find(w, id));
    return u;
}

cJSON *tgsim_user_json(const tgsim_user_t *u)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)u->id);
    cJSON_AddBoolToObject(o, "is_bot", 0);
    cJSON_AddStringToObject(o, "first_name", u->first_name ? u->first_name : "");
    if (u->last_name) cJSON_AddStringToObject(o, "last_name", u->last_name);
    if (u->username) cJSON_AddStringToObject(o, "username", u->username);
    if (u->language_code) cJSON_AddStringToObject(o, "language_code", u->language_code);
    return o;
}

tgsim_chat_t *tgsim_chat_find(tgsim_world_t *w, int64_t id)
{
    return tgsim_map_get(&w->chats, (uint64_t)id);
}

tgsim_chat_t *tgsim_chat_create_group(tgsim_world_t *w, int64_t id, const char *title, const char *type)
{
    if (id == 0) {
        while (tgsim_chat_find(w, w->next_group_id)) w->next_group_id--;
        id = w->next_group_id--;
    }
    if (id >= 0 || tgsim_chat_find(w, id)) return NULL;
    tgsim_chat_t *c = tgsim_xcalloc(1, sizeof *c);
    c->id = id;
    snprintf(c->type, sizeof c->type, "%s", type && !strcmp(type, "supergroup") ? "supergroup" : "group");
    c->title = tgsim_xstrdup(title && *title ? title : "Группа");
    tgsim_map_put(&w->chats, (uint64_t)id, c);
    tgsim_world_touch(w, c);
    return c;
}

cJSON *tgsim_chat_json(tgsim_world_t *w, const tgsim_chat_t *c)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)c->id);
    if (!strcmp(c->type, "private")) {
        tgsim_user_t *u = tgsim_user_find(w, c->id);
        cJSON_AddStringToObject(o, "first_name", u && u->first_name ? u->first_name : "");
        if (u && u->last_name) cJSON_AddStringToObject(o, "last_name", u->last_name);
        if (u && u->username) cJSON_AddStringToObject(o, "username", u->username);
    } else {
        cJSON_AddStringToObject(o, "title", c->title ? c->title : "");
    }
    cJSON_AddStringToObject(o, "type", c->type);
    return o;
}

tgsim_msg_t *tgsim_msg_new(tgsim_world_t *w, tgsim_chat_t *chat, int from_bot, int64_t from_id, cJSON *from)
{
    if (chat->nmsgs == chat->capmsgs) {
        chat->capmsgs = chat->capmsgs ? chat->capmsgs * 2 : 16;
        chat->msgs = tgsim_xrealloc(chat->msgs, chat->capmsgs * sizeof *chat->msgs);
    }
    tgsim_msg_t *m = tgsim_xcalloc(1, sizeof *m);
    m->id = (int64_t)chat->nmsgs + 1;
    m->from_bot = from_bot;
    m->from_id = from_id;
    m->sent_mono_ms = (int64_t)(tgsim_now_mono() * 1000.0);
    chat->msgs[chat->nmsgs++] = m;
    if (from_bot) chat->bot_msgs++;
    m->json = cJSON_CreateObject();
    cJSON_AddNumberToObject(m->json, "message_id", (double)m->id);
    cJSON_AddItemToObject(m->json, "from", from);
    cJSON_AddItemToObject(m->json, "chat", tgsim_chat_json(w, chat));
    cJSON_AddNumberToObject(m->json, "date", (double)tgsim_now_unix());
    return m;
}

tgsim_msg_t *tgsim_msg_find(const tgsim_chat_t *chat, int64_t id)
{
    if (!chat || id < 1 || (uint64_t)id > chat->nmsgs) return NULL;
    tgsim_msg_t *m = chat->msgs[id - 1];
    return m->deleted ? NULL : m;
}

void tgsim_msg_begin_edit(tgsim_msg_t *m, int64_t edit_date)
{
    if (!m->edits) m->edits = cJSON_CreateArray();
    cJSON *e = cJSON_CreateObject();
    cJSON_AddNumberToObject(e, "edit_date", (double)edit_date);
    cJSON_AddItemToObject(e, "message", cJSON_Duplicate(m->json, 1));
    cJSON_AddItemToArray(m->edits, e);
    cJSON_DeleteItemFromObjectCaseSensitive(m->json, "edit_date");
    cJSON_AddNumberToObject(m->json, "edit_date", (double)edit_date);
}

int64_t tgsim_update_push(tgsim_world_t *w, int type, int64_t key, cJSON *payload)
{
    if (!(w->allowed_mask & (1u << type))) {
        cJSON_Delete(payload);
        return 0;
    }
    tgsim_update_t *u = tgsim_xcalloc(1, sizeof *u);
    u->id = w->next_update_id++;
    u->type = type;
    u->key = key;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "update_id", (double)u->id);
    cJSON_AddItemToObject(o, tgsim_update_names[type], payload);
    u->json = cJSON_PrintUnformatted(o);
    u->json_len = strlen(u->json);
    cJSON_Delete(o);
    u->prev = w->utail;
    if (w->utail) w->utail->next = u;
    else w->uhead = u;
    w->utail = u;
    w->npending++;
    w->stats.updates_created++;
    TGSIM_DEBUG("update_queued", "update_id=%lld type=%s key=%lld", (long long)u->id,
                tgsim_update_names[type], (long long)key);
    tgsim_world_touch(w, NULL);
    return u->id;
}

void tgsim_update_remove(tgsim_world_t *w, tgsim_update_t *u)
{
    if (u->prev) u->prev->next = u->next;
    else w->uhead = u->next;
    if (u->next) u->next->prev = u->prev;
    else w->utail = u->prev;
    u->prev = u->next = NULL;
    w->npending--;
    if (u->in_flight) {
        u->orphan = 1;
        return;
    }
    cJSON_free(u->json);
    free(u);
}

void tgsim_update_drop_all(tgsim_world_t *w)
{
    while (w->uhead) tgsim_update_remove(w, w->uhead);
}

static void tgsim_file_register(tgsim_world_t *w, tgsim_file_t *f)
{
    int kind = f->kind;
    uint64_t seq = ++w->next_file_seq;
    char rnd[64];
    do {
        /* real ids look like "AgACAgIAAxkBAAI..." (photo) / "BQACAgIAAxkBAAI..." (document) */
        tgsim_random_chars(rnd, 48);
        snprintf(f->file_id, sizeof f->file_id, "%sAxkBAAI%llx%s", kind == TGSIM_FILE_PHOTO ? "AgACAgIA" : "BQACAgIA",
                 (unsigned long long)seq, rnd);
    } while (tgsim_map_get(&w->files, tgsim_str_key(f->file_id)));
    tgsim_random_chars(rnd, 12);
    snprintf(f->unique_id, sizeof f->unique_id, "AQAD%.16s", rnd);
    snprintf(f->file_path, sizeof f->file_path, "%s/file_%llu%s", kind == TGSIM_FILE_PHOTO ? "photos" : "documents",
             (unsigned long long)seq, kind == TGSIM_FILE_PHOTO ? ".jpg" : "");
    tgsim_map_put(&w->files, tgsim_str_key(f->file_id), f);
    tgsim_map_put(&w->files, tgsim_str_key(f->file_path), f);
    if (w->nfiles == w->capfiles) {
        w->capfiles = w->capfiles ? w->capfiles * 2 : 16;
        w->file_list = tgsim_xrealloc(w->file_list, w->capfiles * sizeof *w->file_list);
    }
    w->file_list[w->nfiles++] = f;
}

tgsim_file_t *tgsim_file_add(tgsim_world_t *w, int kind, unsigned char *data, size_t len,
                             const char *file_name, const char *mime_type, int width, int height)
{
    tgsim_file_t *f = tgsim_xcalloc(1, sizeof *f);
    f->kind = kind;
    f->data = data;
    f->len = len;
    f->file_name = tgsim_xstrdup(file_name);
    f->mime_type = tgsim_xstrdup(mime_type);
    f->width = width;
    f->height = height;
    tgsim_sha256_hex(data, len, f->sha256);
    tgsim_file_register(w, f);
    return f;
}

tgsim_file_t *tgsim_file_add_preview(tgsim_world_t *w, tgsim_file_t *full, int width, int height)
{
    tgsim_file_t *f = tgsim_xcalloc(1, sizeof *f);
    f->kind = full->kind;
    f->origin = full;
    f->width = width;
    f->height = height;
    /* a preview is smaller; report a proportional size */
    double ratio = full->width > 0 ? (double)width / full->width : 1.0;
    f->len = (size_t)((double)full->len * ratio * ratio) + 1;
    memcpy(f->sha256, full->sha256, sizeof f->sha256);
    tgsim_file_register(w, f);
    full->preview = f;
    return f;
}

tgsim_file_t *tgsim_file_find(tgsim_world_t *w, const char *id_or_path)
{
    tgsim_file_t *f = tgsim_map_get(&w->files, tgsim_str_key(id_or_path));
    if (f && strcmp(f->file_id, id_or_path) != 0 && strcmp(f->file_path, id_or_path) != 0) return NULL;
    return f;
}

tgsim_cbq_t *tgsim_cbq_new(tgsim_world_t *w, tgsim_chat_t *chat)
{
    if (chat->ncbqs == chat->capcbqs) {
        chat->capcbqs = chat->capcbqs ? chat->capcbqs * 2 : 8;
        chat->cbqs = tgsim_xrealloc(chat->cbqs, chat->capcbqs * sizeof *chat->cbqs);
    }
    tgsim_cbq_t *q = tgsim_xcalloc(1, sizeof *q);
    /* real ids are decimal strings of a 64-bit number */
    snprintf(q->id, sizeof q->id, "%lld%06llu", (long long)(tgsim_random_i53() % 9000000000000LL + 1000000000000LL),
             (unsigned long long)(++w->next_query_seq % 1000000));
    q->chat_id = chat->id;
    chat->cbqs[chat->ncbqs++] = q;
    tgsim_map_put(&w->cbqs, tgsim_str_key(q->id), q);
    return q;
}

tgsim_payment_t *tgsim_payment_new(tgsim_world_t *w, tgsim_chat_t *chat)
{
    if (chat->npays == chat->cappays) {
        chat->cappays = chat->cappays ? chat->cappays * 2 : 4;
        chat->pays = tgsim_xrealloc(chat->pays, chat->cappays * sizeof *chat->pays);
    }
    tgsim_payment_t *p = tgsim_xcalloc(1, sizeof *p);
    snprintf(p->id, sizeof p->id, "%lld%06llu", (long long)(tgsim_random_i53() % 9000000000000LL + 1000000000000LL),
             (unsigned long long)(++w->next_query_seq % 1000000));
    p->chat_id = chat->id;
    chat->pays[chat->npays++] = p;
    tgsim_map_put(&w->pays, tgsim_str_key(p->id), p);
    return p;
}
