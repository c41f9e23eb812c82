/* tgsim_media.c — photo and document input for sendPhoto/sendDocument.
 *
 * A file arrives as a multipart upload, as "attach://<part>", as the file_id
 * of a file tgsim already stores, or as an http(s) URL that tgsim downloads
 * (before taking the world lock). Uploaded photos must be real images
 * (PNG, JPEG, GIF or WebP headers are read for width and height); photos
 * larger than 320 px get one smaller PhotoSize, as the real server returns
 * several sizes.
 *
 * Exports: tgsim_call_file, tgsim_photo_json, tgsim_document_json,
 * tgsim_msg_note_file, tgsim_media_prefetch, tgsim_image_size.
 * Threads: Bot API handlers (w->mu held, except tgsim_media_prefetch).
 */
#include "tgsim_api_int.h"
#include "tgsim_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#define TGSIM_MB (1024u * 1024u)

static unsigned tgsim_be16(const unsigned char *p) { return (unsigned)p[0] << 8 | p[1]; }
static unsigned tgsim_be32(const unsigned char *p) { return (unsigned)p[0] << 24 | (unsigned)p[1] << 16 | (unsigned)p[2] << 8 | p[3]; }
static unsigned tgsim_le16(const unsigned char *p) { return (unsigned)p[1] << 8 | p[0]; }
static unsigned tgsim_le24(const unsigned char *p) { return (unsigned)p[2] << 16 | (unsigned)p[1] << 8 | p[0]; }

int tgsim_image_size(const unsigned char *d, size_t n, int *width, int *height)
{
    *width = *height = 0;
    if (n >= 24 && !memcmp(d, "\x89PNG\r\n\x1a\n", 8) && !memcmp(d + 12, "IHDR", 4)) {
        *width = (int)tgsim_be32(d + 16);
        *height = (int)tgsim_be32(d + 20);
    } else if (n >= 10 && (!memcmp(d, "GIF87a", 6) || !memcmp(d, "GIF89a", 6))) {
        *width = (int)tgsim_le16(d + 6);
        *height = (int)tgsim_le16(d + 8);
    } else if (n >= 30 && !memcmp(d, "RIFF", 4) && !memcmp(d + 8, "WEBP", 4)) {
        if (!memcmp(d + 12, "VP8X", 4)) {
            *width = (int)tgsim_le24(d + 24) + 1;
            *height = (int)tgsim_le24(d + 27) + 1;
        } else if (!memcmp(d + 12, "VP8L", 4) && d[20] == 0x2f) {
            uint32_t b = (uint32_t)d[21] | (uint32_t)d[22] << 8 | (uint32_t)d[23] << 16 | (uint32_t)d[24] << 24;
            *width = (int)(b & 0x3FFF) + 1;
            *height = (int)((b >> 14) & 0x3FFF) + 1;
        } else if (!memcmp(d + 12, "VP8 ", 4)) {
            *width = (int)(tgsim_le16(d + 26) & 0x3FFF);
            *height = (int)(tgsim_le16(d + 28) & 0x3FFF);
        }
    } else if (n >= 4 && d[0] == 0xFF && d[1] == 0xD8) {
        size_t i = 2;
        while (i + 9 < n) {
            if (d[i] != 0xFF) { i++; continue; }
            unsigned mk = d[i + 1];
            if (mk == 0xFF) { i++; continue; }
            if (mk == 0xD8 || mk == 0x01 || (mk >= 0xD0 && mk <= 0xD7)) { i += 2; continue; }
            unsigned seglen = tgsim_be16(d + i + 2);
            if (mk >= 0xC0 && mk <= 0xCF && mk != 0xC4 && mk != 0xC8 && mk != 0xCC) {
                *height = (int)tgsim_be16(d + i + 5);
                *width = (int)tgsim_be16(d + i + 7);
                break;
            }
            if (seglen < 2) break;
            i += 2 + seglen;
        }
    }
    return *width > 0 && *height > 0;
}

