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

int cfg_parse_size(const char *s, uint64_t *out)
{
    char *end;
    uint64_t mult = 1;

    if (!isdigit((unsigned char)s[0]))
        return -EINVAL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno)
        return -EINVAL;
    switch (toupper((unsigned char)*end)) {
    case 'T': mult <<= 10; /* fall through */
    case 'G': mult <<= 10; /* fall through */
    case 'M': mult <<= 10; /* fall through */
    case 'K': mult <<= 10; end++; break;
    case '\0': break;
    default: return -EINVAL;
    }
    if (*end == 'B' || *end == 'b')
        end++;
    if (*end != '\0' || (v && mult > UINT64_MAX / v))
        return -EINVAL;
    *out = v * mult;
    return 0;
}

int cfg_parse_hostport(const char *s, char *host, size_t host_cap, uint16_t *port)
{
    const char *colon = strrchr(s, ':');
    const char *h = s;
    size_t hlen;
    char *end;

    if (!colon || colon == s)
        return -EINVAL;
    hlen = (size_t)(colon - s);
    if (s[0] == '[' && hlen >= 2 && colon[-1] == ']') {
        h = s + 1;
        hlen -= 2;
    }
    errno = 0;
    unsigned long p = strtoul(colon + 1, &end, 10);
    if (errno || *end || colon[1] == '\0' || p > 65535 || hlen == 0 || hlen + 1 > host_cap)
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
    case CFG_U64:
        if (!isdigit((unsigned char)v[0]) || strspn(v, "0123456789") != strlen(v))
            return -EINVAL;
        return 0;
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
