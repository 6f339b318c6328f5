#include "dn_deleter.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "dn_spare.h"
#include "panic.h"
#include "xmalloc.h"

enum dn_deleter_work { DN_DELETER_STOP, DN_DELETER_DELETE, DN_DELETER_FILL };

/* What the thread does next, waiting while there is nothing to do: deletes come first, then
 * spare files. Takes the block to delete into *blk. Called with mu held. */
static enum dn_deleter_work dn_deleter_next(struct dn_deleter *d, struct wire_blk *blk)
{
    for (;;) {
        if (d->is_stopping)
            return DN_DELETER_STOP;
        if (d->todo_count > 0) {
            *blk = d->todo[d->todo_head];
            d->todo_head = (d->todo_head + 1) % DN_DELETER_MAX;
            d->todo_count--;
            d->busy = 1;
            return DN_DELETER_DELETE;
        }
        if (d->is_filling)
            return DN_DELETER_FILL;
        pthread_cond_wait(&d->cv, &d->mu);
    }
}

static void dn_deleter_delete(struct dn_deleter *d, struct wire_blk blk)
{
    struct dn_deleted r = { .blk = blk, .len = 0 };

    r.rc = dn_store_delete_files(d->store, blk, &r.len);
    pthread_mutex_lock(&d->mu);
    ASSERT(d->done_count < DN_DELETER_MAX);
    d->done[(d->done_head + d->done_count) % DN_DELETER_MAX] = r;
    d->done_count++;
    d->busy = 0;
    d->is_filling = d->spare_reserve > 0; /* top the pool up once the deletes are done */
    pthread_mutex_unlock(&d->mu);
}

static void *dn_deleter_main(void *arg)
{
    struct dn_deleter *d = arg;
    struct wire_blk blk;
    enum dn_deleter_work work;

    /* Background work: the loop thread's pipelines and reads come first on a busy CPU. */
    (void)setpriority(PRIO_PROCESS, (id_t)gettid(), DN_DELETER_NICE);
    pthread_mutex_lock(&d->mu);
    while ((work = dn_deleter_next(d, &blk)) != DN_DELETER_STOP) {
        pthread_mutex_unlock(&d->mu);
        if (work == DN_DELETER_DELETE) {
            dn_deleter_delete(d, blk);
        } else {
            int rc = dn_spare_fill(d->store->spare, d->spare_reserve);
            pthread_mutex_lock(&d->mu);
            if (rc != 1)
                d->is_filling = false; /* full, or failing (ENOSPC): until the next delete */
            pthread_mutex_unlock(&d->mu);
        }
        pthread_mutex_lock(&d->mu);
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
    int rc = pthread_create(&d->thread, NULL, dn_deleter_main, d);
    if (rc != 0) {
        dn_deleter_stop(d);
        return -rc;
    }
    d->is_started = true;
    return 0;
}

void dn_deleter_stop(struct dn_deleter *d)
{
    if (!d->todo)
        return;
    if (d->is_started) {
        pthread_mutex_lock(&d->mu);
        d->is_stopping = true;
        pthread_cond_signal(&d->cv);
        pthread_mutex_unlock(&d->mu);
        pthread_join(d->thread, NULL);
    }
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
