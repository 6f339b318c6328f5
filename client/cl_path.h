/* cl_path: pure path handling for the path helpers and the CLI. Paths are absolute from the
 * file system root; a relative path is taken relative to "/" (there is no working directory).
 * Normalization removes empty and "." components and resolves ".." lexically (".." of the root
 * is the root), so resolution is just a walk of LOOKUPs. No I/O; callable from any thread. */
#ifndef DFS_CL_PATH_H
#define DFS_CL_PATH_H

#include <stddef.h>

#include "wire.h"

enum { CL_PATH_MAX = 4096 };

/* Writes the normalized form of path ("/" or "/a/b", no trailing slash) into out (cap bytes).
 * Errors: -ENAMETOOLONG (a component over WIRE_NAME_MAX or the result over cap),
 * -EINVAL (empty path). */
int cl_path_normalize(const char *path, char *out, size_t cap);
/* Iterates the components of a normalized path: *pos starts at 0; each call copies the next
 * component into name and returns 1, or returns 0 at the end. */
int cl_path_next(const char *norm, size_t *pos, char name[WIRE_NAME_MAX + 1]);
/* Splits a normalized path into its parent (normalized, into parent, cap bytes) and last
 * component. -EINVAL for "/" itself. */
int cl_path_split(const char *norm, char *parent, size_t cap, char name[WIRE_NAME_MAX + 1]);
/* The last component of any path (local or remote) into name, ignoring trailing slashes;
 * -EINVAL if there is none ("/", "", ".", ".."), -ENAMETOOLONG if too long. */
int cl_path_basename(const char *path, char name[WIRE_NAME_MAX + 1]);

#endif
