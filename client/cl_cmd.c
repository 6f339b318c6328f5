#include "cl_cmd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cl_fmt.h"
#include "cl_path.h"
#include "cl_tree.h"
#include "err.h"
#include "fileio.h"
#include "panic.h"
#include "xmalloc.h"

enum { CL_CMD_IO_SIZE = 1 << 20 };

int cl_cmd_load_cfg(const struct cl_args *a, struct cfg *cfg, char *err, size_t errlen)
{
    const char *file = cl_args_conf_file(a, getenv("DFS_CONF"),
                                         access(CL_ARGS_DEFAULT_CONF, R_OK) == 0);
    const char *nn = cl_args_nn_override(a, getenv("DFS_NAMENODE"));
    char kv[512];
    int rc = 0;

    if (file)
        rc = cfg_load_file(cfg, file, err, errlen);
    if (rc < 0 && err[0] == '\0')
        snprintf(err, errlen, "%s: %s", file, err_str(rc));
    for (uint32_t i = 0; rc == 0 && i < a->opt_count; i++)
        rc = cfg_set(cfg, a->opts[i], err, errlen);
    if (rc == 0 && nn) {
        snprintf(kv, sizeof(kv), "nn.addr=%s", nn);
        rc = cfg_set(cfg, kv, err, errlen);
    }
    return rc;
}

int cl_cmd_fail(const struct cl_cmd_ctx *x, const char *op, const char *path, int rc)
{
    ASSERT(rc < 0);
    fprintf(stderr, "%s: %s %s: %s\n", x->prog, op, path, err_str(rc));
    return CL_CMD_EXIT_FAIL;
}

static int cl_cmd_flush_out(struct buf *out)
{
    int rc = fileio_write_all(STDOUT_FILENO, out->data, out->len);
    buf_reset(out);
    return rc;
}

/* ---- ls, stat ---- */

struct cl_cmd_ls_state {
    struct buf out;
    int is_long;
};

static void cl_cmd_ls_entry(struct cl_cmd_ls_state *s, const struct wire_attr *a,
                            const char *name, size_t name_len)
{
    struct tm tm;
    time_t t = (time_t)(a->mtime_ms / 1000);

    if (!s->is_long) {
        cl_fmt_printf(&s->out, "%.*s\n", (int)name_len, name);
        return;
    }
    localtime_r(&t, &tm);
    cl_fmt_ls_long(&s->out, a, &tm, name, name_len);
}

static int cl_cmd_ls_cb(void *arg, const struct wire_nn_dirent *e)
{
    struct cl_cmd_ls_state *s = arg;

    cl_cmd_ls_entry(s, &e->attr, e->name.p, e->name.len);
    if (s->out.len >= 64 * 1024)
        return cl_cmd_flush_out(&s->out) < 0;
    return 0;
}

int cl_cmd_ls(struct cl_cmd_ctx *x, uint32_t flags, int argc, char **args)
{
    const char *path = argc > 0 ? args[0] : "/";
    struct cl_cmd_ls_state s = { .is_long = (flags & cl_args_flag('l')) != 0 };
    struct wire_attr attr;
    int is_eof = 0;
    int rc = dfs_resolve(x->c, path, &attr);

    buf_init(&s.out);
    if (rc == 0 && !S_ISDIR(attr.mode))
        cl_cmd_ls_entry(&s, &attr, path, strlen(path));
    else if (rc == 0)
        rc = dfs_readdir(x->c, attr.ino, NULL, 0, cl_cmd_ls_cb, &s, &is_eof);
    if (rc == 0)
        rc = cl_cmd_flush_out(&s.out);
    buf_fini(&s.out);
    return rc < 0 ? cl_cmd_fail(x, "ls", path, rc) : CL_CMD_EXIT_OK;
}

int cl_cmd_stat(struct cl_cmd_ctx *x, uint32_t flags, int argc, char **args)
{
    struct wire_attr attr;
    struct buf out;
    int rc = dfs_resolve(x->c, args[0], &attr);

    if (rc < 0)
        return cl_cmd_fail(x, "stat", args[0], rc);
    buf_init(&out);
    cl_fmt_stat(&out, args[0], &attr);
    rc = cl_cmd_flush_out(&out);
    buf_fini(&out);
    return rc < 0 ? cl_cmd_fail(x, "stat", args[0], rc) : CL_CMD_EXIT_OK;
}

/* ---- put ---- */

