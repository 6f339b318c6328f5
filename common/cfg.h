/* cfg: the one configuration format for every daemon and tool — lines of "key = value",
 * '#' comments, blank lines ignored — and the one table of keys, each with its type, default
 * and meaning (docs/OPERATIONS.md lists the same table; a unit test keeps them in step).
 * Values are validated when set; later sets override earlier ones (file, then -o flags). */
#ifndef DFS_CFG_H
#define DFS_CFG_H

#include <stddef.h>
#include <stdint.h>

enum cfg_type { CFG_STR, CFG_U64, CFG_SIZE /* bytes, with optional K/M/G/T suffix */ };

/* X(enum name, key, type, default, description) */
#define CFG_KEYS(X)                                                                                \
    X(CFG_CLUSTER_ID, "cluster.id", CFG_STR, "dfs", "cluster id; peers with another are refused") \
    X(CFG_LOG_LEVEL, "log.level", CFG_STR, "info", "error, warn, info or debug")                   \
    X(CFG_NN_ADDR, "nn.addr", CFG_STR, "127.0.0.1:9000", "namenode address clients dial")          \
    X(CFG_NN_LISTEN, "nn.listen", CFG_STR, "127.0.0.1:9000", "namenode listen address")            \
    X(CFG_NN_DIR, "nn.dir", CFG_STR, "/var/lib/dfs/nn", "namenode edit log and checkpoints")       \
    X(CFG_BLOCK_SIZE, "dfs.block_size", CFG_SIZE, "64M", "default block size of new files")        \
    X(CFG_REPLICATION, "dfs.replication", CFG_U64, "3", "default replica count of new files")      \
    X(CFG_HEARTBEAT_MS, "dfs.heartbeat_ms", CFG_U64, "3000", "datanode heartbeat interval")        \
    X(CFG_DN_DEAD_MS, "nn.dn_dead_ms", CFG_U64, "30000", "heartbeat silence before dead")          \
    X(CFG_REPL_INTERVAL_MS, "nn.replication_interval_ms", CFG_U64, "1000",                          \
      "replication monitor period")                                                                \
    X(CFG_REPL_TIMEOUT_MS, "nn.replication_timeout_ms", CFG_U64, "300000",                         \
      "a replica copy not reported by then is ordered again")                                      \
    X(CFG_REPL_STREAMS, "nn.replication_streams", CFG_U64, "2",                                    \
      "replica copies in flight per source datanode")                                              \
    X(CFG_CHECKPOINT_OPS, "nn.checkpoint_ops", CFG_U64, "100000", "log entries per checkpoint")    \
    X(CFG_CHECKPOINT_SECS, "nn.checkpoint_secs", CFG_U64, "3600", "seconds between checkpoints")   \
    X(CFG_DN_LISTEN, "dn.listen", CFG_STR, "127.0.0.1:9100", "datanode listen address")            \
    X(CFG_DN_ADVERTISE, "dn.advertise", CFG_STR, "", "host peers dial; empty: the listen host")    \
    X(CFG_DN_DIRS, "dn.dirs", CFG_STR, "/var/lib/dfs/dn", "datanode data directory")               \
    X(CFG_DN_CAPACITY, "dn.capacity", CFG_SIZE, "0", "capacity to report; 0: the disk's size")     \
    X(CFG_DN_REPORT_SECS, "dn.report_secs", CFG_U64, "3600", "seconds between full reports")       \
    X(CFG_CLIENT_TIMEOUT_MS, "client.timeout_ms", CFG_U64, "30000", "client RPC timeout")

enum cfg_key {
#define CFG_ENUM(name, key, type, def, desc) name,
    CFG_KEYS(CFG_ENUM)
#undef CFG_ENUM
    CFG_KEY_COUNT
};

struct cfg {
    char *values[CFG_KEY_COUNT]; /* owned; always a valid string for the key's type */
};

struct cfg_key_info {
    const char *key;
    enum cfg_type type;
    const char *def;
    const char *desc;
};

const struct cfg_key_info *cfg_key_info(enum cfg_key k);
/* Sets every key to its default. */
void cfg_init(struct cfg *c);
void cfg_fini(struct cfg *c);
/* Sets one "key=value" (spaces around '=' allowed). Errors: -ENOENT unknown key, -EINVAL bad
 * value; a message is written to err (errlen bytes). */
int cfg_set(struct cfg *c, const char *kv, char *err, size_t errlen);
/* Loads a file; errors carry "path:line: ..." in err. -errno if the file cannot be read. */
int cfg_load_file(struct cfg *c, const char *path, char *err, size_t errlen);
const char *cfg_str(const struct cfg *c, enum cfg_key k);
uint64_t cfg_u64(const struct cfg *c, enum cfg_key k);
/* Parses "123", "64K", "64M", "1G", "2T". 0 or -EINVAL. */
int cfg_parse_size(const char *s, uint64_t *out);
/* Splits "host:port" (or "[v6]:port"). 0 or -EINVAL. */
int cfg_parse_hostport(const char *s, char *host, size_t host_cap, uint16_t *port);

#endif
