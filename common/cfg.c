#include "cfg.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "panic.h"
#include "xmalloc.h"

static const struct cfg_key_info cfg_table[CFG_KEY_COUNT] = {
#define CFG_INFO(name, key, type, def, desc) [name] = { key, type, def, desc },
    CFG_KEYS(CFG_INFO)
#undef CFG_INFO
};

const struct cfg_key_info *cfg_key_info(enum cfg_key k)
{
    ASSERT(k < CFG_KEY_COUNT);
    return &cfg_table[k];
}

void cfg_init(struct cfg *c)
{
    for (int i = 0; i < CFG_KEY_COUNT; i++)
        c->values[i] = xstrdup(cfg_table[i].def);
}

void cfg_fini(struct cfg *c)
{
    for (int i = 0; i < CFG_KEY_COUNT; i++) {
        free(c->values[i]);
        c->values[i] = NULL;
    }
}

/* A decimal u64 with no sign, spaces or overflow; *end points after the digits. */
static int parse_u64_prefix(const char *s, uint64_t *out, char **end)
{
    if (!isdigit((unsigned char)s[0]))
        return -EINVAL;
    errno = 0;
    unsigned long long v = strtoull(s, end, 10);
    if (errno)
        return -EINVAL;
    *out = v;
    return 0;
}

static int size_suffix_shift(char c)
{
    switch (toupper((unsigned char)c)) {
    case 'K': return 10;
    case 'M': return 20;
    case 'G': return 30;
    case 'T': return 40;
    default: return -1;
    }
}

int cfg_parse_size(const char *s, uint64_t *out)
{
    char *end;
    uint64_t v;
    int shift = 0;

    if (parse_u64_prefix(s, &v, &end) < 0)
        return -EINVAL;
    if (*end != '\0') {
        shift = size_suffix_shift(*end++);
        if (shift < 0)
            return -EINVAL;
        if (*end == 'B' || *end == 'b')
            end++;
    }
    if (*end != '\0' || (v && (v << shift) >> shift != v))
        return -EINVAL;
    *out = v << shift;
    return 0;
}

int cfg_parse_hostport(const char *s, char *host, size_t host_cap, uint16_t *port)
{
    const char *colon = strrchr(s, ':');
    const char *h = s;
    size_t hlen;
    uint64_t p;
    char *end;

    if (!colon || colon == s)
        return -EINVAL;
    hlen = (size_t)(colon - s);
    if (s[0] == '[') {
        /* "[v6]:port": the bracket must close right before the port's colon. */
        if (hlen < 3 || colon[-1] != ']')
            return -EINVAL;
        h = s + 1;
        hlen -= 2;
    } else if (memchr(s, ':', hlen) || memchr(s, ']', hlen)) {
        return -EINVAL; /* a bare IPv6 address needs brackets */
    }
    if (parse_u64_prefix(colon + 1, &p, &end) < 0 || *end || p > 65535 || hlen + 1 > host_cap)
        return -EINVAL;
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    *port = (uint16_t)p;
    return 0;
}

static int cfg_validate(enum cfg_type type, const char *v)
{
    uint64_t n;

    switch (type) {
    case CFG_STR:
        return 0;
    case CFG_U64: {
        char *end;
        return parse_u64_prefix(v, &n, &end) < 0 || *end ? -EINVAL : 0;
    }
    case CFG_SIZE:
        return cfg_parse_size(v, &n);
    }
    PANIC("bad cfg type %d", (int)type);
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

int cfg_set(struct cfg *c, const char *kv, char *err, size_t errlen)
{
    char line[1024];

    if (strlen(kv) >= sizeof(line)) {
        snprintf(err, errlen, "line too long");
        return -EINVAL;
    }
    memcpy(line, kv, strlen(kv) + 1);
    char *eq = strchr(line, '=');
    if (!eq) {
        snprintf(err, errlen, "expected key = value");
        return -EINVAL;
    }
    *eq = '\0';
    char *key = trim(line), *val = trim(eq + 1);
    for (int i = 0; i < CFG_KEY_COUNT; i++) {
        if (strcmp(key, cfg_table[i].key) != 0)
            continue;
        if (cfg_validate(cfg_table[i].type, val) < 0) {
            snprintf(err, errlen, "bad value for %s: '%s'", key, val);
            return -EINVAL;
        }
        free(c->values[i]);
        c->values[i] = xstrdup(val);
        return 0;
    }
    snprintf(err, errlen, "unknown key '%s'", key);
    return -ENOENT;
}

int cfg_load_file(struct cfg *c, const char *path, char *err, size_t errlen)
{
    char line[1024], msg[256];
    int lineno = 0, rc = 0;
    FILE *f = fopen(path, "r");

    if (!f) {
        rc = -errno;
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return rc;
    }
    while (fgets(line, sizeof(line), f)) {
        lineno++;
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *s = trim(line);
        if (*s == '\0')
            continue;
        rc = cfg_set(c, s, msg, sizeof(msg));
        if (rc < 0) {
            snprintf(err, errlen, "%s:%d: %s", path, lineno, msg);
            break;
        }
    }
    fclose(f);
    return rc;
}

const char *cfg_str(const struct cfg *c, enum cfg_key k)
{
    ASSERT(k < CFG_KEY_COUNT);
    return c->values[k];
}

uint64_t cfg_u64(const struct cfg *c, enum cfg_key k)
{
    uint64_t v = 0;

    ASSERT(k < CFG_KEY_COUNT);
    ASSERT(cfg_table[k].type != CFG_STR);
    if (cfg_table[k].type == CFG_SIZE) {
        int rc = cfg_parse_size(c->values[k], &v);
        ASSERT(rc == 0); /* validated when set */
    } else
        v = strtoull(c->values[k], NULL, 10);
    return v;
}
