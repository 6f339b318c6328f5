/* dfsadmin: cluster administration. Wiring only: `report [--json]` (also HDFS's `-report`)
 * sends NN_REPORT and prints the reply through cl_fmt. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cl_args.h"
#include "cl_cmd.h"
#include "cl_fmt.h"
#include "err.h"
#include "log.h"

static int dfsadmin_usage(const char *msg)
{
    if (msg)
        fprintf(stderr, "dfsadmin: %s\n", msg);
    fprintf(stderr, "usage: dfsadmin [-n HOST:PORT] [-c FILE] [-o key=value]... "
                    "report [--json]\n");
    return CL_CMD_EXIT_USAGE;
}

static int dfsadmin_report(struct dfs_client *c, int is_json)
{
    struct wire_nn_report_ok rep;
    struct wire_frame reply;
    struct buf storage, out;
    int rc;

    buf_init(&storage);
    buf_init(&out);
    rc = dfs_rpc(c, WIRE_NN_REPORT, NULL, &storage, &reply);
    if (rc == 0)
        rc = wire_nn_report_ok_decode(reply.body, reply.hdr.body_len, &rep);
    if (rc == 0 && is_json)
        cl_fmt_report_json(&out, &rep);
    else if (rc == 0)
        cl_fmt_report_text(&out, &rep);
    if (rc == 0 && fwrite(out.data, 1, out.len, stdout) != out.len)
        rc = -EIO;
    buf_fini(&out);
    buf_fini(&storage);
    if (rc < 0) {
        fprintf(stderr, "dfsadmin: report: %s\n", err_str(rc));
        return CL_CMD_EXIT_FAIL;
    }
    return CL_CMD_EXIT_OK;
}

/* Parses the arguments after "report": at most one "--json" (or "-json"). */
static int dfsadmin_report_args(const struct cl_args *a, int *is_json)
{
    *is_json = 0;
    for (int i = 0; i < a->argc; i++) {
        if (strcmp(a->argv[i], "--json") != 0 && strcmp(a->argv[i], "-json") != 0)
            return -1;
        *is_json = 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct cl_args a;
    struct cfg cfg;
    struct dfs_client *c = NULL;
    char err[512] = "";
    int is_json = 0;

    if (cl_args_parse(argc, argv, &a, err, sizeof(err)) < 0)
        return dfsadmin_usage(err);
    if (!a.cmd || (strcmp(a.cmd, "report") != 0 && strcmp(a.cmd, "-report") != 0))
        return dfsadmin_usage(a.cmd ? "unknown command" : NULL);
    if (dfsadmin_report_args(&a, &is_json) < 0)
        return dfsadmin_usage("report takes only --json");
    log_set_level(LOG_LEVEL_WARN);
    cfg_init(&cfg);
    int rc = cl_cmd_load_cfg(&a, &cfg, err, sizeof(err));
    if (rc < 0)
        fprintf(stderr, "dfsadmin: config: %s\n", err);
    if (rc == 0 && dfs_client_new(&cfg, &c) < 0) {
        fprintf(stderr, "dfsadmin: bad namenode address '%s'\n", cfg_str(&cfg, CFG_NN_ADDR));
        rc = -EINVAL;
    }
    cfg_fini(&cfg);
    if (rc < 0)
        return CL_CMD_EXIT_USAGE;
    int status = dfsadmin_report(c, is_json);
    dfs_client_free(c);
    return status;
}
