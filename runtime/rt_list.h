/* rt_list.h — the runtime's one intrusive doubly linked list.
 *
 * Purpose: FIFO lists of objects that embed an rt_list_node_t (rt_pg's
 * request queues, rt_http's transfers and sockets): O(1) append, removal
 * of any member and splicing, no allocation. Header-only. Used by the
 * runtime's modules; nothing else needs to include it.
 *
 * Exports: rt_list_node_t, rt_list_t, RT_LIST_ENTRY, rt_list_push_back,
 * rt_list_remove, rt_list_prepend_all.
 *
 * Threads: none of its own; a list belongs to whoever owns the structure
 * embedding it.
 */
#ifndef PLUS7_RT_LIST_H
#define PLUS7_RT_LIST_H

#include <stddef.h>
#include <stdint.h>

typedef struct rt_list_node {
    struct rt_list_node *prev, *next;
} rt_list_node_t;

typedef struct rt_list {
    rt_list_node_t *head, *tail;
    uint32_t n;
} rt_list_t;

/* The object of type `type` whose member `field` is the node `node`
 * (NULL stays NULL). */
#define RT_LIST_ENTRY(node, type, field) \
    ((node) ? (type *)(void *)((char *)(node) - offsetof(type, field)) : (type *)NULL)

static inline void rt_list_push_back(rt_list_t *l, rt_list_node_t *q)
{
    q->next = NULL;
    q->prev = l->tail;
    if (l->tail) l->tail->next = q;
    else l->head = q;
    l->tail = q;
    l->n++;
}

static inline void rt_list_remove(rt_list_t *l, rt_list_node_t *q)
{
    if (q->prev) q->prev->next = q->next;
    else l->head = q->next;
    if (q->next) q->next->prev = q->prev;
    else l->tail = q->prev;
    q->prev = q->next = NULL;
    l->n--;
}

/* Put all of `src` (in order) before the head of `dst`; src becomes empty. */
static inline void rt_list_prepend_all(rt_list_t *dst, rt_list_t *src)
{
    if (!src->head) return;
    if (dst->head) {
        src->tail->next = dst->head;
        dst->head->prev = src->tail;
    } else {
        dst->tail = src->tail;
    }
    dst->head = src->head;
    dst->n += src->n;
    *src = (rt_list_t){0};
}

#endif
