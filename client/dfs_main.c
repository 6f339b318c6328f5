/* dfs: the command-line client. Wiring only: parse the command line, build the config and
 * the client, dispatch to cl_cmd through the command table. */
#include <stdio.h>
#include <string.h>

#include "cl_args.h"
#include "cl_cmd.h"
#include "err.h"
#include "log.h"

struct dfs_cmd {
    const char *name;
    cl_cmd_fn *fn;
    const char *flags; /* accepted flag letters */
    int args_min;
    int args_max;
    const char *usage;
};

static const struct dfs_cmd dfs_cmds[] = {
    { "ls", cl_cmd_ls, "l", 0, 1, "ls [-l] PATH" },
    { "stat", cl_cmd_stat, "", 1, 1, "stat PATH" },
    { "put", cl_cmd_put, "", 2, 2, "put LOCAL|- REMOTE" },
    { "get", cl_cmd_get, "", 2, 2, "get REMOTE LOCAL|-" },
    { "cat", cl_cmd_cat, "", 1, 64, "cat PATH..." },
    { "mkdir", cl_cmd_mkdir, "p", 1, 64, "mkdir [-p] PATH..." },
    { "rm", cl_cmd_rm, "rf", 1, 64, "rm [-r] [-f] PATH..." },
    { "mv", cl_cmd_mv, "", 2, 2, "mv SRC DST" },
};
enum { DFS_CMD_COUNT = sizeof(dfs_cmds) / sizeof(dfs_cmds[0]) };

static int dfs_usage(const char *msg)
{
    if (msg)
        fprintf(stderr, "dfs: %s\n", msg);
    fprintf(stderr, "usage: dfs [-n HOST:PORT] [-c FILE] [-o key=value]... COMMAND ARGS\n");
    for (int i = 0; i < DFS_CMD_COUNT; i++)
        fprintf(stderr, "  dfs %s\n", dfs_cmds[i].usage);
    return CL_CMD_EXIT_USAGE;
}

static int dfs_run(const struct dfs_cmd *cmd, const struct cl_args *a, struct cfg *cfg)
{
    struct cl_cmd_ctx x = { .prog = "dfs" };
    char err[256] = "";
    uint32_t flags;
    int first;

    if (cl_args_flags(a->argc, a->argv, cmd->flags, &flags, &first, err, sizeof(err)) < 0)
        return dfs_usage(err);
    int n = a->argc - first;
    if (n < cmd->args_min || n > cmd->args_max) {
        fprintf(stderr, "usage: dfs %s\n", cmd->usage);
        return CL_CMD_EXIT_USAGE;
    }
    int rc = dfs_client_new(cfg, &x.c);
    if (rc < 0) {
        fprintf(stderr, "dfs: bad namenode address '%s'\n", cfg_str(cfg, CFG_NN_ADDR));
        return CL_CMD_EXIT_USAGE;
    }
    int status = cmd->fn(&x, flags, n, a->argv + first);
    dfs_client_free(x.c);
    return status;
}

int main(int argc, char **argv)
{
    struct cl_args a;
    struct cfg cfg;
    char err[512] = "";
    enum log_level level = LOG_LEVEL_WARN;
    int status = CL_CMD_EXIT_USAGE;

    if (cl_args_parse(argc, argv, &a, err, sizeof(err)) < 0)
        return dfs_usage(err);
    if (!a.cmd || strcmp(a.cmd, "help") == 0 || strcmp(a.cmd, "-h") == 0)
        return dfs_usage(NULL);
    cfg_init(&cfg);
    if (cl_cmd_load_cfg(&a, &cfg, err, sizeof(err)) < 0) {
        fprintf(stderr, "dfs: config: %s\n", err);
        cfg_fini(&cfg);
        return CL_CMD_EXIT_USAGE;
    }
    if (log_parse_level(cfg_str(&cfg, CFG_LOG_LEVEL), &level) == 0 && level > LOG_LEVEL_WARN)
        log_set_level(level);
    else
        log_set_level(LOG_LEVEL_WARN);
    const struct dfs_cmd *cmd = NULL;
    for (int i = 0; i < DFS_CMD_COUNT; i++) {
        if (strcmp(dfs_cmds[i].name, a.cmd) == 0)
            cmd = &dfs_cmds[i];
    }
    if (cmd)
        status = dfs_run(cmd, &a, &cfg);
    else
        snprintf(err, sizeof(err), "unknown command '%s'", a.cmd);
    cfg_fini(&cfg);
    return cmd ? status : dfs_usage(err);
}
