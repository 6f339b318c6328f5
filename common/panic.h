/* panic: always-on assertions for our own bugs (never for untrusted input).
 * ASSERT logs file:line and the expression, then abort()s so a core dump is left.
 * DEBUG_ASSERT is for O(n) invariant checks; it compiles out with -Ddebug_checks=false. */
#ifndef DFS_PANIC_H
#define DFS_PANIC_H

_Noreturn void panic_at(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define PANIC(...) panic_at(__FILE__, __LINE__, __VA_ARGS__)
#define ASSERT(c)                                                                                  \
    do {                                                                                           \
        if (!(c))                                                                                  \
            panic_at(__FILE__, __LINE__, "assertion failed: %s", #c);                              \
    } while (0)
#ifdef DFS_DEBUG_CHECKS
#define DEBUG_ASSERT(c) ASSERT(c)
#else
#define DEBUG_ASSERT(c) ((void)0)
#endif
#define STATIC_ASSERT(c) _Static_assert(c, #c)

#endif
