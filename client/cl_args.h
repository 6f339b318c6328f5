/* cl_args: pure command-line parsing shared by dfs and dfsadmin — the global options
 * (-n HOST:PORT, -c FILE, -o key=value, repeatable), the command word and its arguments,
 * per-command single-letter flags, and the rules that pick the namenode address and the
 * config file (-n, else $DFS_NAMENODE, else the config file: -c FILE, else $DFS_CONF, else
 * /etc/dfs/dfs.conf if it exists, else the built-in default). No I/O: the environment and the
 * existence of the default file come in as arguments. Pointers borrow from argv. */
#ifndef DFS_CL_ARGS_H
#define DFS_CL_ARGS_H

#include <stddef.h>
#include <stdint.h>

enum { CL_ARGS_OPTS_MAX = 32 };

#define CL_ARGS_DEFAULT_CONF "/etc/dfs/dfs.conf"

struct cl_args {
    const char *nn_addr;   /* -n, or NULL */
    const char *conf_path; /* -c, or NULL */
    const char *opts[CL_ARGS_OPTS_MAX]; /* -o key=value, in order */
    uint32_t opt_count;
    const char *cmd;       /* the command word, or NULL if none was given */
    int argc;              /* arguments after the command word */
    char **argv;
};

/* Parses argv[1..]: global options up to the first non-option word (the command). Errors:
 * -EINVAL with a message in err (errlen bytes). A missing command is not an error here. */
int cl_args_parse(int argc, char **argv, struct cl_args *out, char *err, size_t errlen);

/* Parses leading single-letter flags of a command's arguments ("-l", "-rf"; "--" ends them;
 * "-" alone is an argument). allowed lists the accepted letters; *flags gets bit (c - 'a') per
 * letter seen; *first is the index of the first argument. -EINVAL (message in err) on an
 * unknown flag. */
int cl_args_flags(int argc, char **argv, const char *allowed, uint32_t *flags, int *first,
                  char *err, size_t errlen);
/* Bit of flag letter c (a..z) in the flags word. */
uint32_t cl_args_flag(char c);

/* The config file to load: -c, else env_conf (may be NULL or ""), else the default if
 * default_exists, else NULL (built-in defaults only). */
const char *cl_args_conf_file(const struct cl_args *a, const char *env_conf, int default_exists);
/* The namenode address that overrides the config: -n, else env_nn (NULL or "" = none). */
const char *cl_args_nn_override(const struct cl_args *a, const char *env_nn);

#endif
