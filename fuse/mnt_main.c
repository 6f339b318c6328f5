/* dfs-fuse: mounts a dfs cluster with the libfuse3 low-level API. Wiring only: parse the
 * command line, build the config and the struct mnt_ctx, create the FUSE session, mount,
 * daemonize, run the multi-threaded loop, and unmount on SIGTERM/SIGINT/SIGHUP or umount.
 *
 *   dfs-fuse [-c FILE] [-O key=value]... [-f] [-d] [-o opts] NN_HOST:PORT MOUNTPOINT
 *
 * The dfs client is created after fuse_daemonize(): its threads would not survive the fork.
 * A probe client checks that the namenode answers before anything is mounted. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fuse_lowlevel.h>

#include "cfg.h"
#include "dfs.h"
#include "err.h"
#include "log.h"
#include "mnt_ctx.h"
#include "mnt_ops.h"
#include "panic.h"

#define MNT_MAIN_DEFAULT_CONF "/etc/dfs/dfs.conf"

enum { MNT_MAIN_ARGS_MAX = 64, MNT_MAIN_THREADS_MAX = 32, MNT_MAIN_ERR_LEN = 256 };

struct mnt_main_args {
    const char *conf_path;                         /* -c, else $DFS_CONF, else the default */
    const char *overrides[MNT_MAIN_ARGS_MAX];      /* -O key=value */
    uint32_t override_count;
    const char *fuse_opts[MNT_MAIN_ARGS_MAX];      /* -o */
    uint32_t fuse_opt_count;
    bool is_foreground;                            /* -f */
    bool is_debug;                                 /* -d: FUSE debug, log.level=debug, -f */
    const char *nn_addr;
    const char *mountpoint;
};

static void mnt_main_usage(FILE *out)
{
    fprintf(out,
            "usage: dfs-fuse [-c FILE] [-O key=value]... [-f] [-d] [-o opts] NN_HOST:PORT "
            "MOUNTPOINT\n"
            "  -c FILE       config file (default: $DFS_CONF, else " MNT_MAIN_DEFAULT_CONF
            " if present)\n"
            "  -O key=value  override one config key (repeatable)\n"
            "  -f            stay in the foreground\n"
            "  -d            debug: FUSE request trace and log.level=debug (implies -f)\n"
            "  -o opts       FUSE/mount options (repeatable); allow_other is always on,\n"
            "                and dfs-fuse checks permissions itself (add default_permissions\n"
            "                to have the kernel check them too)\n");
}

/* 0, 1 when help was asked for, or -EINVAL (a message is printed). */
static int mnt_main_parse(int argc, char **argv, struct mnt_main_args *a)
{
    int opt;

    while ((opt = getopt(argc, argv, "hc:O:o:fd")) != -1) {
        switch (opt) {
        case 'h':
            mnt_main_usage(stdout);
            return 1;
        case 'c':
            a->conf_path = optarg;
            break;
        case 'O':
        case 'o':
            if ((opt == 'O' ? a->override_count : a->fuse_opt_count) >= MNT_MAIN_ARGS_MAX) {
                fprintf(stderr, "dfs-fuse: too many -%c options\n", opt);
                return -EINVAL;
            }
            if (opt == 'O')
                a->overrides[a->override_count++] = optarg;
            else
                a->fuse_opts[a->fuse_opt_count++] = optarg;
            break;
        case 'f':
            a->is_foreground = true;
            break;
        case 'd':
            a->is_debug = true;
            a->is_foreground = true;
            break;
        default:
            mnt_main_usage(stderr);
            return -EINVAL;
        }
    }
    if (argc - optind != 2) {
        mnt_main_usage(stderr);
        return -EINVAL;
    }
    a->nn_addr = argv[optind];
    a->mountpoint = argv[optind + 1];
    return 0;
}

static int mnt_main_set(struct cfg *cfg, const char *kv)
{
    char err[MNT_MAIN_ERR_LEN];
    int rc = cfg_set(cfg, kv, err, sizeof(err));

    if (rc < 0)
        fprintf(stderr, "dfs-fuse: %s\n", err);
    return rc;
}

/* Config: file, then -O overrides, then the positional namenode address. */
static int mnt_main_config(const struct mnt_main_args *a, struct cfg *cfg)
{
    const char *path = a->conf_path != NULL ? a->conf_path : getenv("DFS_CONF");
    char err[MNT_MAIN_ERR_LEN];
    char kv[MNT_MAIN_ERR_LEN];
    enum log_level level;
    int rc = 0;

    if (path == NULL && access(MNT_MAIN_DEFAULT_CONF, R_OK) == 0)
        path = MNT_MAIN_DEFAULT_CONF;
    if (path != NULL && (rc = cfg_load_file(cfg, path, err, sizeof(err))) < 0) {
        fprintf(stderr, "dfs-fuse: %s: %s\n", path, err);
        return rc;
    }
    for (uint32_t i = 0; i < a->override_count && rc == 0; i++)
        rc = mnt_main_set(cfg, a->overrides[i]);
    if (rc == 0 && (size_t)snprintf(kv, sizeof(kv), "nn.addr=%s", a->nn_addr) >= sizeof(kv))
        rc = -ENAMETOOLONG;
    if (rc == 0)
        rc = mnt_main_set(cfg, kv);
    if (rc < 0)
        return rc;
    if (a->is_debug && (rc = mnt_main_set(cfg, "log.level=debug")) < 0)
        return rc;
    if (log_parse_level(cfg_str(cfg, CFG_LOG_LEVEL), &level) < 0) {
        fprintf(stderr, "dfs-fuse: bad log.level '%s'\n", cfg_str(cfg, CFG_LOG_LEVEL));
        return -EINVAL;
    }
    log_set_level(level);
    return 0;
}

