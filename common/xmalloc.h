/* xmalloc: allocation that aborts on out-of-memory, so callers carry no NULL checks.
 * xcalloc checks n * size for overflow. xstrndup copies at most len bytes and terminates. */
#ifndef DFS_XMALLOC_H
#define DFS_XMALLOC_H

#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t len);

#endif
