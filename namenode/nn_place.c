#include "nn_place.h"

#include <math.h>
#include <string.h>

#include <xxhash.h>

#include "panic.h"

double nn_place_score(const struct nn_place_cand *cand, uint64_t blk_id)
{
    uint64_t h = XXH3_64bits_withSeed(cand->node_id, strlen(cand->node_id), blk_id);
    /* u in (0, 1): 53 significant bits, never 0 or 1. */
    double u = ((double)(h >> 11) + 0.5) / 9007199254740992.0;
    double w = cand->weight ? (double)cand->weight : 1.0;

    return w / -log(u);
}

size_t nn_place_choose(const struct nn_place_cand *cands, size_t count, uint64_t blk_id,
                       size_t want, uint32_t *out)
{
    double best[64];
    size_t chosen = 0;

    ASSERT(want <= 64);
    for (size_t i = 0; i < count; i++) {
        double s = nn_place_score(&cands[i], blk_id);
        /* Insertion into the sorted top-`want` list. */
        size_t pos = chosen;
        while (pos > 0 && best[pos - 1] < s)
            pos--;
        if (pos >= want)
            continue;
        size_t last = chosen < want ? chosen : want - 1;
        for (size_t j = last; j > pos; j--) {
            best[j] = best[j - 1];
            out[j] = out[j - 1];
        }
        best[pos] = s;
        out[pos] = cands[i].idx;
        if (chosen < want)
            chosen++;
    }
    return chosen;
}
