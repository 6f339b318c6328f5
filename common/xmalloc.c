#include "xmalloc.h"

#include <stdlib.h>
#include <string.h>

#include "panic.h"

void *xmalloc(size_t size)
{
    void *p = malloc(size ? size : 1);

    if (!p)
        PANIC("out of memory allocating %zu bytes", size);
    return p;
}

void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);

    if (!p)
        PANIC("out of memory allocating %zu x %zu bytes", n, size);
    return p;
}

void *xrealloc(void *p, size_t size)
{
    void *q = realloc(p, size ? size : 1);

    if (!q)
        PANIC("out of memory reallocating %zu bytes", size);
    return q;
}

char *xstrndup(const char *s, size_t len)
{
    char *d = xmalloc(len + 1);

    memcpy(d, s, len);
    d[len] = '\0';
    return d;
}

char *xstrdup(const char *s)
{
    return xstrndup(s, strlen(s));
}
