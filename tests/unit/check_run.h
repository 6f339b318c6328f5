/* check_run: the end of every unit test's main(): runs the suite and turns its failures into
 * the exit status meson reads. Header-only; each test includes it once. */
#ifndef DFS_CHECK_RUN_H
#define DFS_CHECK_RUN_H

#include <check.h>
#include <stdlib.h>

static inline int check_run(Suite *s)
{
    SRunner *sr = srunner_create(s);

    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