static const char *tgsim_mime_by_name(const char *name)
{
    static const struct { const char *ext, *mime; } tab[] = {
        {".pdf", "application/pdf"}, {".png", "image/png"}, {".jpg", "image/jpeg"}, {".jpeg", "image/jpeg"},
        {".gif", "image/gif"}, {".webp", "image/webp"}, {".txt", "text/plain"}, {".csv", "text/csv"},
        {".json", "application/json"}, {".zip", "application/zip"}, {".html", "text/html"},
        {".xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
    };
    const char *dot = name ? strrchr(name, '.') : NULL;
    for (size_t i = 0; dot && i < sizeof tab / sizeof tab[0]; i++)
        if (!strcasecmp(dot, tab[i].ext)) return tab[i].mime;
    return "application/octet-stream";
}

tgsim_file_t *tgsim_call_file(tgsim_call_t *c, const char *name, int kind)
{
    int photo = kind == TGSIM_FILE_PHOTO;
    const tgsim_param_t *p = tgsim_params_get(c->p, name);
    if (p && !p->is_file && !strncmp(p->value, "attach://", 9)) p = tgsim_params_get(c->p, p->value + 9);
    if (!p || (!p->is_file && !*p->value)) {
        tgsim_bad(c, photo ? "there is no photo in the request" : "there is no document in the request");
        return NULL;
    }
    if (!p->is_file) {
        tgsim_file_t *f = tgsim_file_find(c->w, p->value);
        if (!f || strcmp(f->file_id, p->value) != 0) { tgsim_bad(c, "wrong file identifier/HTTP URL specified"); return NULL; }
        if (f->kind != kind) { tgsim_bad(c, "type of file mismatch"); return NULL; }
        return f->origin ? f->origin : f;
    }
    if (photo && p->len > 10 * TGSIM_MB) { tgsim_bad(c, "file is too big"); return NULL; }
    if (!photo && p->len > 50 * TGSIM_MB) { tgsim_fail(c, 413, "Request Entity Too Large"); return NULL; }
    if (!photo && p->len == 0) { tgsim_bad(c, "file must be non-empty"); return NULL; }
    int width = 0, height = 0;
    if (photo) {
        if (!tgsim_image_size((const unsigned char *)p->value, p->len, &width, &height)) {
            tgsim_bad(c, "IMAGE_PROCESS_FAILED");
            return NULL;
        }
        int big = width > height ? width : height, small = width > height ? height : width;
        if (width + height > 10000 || big > 20 * small) { tgsim_bad(c, "PHOTO_INVALID_DIMENSIONS"); return NULL; }
    }
    unsigned char *data = tgsim_xmalloc(p->len + 1);
    memcpy(data, p->value, p->len);
    const char *mime = p->content_type;
    if (!mime || !*mime || !strcasecmp(mime, "application/octet-stream")) mime = tgsim_mime_by_name(p->filename);
    tgsim_file_t *f = tgsim_file_add(c->w, kind, data, p->len, photo ? NULL : p->filename,
                                     photo ? NULL : mime, width, height);
    int big = width > height ? width : height;
    if (photo && big > 320)
        tgsim_file_add_preview(c->w, f, (int)((long long)width * 320 / big), (int)((long long)height * 320 / big));
    return f;
}

static cJSON *tgsim_photo_size(const tgsim_file_t *f)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "file_id", f->file_id);
    cJSON_AddStringToObject(o, "file_unique_id", f->unique_id);
    cJSON_AddNumberToObject(o, "file_size", (double)f->len);
    cJSON_AddNumberToObject(o, "width", f->width);
    cJSON_AddNumberToObject(o, "height", f->height);
    return o;
}

cJSON *tgsim_photo_json(const tgsim_file_t *f)
{
    cJSON *arr = cJSON_CreateArray();
    if (f->preview) cJSON_AddItemToArray(arr, tgsim_photo_size(f->preview));
    cJSON_AddItemToArray(arr, tgsim_photo_size(f));
    return arr;
}

