#include "dn_deleter.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "dn_spare.h"
#include "panic.h"
#include "xmalloc.h"

/* Takes the next block, waiting for one; false once asked to stop. Called with mu held. */
static bool dn_deleter_take(struct dn_deleter *d, struct wire_blk *blk)
{
    while (!d->is_stopping && d->todo_count == 0)
        pthread_cond_wait(&d->cv, &d->mu);
    if (d->is_stopping)
        return false;
    *blk = d->todo[d->todo_head];
    d->todo_head = (d->todo_head + 1) % DN_DELETER_MAX;
    d->todo_count--;
    d->busy = 1;
    return true;
}

static void *dn_deleter_main(void *arg)
{
    struct dn_deleter *d = arg;
    struct wire_blk blk;

    pthread_mutex_lock(&d->mu);
    while (dn_deleter_take(d, &blk)) {
        pthread_mutex_unlock(&d->mu);
        struct dn_deleted r = { .blk = blk, .len = 0 };
        r.rc = dn_store_delete_files(d->store, blk, &r.len);
        pthread_mutex_lock(&d->mu);
        ASSERT(d->done_count < DN_DELETER_MAX);
        d->done[(d->done_head + d->done_count) % DN_DELETER_MAX] = r;
        d->done_count++;
        d->busy = 0;
        d->is_filling = d->spare_reserve > 0; /* top the pool up once the deletes are done */
        pthread_cond_signal(&d->fill_cv);
    }
    pthread_mutex_unlock(&d->mu);
    return NULL;
}

/* Waits until there is filling to do and no delete to make (both use the spare directory);
 * false once asked to stop. Called with mu held. */
static bool dn_deleter_wait_fill(struct dn_deleter *d)
{
    while (!d->is_stopping && (!d->is_filling || d->todo_count > 0 || d->busy))
        pthread_cond_wait(&d->fill_cv, &d->mu);
    return !d->is_stopping;
}

static void *dn_deleter_fill_main(void *arg)
{
    struct dn_deleter *d = arg;

    /* Only this thread is niced: the deleter's renames hold locks (the spare directory's, the
     * file system's rename lock) that the loop thread's writes take too. */
    (void)setpriority(PRIO_PROCESS, (id_t)gettid(), DN_DELETER_FILL_NICE);
    pthread_mutex_lock(&d->mu);
    while (dn_deleter_wait_fill(d)) {
        pthread_mutex_unlock(&d->mu);
        int rc = dn_spare_fill(d->store->spare, d->spare_reserve);
        pthread_mutex_lock(&d->mu);
        if (rc != 1)
            d->is_filling = false; /* full, or failing (ENOSPC): until the next delete */
    }
    pthread_mutex_unlock(&d->mu);
    return NULL;
}

int dn_deleter_start(struct dn_deleter *d, const struct dn_store *store, uint32_t spare_reserve)
{
    memset(d, 0, sizeof(*d));
    d->store = store;
    d->spare_reserve = spare_reserve;
    d->is_filling = spare_reserve > 0;
    d->todo = xcalloc(DN_DELETER_MAX, sizeof(*d->todo));
    d->done = xcalloc(DN_DELETER_MAX, sizeof(*d->done));
    pthread_mutex_init(&d->mu, NULL);
    pthread_cond_init(&d->cv, NULL);
    pthread_cond_init(&d->fill_cv, NULL);
    int rc = pthread_create(&d->thread, NULL, dn_deleter_main, d);
    if (rc == 0) {
        d->is_started = true;
        rc = pthread_create(&d->fill_thread, NULL, dn_deleter_fill_main, d);
    }
    if (rc != 0) {
        dn_deleter_stop(d);
        return -rc;
    }
    d->is_fill_started = true;
    return 0;
}

void dn_deleter_stop(struct dn_deleter *d)
{
    if (!d->todo)
        return;
    pthread_mutex_lock(&d->mu);
    d->is_stopping = true;
    pthread_cond_signal(&d->cv);
    pthread_cond_signal(&d->fill_cv);
    pthread_mutex_unlock(&d->mu);
    if (d->is_started)
        pthread_join(d->thread, NULL);
    if (d->is_fill_started)
        pthread_join(d->fill_thread, NULL);
    pthread_cond_destroy(&d->fill_cv);
    pthread_cond_destroy(&d->cv);
    pthread_mutex_destroy(&d->mu);
    free(d->todo);
    free(d->done);
    memset(d, 0, sizeof(*d));
}

bool dn_deleter_push(struct dn_deleter *d, struct wire_blk blk)
{
    bool is_queued = false;

    pthread_mutex_lock(&d->mu);
    if (d->todo_count + d->busy + d->done_count < DN_DELETER_MAX) {
        d->todo[(d->todo_head + d->todo_count) % DN_DELETER_MAX] = blk;
        d->todo_count++;
        pthread_cond_signal(&d->cv);
        is_queued = true;
    }
    pthread_mutex_unlock(&d->mu);
    return is_queued;
}

uint32_t dn_deleter_collect(struct dn_deleter *d, struct dn_deleted *out, uint32_t max)
{
    uint32_t n = 0;

    pthread_mutex_lock(&d->mu);
    while (n < max && d->done_count > 0) {
        out[n++] = d->done[d->done_head];
        d->done_head = (d->done_head + 1) % DN_DELETER_MAX;
        d->done_count--;
    }
    pthread_mutex_unlock(&d->mu);
    return n;
}

bool dn_deleter_is_idle(struct dn_deleter *d)
{
    pthread_mutex_lock(&d->mu);
    bool is_idle = d->todo_count == 0 && d->busy == 0 && d->done_count == 0;
    pthread_mutex_unlock(&d->mu);
    return is_idle;
}
