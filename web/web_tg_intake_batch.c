/* web_tg_intake_batch.c — leader/follower group commit (see
 * web_tg_intake_batch.h).
 *
 * Every caller puts a node (on its own stack) on the pending list. If no
 * flush is running, it becomes the leader: it takes up to BATCH_MAX pending
 * nodes (state TAKEN), stores them with one statement on a pooled
 * connection (web_db_rows), marks them DONE and wakes everybody. A follower
 * sleeps until its node is done, or until nobody leads while nodes are
 * still pending — then it leads. So the list always drains, and every node
 * is answered by exactly one flush.
 *
 * Deadlines: a caller waits at most until its deadline while its node is
 * still PENDING; then it unlinks the node and answers RT_ETIMEDOUT (nothing
 * was sent for it). A TAKEN node belongs to a running flush, which is
 * itself bounded by the leader's deadline (web_db_rows_exec), so its owner
 * keeps waiting for that result: the node lives on the owner's stack and
 * must not be left behind. The worst case for a caller is therefore its
 * own deadline plus one leader's.
 *
 * Exports: web_tg_intake_batch_store. Threads: civetweb worker threads.
 */
#include "web_tg_intake_batch.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include <libpq-fe.h>

#include "rt.h"
#include "tg_intake.h"
#include "web_db_rows.h"
#include "web_pq.h"

#define BATCH_MAX 256

typedef enum { NODE_PENDING, NODE_TAKEN, NODE_DONE } batch_state_t;

typedef struct batch_node {
    struct batch_node *next;
    int64_t update_id, chat_id;
    const char *body;
    batch_state_t state;   /* guarded by batch_lock */
    int rc;
} batch_node_t;

static pthread_mutex_t batch_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t batch_cond = PTHREAD_COND_INITIALIZER;
static batch_node_t *batch_head, **batch_tail = &batch_head;
static bool batch_flushing;

/* Store `n` nodes in one statement by `deadline`; RT_OK or an RT_E* code.
 * No lock held. */
static int batch_flush(batch_node_t *const *nodes, int n, uint64_t deadline)
{
    web_db_rows_t rows;
    web_db_rows_init(&rows, 3);
    for (int i = 0; i < n; i++) {
        char id[24], chat[24];
        snprintf(id, sizeof id, "%lld", (long long)nodes[i]->update_id);
        snprintf(chat, sizeof chat, "%lld", (long long)nodes[i]->chat_id);
        web_db_rows_add(&rows, (const char *[]){id, chat, nodes[i]->body});
    }
    PGresult *r = NULL;
    int rc = web_db_rows_exec(&rows, tg_intake_store_sql, deadline, "tg_webhook_store_failed", &r);
    PQclear(r);
    return rc;
}

/* Take `me` off the pending list (it is there: state PENDING). Lock held. */
static void batch_unlink(batch_node_t *me)
{
    batch_node_t **pp = &batch_head;
    while (*pp != me) pp = &(*pp)->next;
    *pp = me->next;
    if (batch_tail == &me->next) batch_tail = pp;
}

/* Contract: see web_tg_intake_batch.h. */
int web_tg_intake_batch_store(int64_t update_id, int64_t chat_id, const char *body,
                              uint64_t deadline_ms)
{
    rt_assert_not_worker("web_tg_intake_batch_store");
    batch_node_t me = {NULL, update_id, chat_id, body, NODE_PENDING, RT_EIO};
    pthread_mutex_lock(&batch_lock);
    *batch_tail = &me;
    batch_tail = &me.next;
    while (me.state != NODE_DONE) {
        if (batch_flushing || !batch_head) {
            if (web_wait_until(&batch_cond, &batch_lock, deadline_ms) == ETIMEDOUT &&
                me.state == NODE_PENDING) {
                batch_unlink(&me);
                me.rc = RT_ETIMEDOUT;
                break;
            }
            continue;
        }
        /* Lead: take a batch off the list and store it without the lock. */
        batch_flushing = true;
        batch_node_t *nodes[BATCH_MAX];
        int n = 0;
        while (batch_head && n < BATCH_MAX) {
            nodes[n] = batch_head;
            nodes[n++]->state = NODE_TAKEN;
            batch_head = batch_head->next;
        }
        if (!batch_head) batch_tail = &batch_head;
        pthread_mutex_unlock(&batch_lock);
        int rc = batch_flush(nodes, n, deadline_ms);
        pthread_mutex_lock(&batch_lock);
        for (int i = 0; i < n; i++) {
            nodes[i]->rc = rc;
            nodes[i]->state = NODE_DONE;   /* under the lock; owners read it under the lock */
        }
        batch_flushing = false;
        pthread_cond_broadcast(&batch_cond);
    }
    int rc = me.rc;
    pthread_mutex_unlock(&batch_lock);
    return rc;
}