/* Where put creates the file: inside REMOTE if it is a directory, else REMOTE itself. */
static int cl_cmd_put_target(struct dfs_client *c, const char *local, const char *remote,
                             uint64_t *parent, char name[WIRE_NAME_MAX + 1])
{
    struct wire_attr attr;
    int rc = dfs_resolve(c, remote, &attr);

    if (rc == 0 && !S_ISDIR(attr.mode))
        return -EEXIST;
    if (rc == 0) {
        if (strcmp(local, "-") == 0)
            return -EISDIR;
        *parent = attr.ino;
        return cl_path_basename(local, name);
    }
    if (rc != -ENOENT)
        return rc;
    return dfs_resolve_parent(c, remote, parent, name);
}

/* Copies fd into the writer until EOF. */
static int cl_cmd_put_copy(int fd, struct dfs_writer *w, uint8_t *io)
{
    uint64_t off = 0;

    for (;;) {
        ssize_t n = read(fd, io, CL_CMD_IO_SIZE);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            return 0;
        ssize_t m = dfs_writer_write(w, io, (size_t)n, off);
        if (m < 0)
            return (int)m;
        off += (uint64_t)n;
    }
}

static int cl_cmd_open_local(const char *local, int *fd_out, uint32_t *mode)
{
    struct stat st;

    *mode = 0644;
    if (strcmp(local, "-") == 0) {
        *fd_out = STDIN_FILENO;
        return 0;
    }
    int fd = open(local, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        close(fd);
        return -EISDIR;
    }
    *mode = st.st_mode & 0777;
    *fd_out = fd;
    return 0;
}

int cl_cmd_put(struct cl_cmd_ctx *x, uint32_t flags, int argc, char **args)
{
    struct wire_nn_create req = { .uid = getuid(), .gid = getgid(), .flags = WIRE_CREATE_EXCL };
    char name[WIRE_NAME_MAX + 1] = "";
    struct dfs_writer *w = NULL;
    int fd = -1;
    uint32_t mode;
    int rc = cl_cmd_open_local(args[0], &fd, &mode);

    if (rc < 0)
        return cl_cmd_fail(x, "put", args[0], rc);
    rc = cl_cmd_put_target(x->c, args[0], args[1], &req.parent, name);
    req.name = wire_str_c(name);
    req.mode = S_IFREG | mode;
    if (rc == 0)
        rc = dfs_create(x->c, &req, NULL, NULL, &w);
    if (rc == 0) {
        uint8_t *io = xmalloc(CL_CMD_IO_SIZE);
        rc = cl_cmd_put_copy(fd, w, io);
        free(io);
        int close_rc = dfs_writer_close(w);
        rc = rc < 0 ? rc : close_rc;
        if (rc < 0)
            dfs_unlink(x->c, req.parent, name, NULL); /* best effort: no half-written file */
    }
    if (fd != STDIN_FILENO)
        close(fd);
    return rc < 0 ? cl_cmd_fail(x, "put", args[1], rc) : CL_CMD_EXIT_OK;
}

/* ---- get, cat ---- */

static int cl_cmd_get_copy(struct dfs_reader *r, int fd, uint8_t *io)
{
    uint64_t off = 0;

    for (;;) {
        ssize_t n = dfs_reader_pread(r, io, CL_CMD_IO_SIZE, off);
        if (n < 0)
            return (int)n;
        if (n == 0)
            return 0;
        int rc = fileio_write_all(fd, io, (size_t)n);
        if (rc < 0)
            return rc;
        off += (uint64_t)n;
    }
}