cJSON *tgsim_document_json(const tgsim_file_t *f)
{
    cJSON *o = cJSON_CreateObject();
    if (f->file_name) cJSON_AddStringToObject(o, "file_name", f->file_name);
    if (f->mime_type) cJSON_AddStringToObject(o, "mime_type", f->mime_type);
    cJSON_AddStringToObject(o, "file_id", f->file_id);
    cJSON_AddStringToObject(o, "file_unique_id", f->unique_id);
    cJSON_AddNumberToObject(o, "file_size", (double)f->len);
    return o;
}

void tgsim_msg_note_file(tgsim_msg_t *m, const tgsim_file_t *f)
{
    if (!m->files) m->files = cJSON_CreateArray();
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "kind", f->kind == TGSIM_FILE_PHOTO ? "photo" : "document");
    cJSON_AddStringToObject(o, "file_id", f->file_id);
    cJSON_AddNumberToObject(o, "file_size", (double)f->len);
    cJSON_AddStringToObject(o, "sha256", f->sha256);
    if (f->file_name) cJSON_AddStringToObject(o, "file_name", f->file_name);
    if (f->mime_type) cJSON_AddStringToObject(o, "mime_type", f->mime_type);
    if (f->kind == TGSIM_FILE_PHOTO) {
        cJSON_AddNumberToObject(o, "width", f->width);
        cJSON_AddNumberToObject(o, "height", f->height);
    }
    char url[160];
    snprintf(url, sizeof url, "/control/files/%s", f->file_id);
    cJSON_AddStringToObject(o, "url", url);
    cJSON_AddItemToArray(m->files, o);
}

typedef struct {
    tgsim_buf_t body;
    size_t limit;
    int too_big;
} tgsim_fetch_t;

static size_t tgsim_fetch_write(char *ptr, size_t size, size_t nmemb, void *ud)
{
    tgsim_fetch_t *f = ud;
    size_t n = size * nmemb;
    if (f->body.len + n > f->limit) { f->too_big = 1; return 0; }
    tgsim_buf_put(&f->body, ptr, n);
    return n;
}

int tgsim_media_prefetch(const char *method, tgsim_params_t *p, tgsim_resp_t *r)
{
    const char *name = !strcmp(method, "sendphoto") ? "photo" : !strcmp(method, "senddocument") ? "document" : NULL;
    const tgsim_param_t *prm = name ? tgsim_params_get(p, name) : NULL;
    if (!prm || prm->is_file || (strncmp(prm->value, "http://", 7) && strncmp(prm->value, "https://", 8))) return 0;
    char *url = tgsim_xstrdup(prm->value);
    tgsim_fetch_t f = {.limit = (name[0] == 'p' ? 5 : 20) * TGSIM_MB};
    CURL *h = curl_easy_init();
    long code = 0;
    char *ctype = NULL;
    CURLcode rc = CURLE_FAILED_INIT;
    if (h) {
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 10000L);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, tgsim_fetch_write);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &f);
        rc = curl_easy_perform(h);
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
        char *ct = NULL;
        curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct);
        if (ct) ctype = tgsim_xstrdup(ct);
        curl_easy_cleanup(h);
    }
    if (rc != CURLE_OK || code < 200 || code > 299) {
        TGSIM_INFO("url_fetch_failed", "url=\"%s\" curl=%d http=%ld", url, (int)rc, code);
        tgsim_api_error(r, 400, f.too_big ? "Bad Request: wrong file identifier/HTTP URL specified"
                                          : "Bad Request: failed to get HTTP URL content", 0);
        tgsim_buf_free(&f.body);
        free(url);
        free(ctype);
        return -1;
    }
    /* the file name is the last path segment of the URL */
    char *q = strpbrk(url, "?#");
    if (q) *q = '\0';
    const char *slash = strrchr(url, '/');
    const char *fname = slash && slash[1] ? slash + 1 : "file";
    size_t len = f.body.len;
    char *data = f.body.p ? tgsim_buf_take(&f.body) : tgsim_xstrdup("");
    data = tgsim_xrealloc(data, len + 1);
    char *semi = ctype ? strchr(ctype, ';') : NULL;
    if (semi) *semi = '\0';
    tgsim_params_set_file(p, name, data, len, fname, ctype);
    free(url);
    free(ctype);
    return 0;
}