/* The FUSE argument vector: our defaults first, so that -o options given later can add to
 * them; fsname shows the namenode in mount(8) and df(1). */
static int mnt_main_fuse_args(const struct mnt_main_args *a, const char *argv0,
                              struct fuse_args *fargs)
{
    char opts[MNT_MAIN_ERR_LEN + 64];
    int rc = 0;

    if ((size_t)snprintf(opts, sizeof(opts),
                         "allow_other,subtype=dfs,fsname=dfs#%s",
                         a->nn_addr) >= sizeof(opts))
        return -ENAMETOOLONG;
    rc |= fuse_opt_add_arg(fargs, argv0);
    rc |= fuse_opt_add_arg(fargs, "-o");
    rc |= fuse_opt_add_arg(fargs, opts);
    for (uint32_t i = 0; i < a->fuse_opt_count; i++) {
        rc |= fuse_opt_add_arg(fargs, "-o");
        rc |= fuse_opt_add_arg(fargs, a->fuse_opts[i]);
    }
    if (a->is_debug)
        rc |= fuse_opt_add_arg(fargs, "-d");
    return rc != 0 ? -ENOMEM : 0;
}

/* Fails early, before mounting, if the namenode does not answer. */
static int mnt_main_probe(const struct cfg *cfg)
{
    struct dfs_client *client;
    struct wire_nn_statfs_ok s;
    int rc = dfs_client_new(cfg, &client);

    if (rc == 0) {
        rc = dfs_statfs(client, &s);
        dfs_client_free(client);
    }
    if (rc < 0)
        fprintf(stderr, "dfs-fuse: namenode %s: %s\n", cfg_str(cfg, CFG_NN_ADDR), err_str(rc));
    return rc;
}

/* Runs the mounted session until unmount or a signal; 0 on a clean exit. */
static int mnt_main_serve(struct fuse_session *se, const struct cfg *cfg, struct mnt_ctx *ctx)
{
    struct fuse_loop_config *loop_cfg;
    int rc = dfs_client_new(cfg, &ctx->client);

    if (rc < 0) {
        LOG_ERROR("dfs client: %s", err_str(rc));
        return rc;
    }
    mnt_files_init(&ctx->files, ctx->client);
    uint64_t ttl_ms = (uint64_t)(ctx->timeout_s * 1000);
    mnt_dattr_init(&ctx->dattr, ttl_ms);
    mnt_dattr_init_any(&ctx->pattr, ttl_ms, MNT_CTX_PATTR_SLOTS);
    mnt_dnames_init(&ctx->dnames, ttl_ms < MNT_DNAMES_TTL_MAX_MS ? ttl_ms : MNT_DNAMES_TTL_MAX_MS);
    loop_cfg = fuse_loop_cfg_create();
    ASSERT(loop_cfg != NULL);
    fuse_loop_cfg_set_max_threads(loop_cfg, MNT_MAIN_THREADS_MAX);
    LOG_INFO("mounted nn=%s", cfg_str(cfg, CFG_NN_ADDR));
    rc = fuse_session_loop_mt(se, loop_cfg);
    LOG_INFO("session loop ended rc=%d", rc);
    fuse_loop_cfg_destroy(loop_cfg);
    mnt_files_fini(&ctx->files);
    mnt_dattr_fini(&ctx->dattr);
    mnt_dattr_fini(&ctx->pattr);
    mnt_dnames_fini(&ctx->dnames);
    dfs_client_free(ctx->client);
    ctx->client = NULL;
    return rc < 0 ? rc : 0; /* a positive rc is the signal that ended the loop */
}

static int mnt_main_run(const struct mnt_main_args *a, const struct cfg *cfg,
                        struct fuse_args *fargs)
{
    struct mnt_ctx ctx = {.client = NULL, .timeout_s = MNT_OPS_TIMEOUT_S};
    struct fuse_session *se = fuse_session_new(fargs, &mnt_ops, sizeof(mnt_ops), &ctx);
    int rc = -EINVAL;

    if (se == NULL)
        return rc; /* libfuse printed why */
    if (fuse_set_signal_handlers(se) != 0)
        goto fail_session;
    if (fuse_session_mount(se, a->mountpoint) != 0)
        goto fail_signals;
    if (fuse_daemonize(a->is_foreground) != 0)
        goto fail_mount;
    rc = mnt_main_serve(se, cfg, &ctx);
fail_mount:
    fuse_session_unmount(se);
fail_signals:
    fuse_remove_signal_handlers(se);
fail_session:
    fuse_session_destroy(se);
    return rc;
}

int main(int argc, char **argv)
{
    struct mnt_main_args args = {.conf_path = NULL};
    struct fuse_args fargs = FUSE_ARGS_INIT(0, NULL);
    struct cfg cfg;
    int rc = mnt_main_parse(argc, argv, &args);

    if (rc != 0)
        return rc > 0 ? EXIT_SUCCESS : 2;
    cfg_init(&cfg);
    rc = mnt_main_config(&args, &cfg);
    if (rc == 0)
        rc = mnt_main_fuse_args(&args, argv[0], &fargs);
    if (rc == 0)
        rc = mnt_main_probe(&cfg);
    if (rc == 0)
        rc = mnt_main_run(&args, &cfg, &fargs);
    fuse_opt_free_args(&fargs);
    cfg_fini(&cfg);
    return rc == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