/* Opens the local destination: "-" is stdout; an existing directory gets remote's name. */
static int cl_cmd_open_dest(const char *remote, const char *local, int *fd_out)
{
    char path[CL_PATH_MAX], name[WIRE_NAME_MAX + 1];
    struct stat st;
    int rc;

    if (strcmp(local, "-") == 0) {
        *fd_out = STDOUT_FILENO;
        return 0;
    }
    if (stat(local, &st) == 0 && S_ISDIR(st.st_mode)) {
        rc = cl_path_basename(remote, name);
        if (rc < 0)
            return rc;
        if ((size_t)snprintf(path, sizeof(path), "%s/%s", local, name) >= sizeof(path))
            return -ENAMETOOLONG;
        local = path;
    }
    int fd = open(local, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    *fd_out = fd;
    return 0;
}

static int cl_cmd_copy_out(struct cl_cmd_ctx *x, const char *op, const char *remote,
                           const char *local)
{
    struct wire_attr attr;
    struct dfs_reader *r = NULL;
    int fd = -1;
    int rc = dfs_resolve(x->c, remote, &attr);

    if (rc == 0 && S_ISDIR(attr.mode))
        rc = -EISDIR;
    if (rc == 0)
        rc = dfs_open_read(x->c, attr.ino, &r);
    if (rc < 0)
        return cl_cmd_fail(x, op, remote, rc);
    rc = cl_cmd_open_dest(remote, local, &fd);
    if (rc < 0) {
        dfs_reader_close(r);
        return cl_cmd_fail(x, op, local, rc);
    }
    uint8_t *io = xmalloc(CL_CMD_IO_SIZE);
    rc = cl_cmd_get_copy(r, fd, io);
    free(io);
    dfs_reader_close(r);
    if (fd != STDOUT_FILENO && close(fd) < 0 && rc == 0)
        rc = -errno;
    return rc < 0 ? cl_cmd_fail(x, op, remote, rc) : CL_CMD_EXIT_OK;
}

int cl_cmd_get(struct cl_cmd_ctx *x, uint32_t flags, int argc, char **args)
{
    return cl_cmd_copy_out(x, "get", args[0], args[1]);
}

int cl_cmd_cat(struct cl_cmd_ctx *x, uint32_t flags, int argc, char **args)
{
    int status = CL_CMD_EXIT_OK;

    for (int i = 0; i < argc; i++) {
        if (cl_cmd_copy_out(x, "cat", args[i], "-") != CL_CMD_EXIT_OK)
            status = CL_CMD_EXIT_FAIL;
    }
    return status;
}

/* ---- mkdir, rm, mv ---- */

int cl_cmd_mkdir(struct cl_cmd_ctx *x, uint32_t flags, int argc, char **args)
{
    struct cl_tree_owner o = { .uid = getuid(), .gid = getgid(), .dir_mode = 0755 };
    int status = CL_CMD_EXIT_OK;

    for (int i = 0; i < argc; i++) {
        struct wire_nn_mkdir m = { .mode = S_IFDIR | 0755, .uid = o.uid, .gid = o.gid };
        char name[WIRE_NAME_MAX + 1];
        int rc;
        if (flags & cl_args_flag('p')) {
            rc = cl_tree_mkdir_p(x->c, args[i], &o, NULL);
        } else {
            rc = dfs_resolve_parent(x->c, args[i], &m.parent, name);
            m.name = wire_str_c(name);
            if (rc == 0)
                rc = dfs_mkdir(x->c, &m, NULL, NULL);
        }
        if (rc < 0)
            status = cl_cmd_fail(x, "mkdir", args[i], rc);
    }
    return status;
}

static int cl_cmd_rm_one(struct cl_cmd_ctx *x, const char *path, int is_recursive)
{
    char name[WIRE_NAME_MAX + 1];
    struct wire_attr attr;
    uint64_t parent;
    int rc = dfs_resolve_parent(x->c, path, &parent, name);

    if (rc == 0)
        rc = dfs_lookup(x->c, parent, name, &attr);
    if (rc == 0 && !S_ISDIR(attr.mode))
        return dfs_unlink(x->c, parent, name, NULL);
    if (rc == 0 && !is_recursive)
        return -EISDIR;
    if (rc == 0)
        rc = cl_tree_empty_dir(x->c, attr.ino);
    if (rc == 0)
        rc = dfs_rmdir(x->c, parent, name, NULL);
    return rc;
}

int cl_cmd_rm(struct cl_cmd_ctx *x, uint32_t flags, int argc, char **args)
{
    int status = CL_CMD_EXIT_OK;

    for (int i = 0; i < argc; i++) {
        int rc = cl_cmd_rm_one(x, args[i], (flags & cl_args_flag('r')) != 0);
        if (rc == -ENOENT && (flags & cl_args_flag('f')))
            continue; /* -f: a missing path is not an error */
        if (rc < 0)
            status = cl_cmd_fail(x, "rm", args[i], rc);
    }
    return status;
}

int cl_cmd_mv(struct cl_cmd_ctx *x, uint32_t flags, int argc, char **args)
{
    char name[WIRE_NAME_MAX + 1], new_name[WIRE_NAME_MAX + 1];
    struct wire_nn_rename req = { .flags = 0 };
    struct wire_attr attr;
    int rc = dfs_resolve_parent(x->c, args[0], &req.parent, name);

    if (rc < 0)
        return cl_cmd_fail(x, "mv", args[0], rc);
    rc = dfs_resolve(x->c, args[1], &attr);
    if (rc == 0 && S_ISDIR(attr.mode)) {
        req.new_parent = attr.ino;
        memcpy(new_name, name, sizeof(name));
    } else if (rc == 0 || rc == -ENOENT) {
        rc = dfs_resolve_parent(x->c, args[1], &req.new_parent, new_name);
    }
    req.name = wire_str_c(name);
    req.new_name = wire_str_c(new_name);
    if (rc == 0)
        rc = dfs_rename(x->c, &req);
    return rc < 0 ? cl_cmd_fail(x, "mv", args[1], rc) : CL_CMD_EXIT_OK;
}
