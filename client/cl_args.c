#include "cl_args.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "panic.h"

/* Takes the value of option argv[*i] (attached as "-nHOST" or in the next word). */
static int cl_args_value(int argc, char **argv, int *i, const char **out, char *err,
                         size_t errlen)
{
    const char *arg = argv[*i];

    if (arg[2] != '\0') {
        *out = arg + 2;
        return 0;
    }
    if (*i + 1 >= argc) {
        snprintf(err, errlen, "option %s needs a value", arg);
        return -EINVAL;
    }
    *out = argv[++*i];
    return 0;
}

static int cl_args_global(int argc, char **argv, int *i, struct cl_args *a, char *err,
                          size_t errlen)
{
    const char *v = NULL;
    char opt = argv[*i][1];
    int rc;

    if (opt != 'n' && opt != 'c' && opt != 'o') {
        snprintf(err, errlen, "unknown option %s", argv[*i]);
        return -EINVAL;
    }
    rc = cl_args_value(argc, argv, i, &v, err, errlen);
    if (rc < 0)
        return rc;
    if (opt == 'n')
        a->nn_addr = v;
    if (opt == 'c')
        a->conf_path = v;
    if (opt == 'o') {
        if (a->opt_count == CL_ARGS_OPTS_MAX || !strchr(v, '=')) {
            snprintf(err, errlen, "bad -o '%s' (key=value, at most %d)", v, CL_ARGS_OPTS_MAX);
            return -EINVAL;
        }
        a->opts[a->opt_count++] = v;
    }
    return 0;
}

int cl_args_parse(int argc, char **argv, struct cl_args *out, char *err, size_t errlen)
{
    struct cl_args a = { .argv = NULL };
    int i = 1;

    ASSERT(argc >= 1);
    for (; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--") == 0) {
            i++;
            break;
        }
        if (arg[0] != '-' || arg[1] == '\0' || !strchr("nco", arg[1]))
            break; /* the command word (also dfsadmin's "-report") */
        int rc = cl_args_global(argc, argv, &i, &a, err, errlen);
        if (rc < 0)
            return rc;
    }
    if (i < argc) {
        a.cmd = argv[i];
        a.argc = argc - i - 1;
        a.argv = argv + i + 1;
    }
    *out = a;
    return 0;
}

uint32_t cl_args_flag(char c)
{
    ASSERT(c >= 'a' && c <= 'z');
    return 1u << (c - 'a');
}

int cl_args_flags(int argc, char **argv, const char *allowed, uint32_t *flags, int *first,
                  char *err, size_t errlen)
{
    uint32_t f = 0;
    int i = 0;

    for (; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--") == 0) {
            i++;
            break;
        }
        if (arg[0] != '-' || arg[1] == '\0')
            break;
        for (const char *p = arg + 1; *p; p++) {
            if (*p < 'a' || *p > 'z' || !strchr(allowed, *p)) {
                snprintf(err, errlen, "unknown flag -%c", *p);
                return -EINVAL;
            }
            f |= cl_args_flag(*p);
        }
    }
    *flags = f;
    *first = i;
    return 0;
}

const char *cl_args_conf_file(const struct cl_args *a, const char *env_conf, int default_exists)
{
    if (a->conf_path)
        return a->conf_path;
    if (env_conf && *env_conf)
        return env_conf;
    return default_exists ? CL_ARGS_DEFAULT_CONF : NULL;
}

const char *cl_args_nn_override(const struct cl_args *a, const char *env_nn)
{
    if (a->nn_addr)
        return a->nn_addr;
    return env_nn && *env_nn ? env_nn : NULL;
}
