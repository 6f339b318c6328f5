/* nn_otab: an open-addressing hash table of fixed-size entries stored inline, for the
 * namenode's big maps (inode number -> inode pointer, block id -> block entry). Each entry
 * carries a non-zero u64 key that the table reads through a key function, so an entry can be
 * a bare pointer to an object that holds its own key (8 bytes a slot) or a small struct that
 * begins with it. An entry whose first 8 bytes are zero is an empty slot, so a stored entry
 * must never begin with 8 zero bytes (a NULL pointer or a zero key).
 *
 * Linear probing with backward-shift deletion; any capacity (the home slot is the high half of
 * the hash scaled to the capacity), grown by half when the load passes 4/5, so a table of n
 * entries uses between 1.25 n and 1.9 n slots. Entry pointers returned by _get, _put and
 * _next stay valid only until the next _put or _del. Iteration order is unspecified but stable
 * while the table does not change. Pure; not thread-safe. */
#ifndef DFS_NN_OTAB_H
#define DFS_NN_OTAB_H

#include <stddef.h>
#include <stdint.h>

/* The key of a stored entry (never called on an empty slot). */
typedef uint64_t nn_otab_key_fn(const void *entry);

struct nn_otab {
    uint8_t *slots; /* cap * entry_size bytes */
    size_t cap;
    size_t count;
    size_t entry_size; /* >= 8 */
    nn_otab_key_fn *key;
};

void nn_otab_init(struct nn_otab *t, size_t entry_size, nn_otab_key_fn *key);
void nn_otab_fini(struct nn_otab *t);
/* The entry with key, or NULL. key must be non-zero. */
void *nn_otab_get(const struct nn_otab *t, uint64_t key);
/* Copies entry (whose key must not be in the table yet) into the table; returns the copy. */
void *nn_otab_put(struct nn_otab *t, const void *entry);
/* Removes the entry with key, copying it to out (entry_size bytes) if out is not NULL.
 * Returns 1, or 0 if there was none. */
int nn_otab_del(struct nn_otab *t, uint64_t key, void *out);
/* Iteration: start with *pos = 0; returns the next stored entry or NULL at the end. The table
 * must not change during an iteration (entries may be modified in place, keys may not). */
void *nn_otab_next(const struct nn_otab *t, size_t *pos);

#endif
