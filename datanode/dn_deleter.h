/* dn_deleter: deletes finalized replicas on a thread of its own, off the event loop.
 *
 * Unlinking a replica written moments ago takes from ~1.5 ms (4 KiB) to ~100 ms (64 MiB of
 * dirty pages) on ext4 here. On the event loop a batch of them stalled pipelines for seconds
 * and let the namenode connection time out, and writes then failed with ENOSPC. The loop hands
 * blocks over with dn_deleter_push() and takes the outcomes back with dn_deleter_collect();
 * the thread calls only dn_store_delete_files(), which reads nothing of the store but its
 * fixed directory and uses its spare pool (dn_spare.h, locked on its own), and the loop applies
 * the store's counters (dn_store_note_deleted()). Emptying a replica into the pool frees its
 * blocks just as an unlink did, and takes as long. A second thread, at a lower priority,
 * tops the spare pool up (dn_spare_fill()) after start-up and after each batch of deletes,
 * once nothing is queued for deletion; it, too, touches nothing of the store but its pool.
 *
 * Both queues are bounded rings guarded by one mutex; a push that would not fit is refused,
 * so the outcomes always fit. Blocks still queued when the deleter stops are dropped: their
 * replicas show up in the next block report and the namenode orders them deleted again. */
#ifndef DFS_DN_DELETER_H
#define DFS_DN_DELETER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "dn_store.h"
#include "wire.h"

enum {
    DN_DELETER_MAX = 8192, /* blocks queued, in progress and uncollected, together */
    DN_DELETER_FILL_NICE = 10, /* the filling thread's nice value: its work can wait */
};

struct dn_deleted {
    struct wire_blk blk;
    uint64_t len; /* data bytes freed (rc 0) */
    int rc;       /* 0, -ERR_NO_BLOCK (not here), -errno */
};

struct dn_deleter {
    const struct dn_store *store; /* borrowed; outlives the deleter */
    pthread_t thread;
    pthread_t fill_thread;    /* makes spare files (dn_spare_fill()) */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_cond_t fill_cv;
    struct wire_blk *todo;    /* guarded by mu; ring of DN_DELETER_MAX */
    uint32_t todo_head;       /* guarded by mu */
    uint32_t todo_count;      /* guarded by mu */
    struct dn_deleted *done;  /* guarded by mu; ring of DN_DELETER_MAX */
    uint32_t done_head;       /* guarded by mu */
    uint32_t done_count;      /* guarded by mu */
    uint32_t busy;            /* guarded by mu; 1 while the thread deletes one it took */
    bool is_stopping;         /* guarded by mu */
    bool is_filling;          /* guarded by mu; making spare files until the pool has enough */
    uint32_t spare_reserve;   /* immutable; spare files to keep ready (dn_spare_fill()) */
    bool is_started;
    bool is_fill_started;
};

/* Starts the threads. When there is nothing to delete (after start and after each batch of
 * deletes) the second one makes spare files, at nice DN_DELETER_FILL_NICE, until the store's
 * pool holds spare_reserve (0: never), so that replicas written later find files ready
 * (dn_spare.h). 0 or -errno. */
int dn_deleter_start(struct dn_deleter *d, const struct dn_store *store, uint32_t spare_reserve);
/* Lets the delete in progress finish, stops the thread and frees the queues (a no-op if it
 * never started). */
void dn_deleter_stop(struct dn_deleter *d);
/* Queues blk; false if the deleter is full. */
bool dn_deleter_push(struct dn_deleter *d, struct wire_blk blk);
/* Moves up to max outcomes, oldest first, into out; returns how many. */
uint32_t dn_deleter_collect(struct dn_deleter *d, struct dn_deleted *out, uint32_t max);
/* Nothing queued, in progress or waiting to be collected. */
bool dn_deleter_is_idle(struct dn_deleter *d);

#endif
