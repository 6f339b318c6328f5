/* cl_fmt: pure text formatting for dfs and dfsadmin — ls -l mode strings, human-readable
 * sizes, JSON string escaping, stat and ls lines, and the datanode report in text and JSON.
 * Everything appends to a caller-owned struct buf (the caller writes it out), so tests can
 * compare output byte for byte. Times come in as a struct tm (the caller picks the zone). */
#ifndef DFS_CL_FMT_H
#define DFS_CL_FMT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "buf.h"
#include "wire.h"

/* printf into b. */
void cl_fmt_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "drwxr-xr-x" (10 characters + NUL), with s/S, t/T for setuid, setgid and sticky. */
void cl_fmt_mode(uint32_t mode, char out[11]);
/* "512 B", "1.5 KiB", "64.0 MiB", ... into out (cap bytes). */
void cl_fmt_human(uint64_t bytes, char *out, size_t cap);
/* A JSON string literal (with quotes) of len bytes at p: escapes '"', '\\' and every control
 * character; other bytes (UTF-8) pass through. */
void cl_fmt_json_str(struct buf *b, const char *p, size_t len);
/* One ls -l line: mode nlink uid gid size date name. */
void cl_fmt_ls_long(struct buf *b, const struct wire_attr *a, const struct tm *mtime,
                    const char *name, size_t name_len);
/* Every attr field, one "key: value" per line. */
void cl_fmt_stat(struct buf *b, const char *path, const struct wire_attr *a);
/* dfsadmin report: totals, then one section per datanode. */
void cl_fmt_report_text(struct buf *b, const struct wire_nn_report_ok *rep);
void cl_fmt_report_json(struct buf *b, const struct wire_nn_report_ok *rep);

#endif
