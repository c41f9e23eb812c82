/* web_tg_intake_batch.c — leader/follower group commit (see web_tg_intake_batch.h).
 *
 * Every caller puts a node (on its own stack) on the pending list. If no
 * flush is running, it becomes the leader: it takes up to BATCH_MAX pending
 * nodes, stores them with one statement on a pooled connection, marks them
 * done and wakes everybody. A follower sleeps until its node is done, or
 * until nobody leads while nodes are still pending — then it leads. So the
 * list always drains, and every node is answered by exactly one flush.
 *
 * Exports: web_tg_intake_batch_store. Threads: civetweb worker threads.
 */
#include "web_tg_intake_batch.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include <libpq-fe.h>

#include "pg_array.h"
#include "rt.h"
#include "rt_log.h"
#include "tg_intake.h"
#include "web_db.h"

#define BATCH_MAX 256

typedef struct batch_node {
    struct batch_node *next;
    int64_t update_id, chat_id;
    const char *body;
    bool done;
    int rc;
} batch_node_t;

static pthread_mutex_t batch_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t batch_cond = PTHREAD_COND_INITIALIZER;
static batch_node_t *batch_head, **batch_tail = &batch_head;
static bool batch_flushing;

/* Store `n` nodes in one statement; returns RT_OK or RT_EIO. No lock held. */
static int batch_flush(batch_node_t *const *nodes, int n)
{
    pg_array_t ids, chats, bodies;
    pg_array_init(&ids);
    pg_array_init(&chats);
    pg_array_init(&bodies);
    for (int i = 0; i < n; i++) {
        char id[24], chat[24];
        snprintf(id, sizeof id, "%lld", (long long)nodes[i]->update_id);
        snprintf(chat, sizeof chat, "%lld", (long long)nodes[i]->chat_id);
        pg_array_add(&ids, id);
        pg_array_add(&chats, chat);
        pg_array_add(&bodies, nodes[i]->body);
    }
    char *p[3] = {pg_array_finish(&ids), pg_array_finish(&chats), pg_array_finish(&bodies)};
    int rc = RT_EIO;
    PGconn *db = p[0] && p[1] && p[2] ? web_db_acquire(2000) : NULL;
    if (db) {
        PGresult *r = PQexecParams(db, tg_intake_store_sql,
            3, NULL, (const char *const *)p, NULL, NULL, 0);
        if (PQresultStatus(r) == PGRES_COMMAND_OK) rc = RT_OK;
        else LOG_WARN("tg_webhook_store_failed", "batch=%d error=\"%s\"", n, PQresultErrorMessage(r));
        PQclear(r);
        web_db_release(db, rc != RT_OK && PQstatus(db) != CONNECTION_OK);
    }
    for (int i = 0; i < 3; i++) free(p[i]);
    return rc;
}

int web_tg_intake_batch_store(int64_t update_id, int64_t chat_id, const char *body)
{
    rt_assert_not_worker("web_tg_intake_batch_store");
    batch_node_t me = {NULL, update_id, chat_id, body, false, RT_EIO};
    pthread_mutex_lock(&batch_lock);
    *batch_tail = &me;
    batch_tail = &me.next;
    while (!me.done) {
        if (batch_flushing || !batch_head) {
            pthread_cond_wait(&batch_cond, &batch_lock);
            continue;
        }
        /* Lead: take a batch off the list and store it without the lock. */
        batch_flushing = true;
        batch_node_t *nodes[BATCH_MAX];
        int n = 0;
        while (batch_head && n < BATCH_MAX) {
            nodes[n++] = batch_head;
            batch_head = batch_head->next;
        }
        if (!batch_head) batch_tail = &batch_head;
        pthread_mutex_unlock(&batch_lock);
        int rc = batch_flush(nodes, n);
        pthread_mutex_lock(&batch_lock);
        for (int i = 0; i < n; i++) {
            nodes[i]->rc = rc;
            nodes[i]->done = true;   /* written under the lock; followers read it under the lock */
        }
        batch_flushing = false;
        pthread_cond_broadcast(&batch_cond);
    }
    int rc = me.rc;
    pthread_mutex_unlock(&batch_lock);
    return rc;
}
