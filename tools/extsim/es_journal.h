/* es_journal.h — the journal of requests extsim received.
 *
 * Purpose: tests and the demo ask "what did plus7 send to Ozon / SMS.ru /
 * Bitrix24?" The server records every non-control request (method, path,
 * query, remote address, all headers, body, the service that owns the path
 * and the status it answered) in a bounded ring (the newest ES_JOURNAL_CAP
 * entries, the first ES_JOURNAL_BODY_MAX bytes of each body) that the
 * control API reads with filters.
 *
 * Exports: ES_JOURNAL_CAP, ES_JOURNAL_BODY_MAX, es_journal_add, es_journal_set_status,
 * es_journal_query, es_journal_clear, es_journal_free.
 *
 * Threads: every function must be called with es_lock held (any thread).
 */
#ifndef EXTSIM_ES_JOURNAL_H
#define EXTSIM_ES_JOURNAL_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#define ES_JOURNAL_CAP 10000
#define ES_JOURNAL_BODY_MAX (64 * 1024) /* bytes of each body kept */

/* Record one request; `headers` is an object of header name -> value
 * (ownership passes to the journal). Returns the entry's sequence number
 * (1, 2, …; never reused until es_journal_clear). */
int64_t es_journal_add(const char *method, const char *path, const char *query,
                       const char *remote, const char *service, cJSON *headers,
                       const char *body, size_t body_len);

/* Remember the HTTP status answered to entry `seq` (ignored if dropped). */
void es_journal_set_status(int64_t seq, int status);

/* Entries matching every given filter (NULL/0 = any): exact `path`, path
 * `prefix`, `service`, `method`, seq > `since`; at most `limit` of the
 * newest (0 = all), oldest first. Returns {"requests":[…],"count":n} — each
 * entry {seq, at, method, path, query, remote, service, headers, body,
 * body_len (the full length),
 * json (the body parsed when it is JSON), form (parsed when it is form
 * encoded), status}. Caller owns the result. */
cJSON *es_journal_query(const char *path, const char *prefix, const char *service,
                        const char *method, int64_t since, int limit);

/* Drop every entry and restart the sequence at 1. */
void es_journal_clear(void);

/* Free everything (at exit). */
void es_journal_free(void);

#endif
