#include "cl_fmt.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "panic.h"

void cl_fmt_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    char small[256];

    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    ASSERT(n >= 0);
    if ((size_t)n < sizeof(small)) {
        buf_put(b, small, (size_t)n);
        return;
    }
    uint8_t *p = buf_extend(b, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf((char *)p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len--; /* drop the NUL */
}

static char cl_fmt_type_char(uint32_t mode)
{
    switch (mode & S_IFMT) {
    case S_IFDIR:
        return 'd';
    case S_IFLNK:
        return 'l';
    case S_IFCHR:
        return 'c';
    case S_IFBLK:
        return 'b';
    case S_IFIFO:
        return 'p';
    case S_IFSOCK:
        return 's';
    default:
        return '-';
    }
}

/* The execute slot of one class with its special bit (setuid/setgid: s/S, sticky: t/T). */
static char cl_fmt_exec_char(uint32_t mode, uint32_t x_bit, uint32_t special, char on)
{
    if (mode & special)
        return (mode & x_bit) ? on : (char)(on - 'a' + 'A');
    return (mode & x_bit) ? 'x' : '-';
}

void cl_fmt_mode(uint32_t mode, char out[11])
{
    out[0] = cl_fmt_type_char(mode);
    out[1] = (mode & S_IRUSR) ? 'r' : '-';
    out[2] = (mode & S_IWUSR) ? 'w' : '-';
    out[3] = cl_fmt_exec_char(mode, S_IXUSR, S_ISUID, 's');
    out[4] = (mode & S_IRGRP) ? 'r' : '-';
    out[5] = (mode & S_IWGRP) ? 'w' : '-';
    out[6] = cl_fmt_exec_char(mode, S_IXGRP, S_ISGID, 's');
    out[7] = (mode & S_IROTH) ? 'r' : '-';
    out[8] = (mode & S_IWOTH) ? 'w' : '-';
    out[9] = cl_fmt_exec_char(mode, S_IXOTH, S_ISVTX, 't');
    out[10] = '\0';
}

void cl_fmt_human(uint64_t bytes, char *out, size_t cap)
{
    static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
    double v = (double)bytes;
    unsigned u = 0;

    if (bytes < 1024) {
        snprintf(out, cap, "%llu B", (unsigned long long)bytes);
        return;
    }
    while (v >= 1024.0 && u + 1 < sizeof(units) / sizeof(units[0])) {
        v /= 1024.0;
        u++;
    }
    snprintf(out, cap, "%.1f %s", v, units[u]);
}

void cl_fmt_json_str(struct buf *b, const char *p, size_t len)
{
    buf_put_u8(b, '"');
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)p[i];
        const char *esc = NULL;
        switch (ch) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\b': esc = "\\b"; break;
        case '\f': esc = "\\f"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        default: break;
        }
        if (esc)
            buf_put(b, esc, strlen(esc));
        else if (ch < 0x20 || ch == 0x7f)
            cl_fmt_printf(b, "\\u%04x", ch);
        else
            buf_put_u8(b, ch);
    }
    buf_put_u8(b, '"');
}

void cl_fmt_ls_long(struct buf *b, const struct wire_attr *a, const struct tm *mtime,
                    const char *name, size_t name_len)
{
    char mode[11], date[32];

    cl_fmt_mode(a->mode, mode);
    if (strftime(date, sizeof(date), "%Y-%m-%d %H:%M", mtime) == 0)
        snprintf(date, sizeof(date), "?");
    cl_fmt_printf(b, "%s %3u %5u %5u %12llu %s %.*s\n", mode, a->nlink, a->uid, a->gid,
                  (unsigned long long)a->size, date, (int)name_len, name);
}

void cl_fmt_stat(struct buf *b, const char *path, const struct wire_attr *a)
{
    char mode[11];

    cl_fmt_mode(a->mode, mode);
    cl_fmt_printf(b, "path: %s\n", path);
    cl_fmt_printf(b, "type: %s\n", S_ISDIR(a->mode) ? "directory" : "file");
    cl_fmt_printf(b, "inode: %llu\n", (unsigned long long)a->ino);
    cl_fmt_printf(b, "mode: %04o (%s)\n", a->mode & 07777, mode);
    cl_fmt_printf(b, "nlink: %u\nuid: %u\ngid: %u\n", a->nlink, a->uid, a->gid);
    cl_fmt_printf(b, "size: %llu\n", (unsigned long long)a->size);
    cl_fmt_printf(b, "block_size: %llu\n", (unsigned long long)a->block_size);
    cl_fmt_printf(b, "replication: %u\n", a->replication);
    cl_fmt_printf(b, "atime_ms: %llu\nmtime_ms: %llu\nctime_ms: %llu\n",
                  (unsigned long long)a->atime_ms, (unsigned long long)a->mtime_ms,
                  (unsigned long long)a->ctime_ms);
    cl_fmt_printf(b, "open_for_write: %s\n", a->is_open ? "yes" : "no");
}

static void cl_fmt_bytes_line(struct buf *b, const char *label, uint64_t v)
{
    char h[32];

    cl_fmt_human(v, h, sizeof(h));
    cl_fmt_printf(b, "%-22s %llu (%s)\n", label, (unsigned long long)v, h);
}

