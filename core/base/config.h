/* berth.conf: the keys table, the loader (on inih) and the effective-config printer. */
#ifndef BERTH_CONFIG_H
#define BERTH_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct berr;

struct cfg_daemon {
	char *data_root;
	char *run_dir;
	char *log_level;
	char *network;
	char *apps_dir;
	char *compose_file;
	char *default_registry;
	char *auth_file;        /* berth login's credentials; NULL: <data-root>/auth.json */
	uint64_t layer_mount_idle; /* milliseconds */
};

struct cfg_registry {
	char *name;             /* "host:port" from the section header */
	char *username;
	char *password;
	char *ca_file;
	bool insecure;
	bool plain_http;        /* the registry speaks http only: no TLS is tried */
	char *mirror;
	uint64_t chunk_size;    /* bytes per PATCH of a chunked blob upload */
};

struct cfg_trust {
	char *name;             /* reference prefix from the section header */
	char *public_key;       /* one or more paths, '\n'-separated (CFG_PATH_LIST) */
	char *policy;
};

struct cfg_init {
	char *data_device;
	char *data_fstype;
	char *data_mount;
	char *data_options;     /* mount flags (noatime, ro, ...) and fs options, comma-separated */
	char *cgroup;           /* "auto", "v2" or "v1" */
	char *sysinit;          /* program run to completion before the data partition is mounted */
	char *hostname;
	char *watchdog_device;
	uint64_t watchdog_timeout; /* milliseconds */
	bool console_shell;
};

struct cfg_store {
	char *layer_format;     /* "auto", "squashfs" or "dir" */
	char *compression;      /* "zstd", "gzip" or "xz" */
	char *compression_level; /* "default", or 1-9 (gzip), 1-22 (zstd), 0-9 (xz) */
	char *convert_threads;  /* "auto", or 1-64 */
	uint64_t block_size;    /* bytes */
	bool keep_layer_blobs;
};

struct cfg_logs {
	uint64_t max_size;      /* bytes kept per container, both files together */
	bool persist;           /* on flash (<data-root>/logs) instead of RAM (<run-dir>/logs) */
};

struct berth_config {
	char *path;             /* file it was loaded from, NULL for defaults only */
	struct cfg_daemon daemon;
	struct cfg_init init;
	struct cfg_store store;
	struct cfg_logs logs;
	struct cfg_registry *registries;
	size_t n_registries;
	struct cfg_trust *trusts;
	size_t n_trusts;
};

enum cfg_type {
	CFG_STRING,
	CFG_PATH,     /* absolute path */
	CFG_BOOL,     /* yes/no, true/false, on/off, 1/0 */
	CFG_SIZE,     /* bytes, with k/m/g suffixes (1024-based) */
	CFG_DURATION, /* ms, s, m, h; stored as milliseconds */
	CFG_ENUM,     /* one of `choices`, separated by '|' */
	CFG_PATH_LIST, /* absolute paths; the key may be given once per path; kept '\n'-joined */
};

struct cfg_key {
	const char *section;    /* "daemon", "init", "store", "logs", "registry", "trust" */
	const char *key;
	enum cfg_type type;
	const char *def;        /* default as written in the file; NULL: unset */
	const char *choices;    /* CFG_ENUM only */
	/* Extra validation; returns NULL if fine, else a static message saying what is wrong. */
	const char *(*check)(const char *value);
	size_t offset;          /* into the section's struct */
	const char *desc;       /* one line, for `berth config --defaults` and the docs */
};

extern const struct cfg_key cfg_keys[];
extern const size_t cfg_n_keys;

/* Fill *cfg with the defaults. */
int config_defaults(struct berth_config *cfg, struct berr **err);

/* Load `path` over the defaults. If `must_exist` is false, a missing file just leaves the
 * defaults. Errors name `path:line` and have exit status EXIT_USAGE; every error in the
 * file is reported, one per line. On failure *cfg is left empty (freed). */
int config_load(struct berth_config *cfg, const char *path, bool must_exist, struct berr **err);

/* Parse config text held in memory (for tests and the fuzzer); `name` is used in messages. */
int config_load_buffer(struct berth_config *cfg, const char *name, const char *text, size_t len,
		       struct berr **err);

void config_free(struct berth_config *cfg);

/* Print the effective configuration as a berth.conf. */
void config_print(const struct berth_config *cfg, FILE *out);
/* Print every key with its default and description, as a commented berth.conf. */
void config_print_defaults(FILE *out);

const struct cfg_registry *config_find_registry(const struct berth_config *cfg, const char *host);

/* Value parsers, shared with the CLI (`-m 512m`, `--stop-timeout 10s`). Return -1 if invalid. */
int parse_bool(const char *s, bool *out);
int parse_size(const char *s, uint64_t *out);
int parse_duration_ms(const char *s, uint64_t *out);
/* Docker's and compose's durations (Go's form): 30s, 1m30s, 1.5s, 500ms; milliseconds out. */
int parse_duration_go_ms(const char *s, uint64_t *out);

#endif
