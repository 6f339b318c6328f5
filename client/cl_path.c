#include "cl_path.h"

#include <errno.h>
#include <string.h>

#include "panic.h"

/* Appends "/" + comp (comp_len bytes) to out (length *len, cap bytes). */
static int cl_path_push(char *out, size_t *len, size_t cap, const char *comp, size_t comp_len)
{
    if (comp_len > WIRE_NAME_MAX || *len + 1 + comp_len + 1 > cap)
        return -ENAMETOOLONG;
    out[(*len)++] = '/';
    memcpy(out + *len, comp, comp_len);
    *len += comp_len;
    out[*len] = '\0';
    return 0;
}

/* Removes the last component of out (length *len). */
static void cl_path_pop(char *out, size_t *len)
{
    while (*len > 0 && out[*len - 1] != '/')
        (*len)--;
    if (*len > 0)
        (*len)--;
    out[*len] = '\0';
}

int cl_path_normalize(const char *path, char *out, size_t cap)
{
    size_t len = 0;
    const char *p = path;

    ASSERT(cap >= 2);
    if (!path || !*path)
        return -EINVAL;
    out[0] = '\0';
    while (*p) {
        while (*p == '/')
            p++;
        size_t n = strcspn(p, "/");
        if (n == 0 || (n == 1 && p[0] == '.')) {
            p += n;
            continue;
        }
        if (n == 2 && p[0] == '.' && p[1] == '.') {
            cl_path_pop(out, &len);
        } else {
            int rc = cl_path_push(out, &len, cap, p, n);
            if (rc < 0)
                return rc;
        }
        p += n;
    }
    if (len == 0) {
        out[0] = '/';
        out[1] = '\0';
    }
    return 0;
}

int cl_path_next(const char *norm, size_t *pos, char name[WIRE_NAME_MAX + 1])
{
    const char *p = norm + *pos;

    while (*p == '/')
        p++;
    size_t n = strcspn(p, "/");
    if (n == 0)
        return 0;
    ASSERT(n <= WIRE_NAME_MAX);
    memcpy(name, p, n);
    name[n] = '\0';
    *pos = (size_t)(p + n - norm);
    return 1;
}

int cl_path_split(const char *norm, char *parent, size_t cap, char name[WIRE_NAME_MAX + 1])
{
    const char *slash = strrchr(norm, '/');
    size_t parent_len;

    ASSERT(norm[0] == '/');
    if (norm[1] == '\0')
        return -EINVAL;
    ASSERT(slash);
    size_t n = strlen(slash + 1);
    ASSERT(n > 0 && n <= WIRE_NAME_MAX);
    memcpy(name, slash + 1, n + 1);
    parent_len = slash == norm ? 1 : (size_t)(slash - norm);
    if (parent_len + 1 > cap)
        return -ENAMETOOLONG;
    memcpy(parent, norm, parent_len);
    parent[parent_len] = '\0';
    return 0;
}

int cl_path_basename(const char *path, char name[WIRE_NAME_MAX + 1])
{
    size_t end = strlen(path);

    while (end > 0 && path[end - 1] == '/')
        end--;
    size_t start = end;
    while (start > 0 && path[start - 1] != '/')
        start--;
    size_t n = end - start;
    if (n == 0 || (n == 1 && path[start] == '.') ||
        (n == 2 && path[start] == '.' && path[start + 1] == '.'))
        return -EINVAL;
    if (n > WIRE_NAME_MAX)
        return -ENAMETOOLONG;
    memcpy(name, path + start, n);
    name[n] = '\0';
    return 0;
}