static void cl_fmt_counts(const struct wire_nn_report_ok *rep, uint32_t *live, uint32_t *dead)
{
    struct wire_nn_report_ok it = *rep; /* iterate a copy: the caller's cursor stays put */

    *live = *dead = 0;
    for (uint32_t i = 0; i < it.count; i++) {
        struct wire_dn_row row;
        wire_nn_report_ok_next(&it, &row);
        if (row.state == WIRE_DN_LIVE)
            (*live)++;
        else
            (*dead)++;
    }
}

static const char *cl_fmt_state(uint8_t state)
{
    return state == WIRE_DN_LIVE ? "live" : state == WIRE_DN_DEAD ? "dead" : "unknown";
}

static void cl_fmt_row_text(struct buf *b, const struct wire_dn_row *row)
{
    cl_fmt_printf(b, "\nNode: %.*s\n", (int)row->addr.node_id.len, row->addr.node_id.p);
    cl_fmt_printf(b, "%-22s %.*s:%u\n", "Address:", (int)row->addr.host.len, row->addr.host.p,
                  row->addr.port);
    cl_fmt_printf(b, "%-22s %s\n", "State:", cl_fmt_state(row->state));
    cl_fmt_bytes_line(b, "Capacity:", row->capacity);
    cl_fmt_bytes_line(b, "Used:", row->used);
    cl_fmt_bytes_line(b, "Remaining:", row->remaining);
    cl_fmt_printf(b, "%-22s %llu\n", "Blocks:", (unsigned long long)row->blocks);
    cl_fmt_printf(b, "%-22s %llu s ago\n", "Last heartbeat:",
                  (unsigned long long)(row->last_heartbeat_age_ms / 1000));
}

void cl_fmt_report_text(struct buf *b, const struct wire_nn_report_ok *rep)
{
    struct wire_nn_report_ok it = *rep;
    uint32_t live, dead;

    cl_fmt_counts(rep, &live, &dead);
    cl_fmt_bytes_line(b, "Configured capacity:", rep->capacity);
    cl_fmt_bytes_line(b, "DFS used:", rep->used);
    cl_fmt_bytes_line(b, "DFS remaining:", rep->remaining);
    cl_fmt_printf(b, "%-22s %llu\n", "Files:", (unsigned long long)rep->files);
    cl_fmt_printf(b, "%-22s %llu\n", "Directories:", (unsigned long long)rep->dirs);
    cl_fmt_printf(b, "%-22s %llu\n", "Blocks:", (unsigned long long)rep->blocks);
    cl_fmt_printf(b, "%-22s %llu\n", "Under-replicated:",
                  (unsigned long long)rep->under_replicated);
    cl_fmt_printf(b, "%-22s %u\n%-22s %u\n", "Live datanodes:", live, "Dead datanodes:", dead);
    for (uint32_t i = 0; i < it.count; i++) {
        struct wire_dn_row row;
        wire_nn_report_ok_next(&it, &row);
        cl_fmt_row_text(b, &row);
    }
}

static void cl_fmt_row_json(struct buf *b, const struct wire_dn_row *row)
{
    char addr[WIRE_HOST_MAX + 16];
    int n = snprintf(addr, sizeof(addr), "%.*s:%u", (int)row->addr.host.len, row->addr.host.p,
                     row->addr.port);

    ASSERT(n > 0 && (size_t)n < sizeof(addr));
    cl_fmt_printf(b, "{\"node_id\":");
    cl_fmt_json_str(b, row->addr.node_id.p, row->addr.node_id.len);
    cl_fmt_printf(b, ",\"address\":");
    cl_fmt_json_str(b, addr, (size_t)n);
    cl_fmt_printf(b, ",\"state\":\"%s\",\"capacity\":%llu,\"used\":%llu,\"remaining\":%llu,"
                     "\"blocks\":%llu,\"last_heartbeat_s\":%llu}",
                  cl_fmt_state(row->state), (unsigned long long)row->capacity,
                  (unsigned long long)row->used, (unsigned long long)row->remaining,
                  (unsigned long long)row->blocks,
                  (unsigned long long)(row->last_heartbeat_age_ms / 1000));
}

void cl_fmt_report_json(struct buf *b, const struct wire_nn_report_ok *rep)
{
    struct wire_nn_report_ok it = *rep;
    uint32_t live, dead;

    cl_fmt_counts(rep, &live, &dead);
    cl_fmt_printf(b, "{\"capacity\":%llu,\"used\":%llu,\"remaining\":%llu,\"files\":%llu,"
                     "\"dirs\":%llu,\"blocks\":%llu,\"under_replicated\":%llu,"
                     "\"live\":%u,\"dead\":%u,\"datanodes\":[",
                  (unsigned long long)rep->capacity, (unsigned long long)rep->used,
                  (unsigned long long)rep->remaining, (unsigned long long)rep->files,
                  (unsigned long long)rep->dirs, (unsigned long long)rep->blocks,
                  (unsigned long long)rep->under_replicated, live, dead);
    for (uint32_t i = 0; i < it.count; i++) {
        struct wire_dn_row row;
        wire_nn_report_ok_next(&it, &row);
        if (i > 0)
            buf_put_u8(b, ',');
        cl_fmt_row_json(b, &row);
    }
    cl_fmt_printf(b, "]}\n");
}
