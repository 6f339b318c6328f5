/* cl_cmd: the dfs commands (ls, stat, put, get, cat, mkdir, rm, mv) and the set-up shared by
 * dfs and dfsadmin (config and namenode address from flags, environment and config file).
 * Glue: talks to the namenode through libdfs, to local files and to stdout/stderr. Each
 * command prints its own error ("dfs: stat /x: No such file or directory") and returns the
 * process exit status: 0 success, 1 failure (CL_CMD_EXIT_*). */
#ifndef DFS_CL_CMD_H
#define DFS_CL_CMD_H

#include <stddef.h>
#include <stdint.h>

#include "cl_args.h"
#include "dfs.h"

enum { CL_CMD_EXIT_OK = 0, CL_CMD_EXIT_FAIL = 1, CL_CMD_EXIT_USAGE = 2 };

struct cl_cmd_ctx {
    const char *prog; /* "dfs", for messages */
    struct dfs_client *c;
};

/* Builds the config from the rules in cl_args.h (reads the environment and the config file).
 * Errors: -errno / -EINVAL with a message in err. */
int cl_cmd_load_cfg(const struct cl_args *a, struct cfg *cfg, char *err, size_t errlen);
/* Prints "prog: op path: error" on stderr and returns CL_CMD_EXIT_FAIL. */
int cl_cmd_fail(const struct cl_cmd_ctx *x, const char *op, const char *path, int rc);

/* args[] holds exactly the positional arguments the command's table entry allows; flags are
 * cl_args_flag() bits. */
typedef int cl_cmd_fn(struct cl_cmd_ctx *x, uint32_t flags, int argc, char **args);
cl_cmd_fn cl_cmd_ls;
cl_cmd_fn cl_cmd_stat;
cl_cmd_fn cl_cmd_put;
cl_cmd_fn cl_cmd_get;
cl_cmd_fn cl_cmd_cat;
cl_cmd_fn cl_cmd_mkdir;
cl_cmd_fn cl_cmd_rm;
cl_cmd_fn cl_cmd_mv;

#endif
