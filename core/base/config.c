/* berth.conf loader. One table of keys feeds the parser, the defaults dump and the docs.
 * inih does the INI syntax; our line reader in front of it counts lines (so every error names
 * file:line, whatever options inih was built with), rejects over-long lines, and validates
 * section headers even when a section has no keys. */
#include "config.h"
#include "err.h"
#include "fs.h"
#include "inilines.h"
#include "util.h"

#include <ctype.h>
#include <stdbool.h>
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define CONFIG_MAX_FILE (1u << 20)
#define CONFIG_MAX_LINE INIL_MAX_LINE
#define CONFIG_MAX_NAMED 64   /* registry or trust sections */
#define CONFIG_MAX_ERRORS 20

enum section_kind { SEC_NONE = -1, SEC_DAEMON, SEC_INIT, SEC_STORE, SEC_LOGS, SEC_REGISTRY, SEC_TRUST,
		   SEC_COUNT };

static const char *const section_names[SEC_COUNT] = { "daemon", "init", "store", "logs", "registry",
						      "trust" };

static const char *check_registry_host(const char *v);
static const char *check_hostname(const char *v);
static const char *check_not_empty(const char *v);
static const char *check_block_size(const char *v);
static const char *check_default_registry(const char *v);
static const char *check_chunk_size(const char *v);
static const char *check_log_size(const char *v);
static const char *check_compression_level(const char *v);
static const char *check_convert_threads(const char *v);
static const char *check_layer_mount_idle(const char *v);

#define D(f) offsetof(struct cfg_daemon, f)
#define I(f) offsetof(struct cfg_init, f)
#define S(f) offsetof(struct cfg_store, f)
#define L(f) offsetof(struct cfg_logs, f)
#define R(f) offsetof(struct cfg_registry, f)
#define T(f) offsetof(struct cfg_trust, f)

const struct cfg_key cfg_keys[] = {
	{ "daemon", "data-root", CFG_PATH, "/var/lib/berth", NULL, NULL, D(data_root),
	  "Where images, containers and volumes live (the data partition on a board)." },
	{ "daemon", "run-dir", CFG_PATH, "/run/berth", NULL, NULL, D(run_dir),
	  "Runtime state, control socket and logs; keep it in RAM." },
	{ "daemon", "log-level", CFG_ENUM, "warn", "error|warn|info|debug", NULL, D(log_level),
	  "How much berth itself logs." },
	{ "daemon", "network", CFG_ENUM, "host", "host|none", NULL, D(network),
	  "Default network for containers." },
	{ "daemon", "apps-dir", CFG_PATH, "/etc/berth/apps", NULL, NULL, D(apps_dir),
	  "Directory of app files (*.conf, one service each)." },
	{ "daemon", "compose-file", CFG_PATH, "/etc/berth/compose.yaml", NULL, NULL, D(compose_file),
	  "Compose file with the apps, used if it exists." },
	{ "daemon", "default-registry", CFG_STRING, "docker.io", NULL, check_default_registry,
	  D(default_registry), "Registry for image names without a host (`nginx`)." },
	{ "daemon", "auth-file", CFG_PATH, NULL, NULL, NULL, D(auth_file),
	  "Credentials saved by `berth login` (default <data-root>/auth.json)." },
	{ "daemon", "layer-mount-idle", CFG_DURATION, "60s", NULL, check_layer_mount_idle,
	  D(layer_mount_idle),
	  "How long the supervisor keeps a layer mounted (a loop device each) after the last "
	  "container on it stopped; the next start on it is faster while it stays." },

	{ "init", "data-device", CFG_STRING, NULL, NULL, check_not_empty, I(data_device),
	  "Block device of the data partition, mounted when berth is PID 1." },
	{ "init", "data-fstype", CFG_STRING, "ext4", NULL, check_not_empty, I(data_fstype),
	  "File system type of the data partition." },
	{ "init", "data-mount", CFG_PATH, "/data", NULL, NULL, I(data_mount),
	  "Where PID 1 mounts the data partition." },
	{ "init", "data-options", CFG_STRING, "noatime", NULL, check_not_empty, I(data_options),
	  "Mount options of the data partition (flags such as noatime, and fs options)." },
	{ "init", "cgroup", CFG_ENUM, "auto", "auto|v2|v1", NULL, I(cgroup),
	  "cgroup hierarchy PID 1 mounts; auto: v2 when the kernel has it." },
	{ "init", "sysinit", CFG_PATH, NULL, NULL, NULL, I(sysinit),
	  "Program run to completion at boot before the data partition (modules, network)." },
	{ "init", "hostname", CFG_STRING, NULL, NULL, check_hostname, I(hostname),
	  "Hostname set at boot." },
	{ "init", "watchdog-device", CFG_PATH, NULL, NULL, NULL, I(watchdog_device),
	  "Hardware watchdog that PID 1 keeps fed, e.g. /dev/watchdog0." },
	{ "init", "watchdog-timeout", CFG_DURATION, "30s", NULL, NULL, I(watchdog_timeout),
	  "Watchdog timeout asked of the hardware." },
	{ "init", "console-shell", CFG_BOOL, "no", NULL, NULL, I(console_shell),
	  "Offer a shell on the serial console." },

	{ "store", "layer-format", CFG_ENUM, "auto", "auto|squashfs|dir", NULL, S(layer_format),
	  "squashfs files, or dirs (kernels without squashfs)." },
	{ "store", "compression", CFG_ENUM, "zstd", "zstd|gzip|xz", NULL, S(compression),
	  "squashfs compressor; gzip for kernels before 4.14; xz: smaller, converts slower." },
	{ "store", "compression-level", CFG_STRING, "default", NULL, check_compression_level,
	  S(compression_level),
	  "default: zstd 6, gzip 9, xz 6; 1-22 for zstd, 1-9 for gzip, 0-9 for xz (7-9 write "
	  "what 6 does); lower converts faster, files bigger." },
	{ "store", "convert-threads", CFG_STRING, "1", NULL, check_convert_threads,
	  S(convert_threads),
	  "Threads compressing a layer's blocks: 1-64, or auto (one per CPU); each one more "
	  "takes about 2.5 MB of RAM during a pull or load." },
	{ "store", "block-size", CFG_SIZE, "128K", NULL, check_block_size, S(block_size),
	  "squashfs block size: a power of two from 4K to 1M." },
	{ "store", "keep-layer-blobs", CFG_BOOL, "yes", NULL, NULL, S(keep_layer_blobs),
	  "Keep layer blobs after conversion (save, push need them)." },

	{ "logs", "max-size", CFG_SIZE, "1M", NULL, check_log_size, L(max_size),
	  "Container output kept per container (two files, each at most half)." },
	{ "logs", "persist", CFG_BOOL, "no", NULL, NULL, L(persist),
	  "Keep logs on flash (data-root/logs), not in RAM (run-dir/logs)." },

	{ "registry", "username", CFG_STRING, NULL, NULL, NULL, R(username),
	  "User name for this registry." },
	{ "registry", "password", CFG_STRING, NULL, NULL, NULL, R(password),
	  "Password or token for this registry." },
	{ "registry", "ca-file", CFG_PATH, NULL, NULL, NULL, R(ca_file),
	  "PEM file of CAs trusted for this registry, instead of the system bundle." },
	{ "registry", "insecure", CFG_BOOL, "no", NULL, NULL, R(insecure),
	  "Skip TLS verification, or allow plain http (never on production devices)." },
	{ "registry", "plain-http", CFG_BOOL, "no", NULL, NULL, R(plain_http),
	  "Talk plain http to this registry (tests, a registry on the board itself)." },
	{ "registry", "mirror", CFG_STRING, NULL, NULL, check_registry_host, R(mirror),
	  "Pull from this host:port instead." },
	{ "registry", "chunk-size", CFG_SIZE, "16M", NULL, check_chunk_size, R(chunk_size),
	  "Push blobs bigger than this in PATCH chunks of this size." },

	{ "trust", "public-key", CFG_PATH_LIST, NULL, NULL, NULL, T(public_key),
	  "PEM public key file; give one line per key: any of them may verify." },
	{ "trust", "policy", CFG_ENUM, "require", "require|warn|off", NULL, T(policy),
	  "What an unsigned or badly signed image gets." },
};
const size_t cfg_n_keys = ARRAY_SIZE(cfg_keys);

/* ---- value parsers ---- */

int parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -1;
}

/* A decimal number followed by a unit from `units` (each with its multiplier). */
struct unit {
	const char *name;
	uint64_t mult;
};

static int parse_with_units(const char *s, const struct unit *units, size_t n, uint64_t bare_mult,
			    uint64_t *out)
{
	uint64_t v = 0, mult = bare_mult;
	const char *p = s;

	if (!isdigit((unsigned char) *p))
		return -1;
	for (; isdigit((unsigned char) *p); p++) {
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t) (*p - '0');
	}
	if (*p != '\0') {
		size_t i;
		for (i = 0; i < n; i++)
			if (strcasecmp(p, units[i].name) == 0)
				break;
		if (i == n)
			return -1;
		mult = units[i].mult;
	} else if (mult == 0 && v != 0) {
		return -1; /* a unit is required, except for 0 */
	}
	if (mult && v > UINT64_MAX / mult)
		return -1;
	*out = v * mult;
	return 0;
}

int parse_size(const char *s, uint64_t *out)
{
	static const struct unit units[] = {
		{ "b", 1 },
		{ "k", 1ull << 10 }, { "kb", 1ull << 10 }, { "kib", 1ull << 10 },
		{ "m", 1ull << 20 }, { "mb", 1ull << 20 }, { "mib", 1ull << 20 },
		{ "g", 1ull << 30 }, { "gb", 1ull << 30 }, { "gib", 1ull << 30 },
		{ "t", 1ull << 40 }, { "tb", 1ull << 40 }, { "tib", 1ull << 40 },
	};
	return parse_with_units(s, units, ARRAY_SIZE(units), 1, out);
}

int parse_duration_ms(const char *s, uint64_t *out)
{
	static const struct unit units[] = {
		{ "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 },
	};
	return parse_with_units(s, units, ARRAY_SIZE(units), 0, out);
}

/* Go's time.ParseDuration, which Docker and compose use: one or more decimal numbers, each
 * with a unit (ns, us, ms, s, m, h), as in 1m30s, 1.5s or 500ms; "0" alone needs none. */
int parse_duration_go_ms(const char *s, uint64_t *out)
{
	static const struct unit units[] = {
		{ "ns", 1 }, { "us", 1000 }, { "\xc2\xb5s", 1000 }, { "ms", 1000000 },
		{ "s", 1000000000ull }, { "m", 60000000000ull }, { "h", 3600000000000ull },
	};
	const uint64_t max = UINT64_MAX / 2;
	uint64_t total = 0;
	const char *p = s;

	if (strcmp(s, "0") == 0) {
		*out = 0;
		return 0;
	}
	if (*p == '\0')
		return -1;
	while (*p) {
		uint64_t whole = 0, frac = 0, scale = 1, mult = 0;
		size_t ulen = 0, best = 0;
		bool digits = false;

		for (; isdigit((unsigned char) *p); p++, digits = true) {
			if (whole > (max - 9) / 10)
				return -1;
			whole = whole * 10 + (uint64_t) (*p - '0');
		}
		if (*p == '.')
			for (p++; isdigit((unsigned char) *p); p++, digits = true)
				if (scale < 1000000000000ull) { /* finer than 1e-12 is noise */
					frac = frac * 10 + (uint64_t) (*p - '0');
					scale *= 10;
				}
		if (!digits)
			return -1;
		/* The longest unit that matches ("ms" before "m"). */
		for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
			size_t l = strlen(units[i].name);
			if (strncmp(p, units[i].name, l) == 0 && l > ulen) {
				ulen = l;
				best = i;
			}
		}
		if (ulen == 0)
			return -1;
		mult = units[best].mult;
		p += ulen;
		if (whole > max / mult)
			return -1;
		whole *= mult;
		/* frac / scale of a unit, in ns; scale <= 1e12 and mult <= 3.6e12 would overflow
		 * the product, so divide first where the unit is large. */
		if (frac)
			whole += mult >= scale ? frac * (mult / scale) : frac / (scale / mult);
		if (whole > max - total)
			return -1;
		total += whole;
	}
	*out = total / 1000000;
	return 0;
}

/* ---- checks ---- */

static const char *check_not_empty(const char *v)
{
	return *v ? NULL : "must not be empty";
}

/* A registry name must look like a host to image references: `myreg/app` would otherwise read
 * back as a Docker Hub repository. */
static const char *check_default_registry(const char *v)
{
	const char *why = check_registry_host(v);

	if (why)
		return why;
	if (strchr(v, '.') == NULL && strchr(v, ':') == NULL && strcmp(v, "localhost") != 0)
		return "must hold a '.' or a ':port' (or be localhost), as image names need";
	return NULL;
}

static const char *check_block_size(const char *v)
{
	uint64_t n;

	if (parse_size(v, &n) < 0 || n < 4096 || n > (1u << 20) || (n & (n - 1)) != 0)
		return "must be a power of two from 4K to 1M";
	return NULL;
}

/* `v` is `word`, or a decimal number from lo to hi. */
static bool word_or_number(const char *v, const char *word, long lo, long hi)
{
	char *end;
	long n;

	if (strcmp(v, word) == 0)
		return true;
	n = strtol(v, &end, 10);
	return isdigit((unsigned char) *v) && *end == '\0' && n >= lo && n <= hi;
}

static const char *check_compression_level(const char *v)
{
	return word_or_number(v, "default", 0, 22) ? NULL :
	       "must be `default` or a number: 1-22 for zstd, 1-9 for gzip, 0-9 for xz";
}

static const char *check_convert_threads(const char *v)
{
	return word_or_number(v, "auto", 1, 64) ? NULL :
	       "must be `auto` (one per CPU) or a number from 1 to 64";
}

static const char *check_chunk_size(const char *v)
{
	uint64_t n;

	/* Below 64K a push makes too many requests; above 256M the chunk does not fit in RAM. */
	if (parse_size(v, &n) < 0 || n < (64u << 10) || n > (256u << 20))
		return "must be a size from 64K to 256M";
	return NULL;
}

static const char *check_log_size(const char *v)
{
	uint64_t n;

	if (parse_size(v, &n) < 0 || n < 8192)
		return "must be at least 8K";
	return NULL;
}

/* The supervisor adds it to a monotonic clock in ms: a day is plenty, and cannot overflow. */
static const char *check_layer_mount_idle(const char *v)
{
	uint64_t ms;

	if (parse_duration_ms(v, &ms) < 0 || ms > 24ull * 3600000)
		return "must be a duration from 0s to 24h, such as 60s or 5m";
	return NULL;
}

static const char *check_hostname(const char *v)
{
	size_t n = strlen(v);

	if (n == 0 || n > 64)
		return "must be 1 to 64 characters";
	for (const char *p = v; *p; p++)
		if (!isalnum((unsigned char) *p) && *p != '-' && *p != '.')
			return "may hold only letters, digits, '-' and '.'";
	if (v[0] == '-' || v[0] == '.')
		return "must start with a letter or digit";
	return NULL;
}

/* host[:port], as in image references: letters, digits, '-', '.', and an optional port. */
static const char *check_registry_host(const char *v)
{
	const char *colon = strrchr(v, ':');
	size_t hostlen = colon ? (size_t) (colon - v) : strlen(v);

	if (hostlen == 0 || hostlen > 253)
		return "must be a host name, optionally with :port";
	for (size_t i = 0; i < hostlen; i++)
		if (!isalnum((unsigned char) v[i]) && v[i] != '-' && v[i] != '.')
			return "must be a host name, optionally with :port";
	if (colon) {
		char *end;
		long port;
		errno = 0;
		port = strtol(colon + 1, &end, 10);
		if (colon[1] == '\0' || *end != '\0' || errno || port < 1 || port > 65535)
			return "port must be a number from 1 to 65535";
	}
	return NULL;
}

/* ---- storage ---- */

static void *section_base(struct berth_config *cfg, enum section_kind kind, size_t idx)
{
	switch (kind) {
	case SEC_DAEMON: return &cfg->daemon;
	case SEC_INIT: return &cfg->init;
	case SEC_STORE: return &cfg->store;
	case SEC_LOGS: return &cfg->logs;
	case SEC_REGISTRY: return &cfg->registries[idx];
	case SEC_TRUST: return &cfg->trusts[idx];
	default: return NULL;
	}
}

static const void *section_base_c(const struct berth_config *cfg, enum section_kind kind, size_t idx)
{
	return section_base((struct berth_config *) cfg, kind, idx);
}

static enum section_kind kind_of(const char *section)
{
	for (int i = 0; i < SEC_COUNT; i++)
		if (strcmp(section, section_names[i]) == 0)
			return (enum section_kind) i;
	return SEC_NONE;
}

/* Store `value` (already validated) into the field. Returns -1 on out-of-memory. */
static int store(void *base, const struct cfg_key *k, const char *value)
{
	char *field = (char *) base + k->offset;

	switch (k->type) {
	case CFG_BOOL:
		return parse_bool(value, (bool *) field);
	case CFG_SIZE:
		return parse_size(value, (uint64_t *) field);
	case CFG_DURATION:
		return parse_duration_ms(value, (uint64_t *) field);
	case CFG_PATH_LIST:
		if (*(char **) field != NULL) {
			char *joined;
			if (asprintf(&joined, "%s\n%s", *(char **) field, value) < 0)
				return -1;
			free(*(char **) field);
			*(char **) field = joined;
			return 0;
		}
		/* fall through */
	default: {
		char *dup = strdup(value);
		if (dup == NULL)
			return -1;
		free(*(char **) field);
		*(char **) field = dup;
		return 0;
	}
	}
}

/* NULL if `value` is acceptable for `k`, else a message. `buf` holds composed messages. */
static const char *validate(const struct cfg_key *k, const char *value, char *buf, size_t size)
{
	uint64_t u;
	bool b;

	if (strlen(value) > CONFIG_MAX_LINE)
		return "is too long";
	switch (k->type) {
	case CFG_PATH:
	case CFG_PATH_LIST:
		if (value[0] != '/')
			return "must be an absolute path";
		break;
	case CFG_BOOL:
		if (parse_bool(value, &b) < 0)
			return "must be yes or no";
		break;
	case CFG_SIZE:
		if (parse_size(value, &u) < 0)
			return "must be a size such as 512k, 16M or 1G";
		break;
	case CFG_DURATION:
		if (parse_duration_ms(value, &u) < 0)
			return "must be a duration such as 500ms, 10s, 5m or 1h";
		break;
	case CFG_ENUM: {
		const char *c = k->choices;
		size_t n = strlen(value);
		while (c && *c) {
			const char *bar = strchr(c, '|');
			size_t len = bar ? (size_t) (bar - c) : strlen(c);
			if (len == n && strncmp(c, value, n) == 0)
				return NULL;
			c = bar ? bar + 1 : NULL;
		}
		snprintf(buf, size, "must be one of: %s", k->choices);
		return buf;
	}
	case CFG_STRING:
		break;
	}
	return k->check ? k->check(value) : NULL;
}

static void free_section(void *base, enum section_kind kind)
{
	for (size_t i = 0; i < cfg_n_keys; i++) {
		const struct cfg_key *k = &cfg_keys[i];
		if (kind_of(k->section) != kind)
			continue;
		if (k->type == CFG_STRING || k->type == CFG_PATH || k->type == CFG_ENUM ||
		    k->type == CFG_PATH_LIST) {
			char **f = (char **) ((char *) base + k->offset);
			free(*f);
			*f = NULL;
		}
	}
}

static int apply_defaults(void *base, enum section_kind kind)
{
	for (size_t i = 0; i < cfg_n_keys; i++) {
		const struct cfg_key *k = &cfg_keys[i];
		if (kind_of(k->section) != kind || k->def == NULL)
			continue;
		if (store(base, k, k->def) < 0)
			return -1;
	}
	return 0;
}

void config_free(struct berth_config *cfg)
{
	free_section(&cfg->daemon, SEC_DAEMON);
	free_section(&cfg->init, SEC_INIT);
	free_section(&cfg->store, SEC_STORE);
	free_section(&cfg->logs, SEC_LOGS);
	for (size_t i = 0; i < cfg->n_registries; i++) {
		free_section(&cfg->registries[i], SEC_REGISTRY);
		free(cfg->registries[i].name);
	}
	for (size_t i = 0; i < cfg->n_trusts; i++) {
		free_section(&cfg->trusts[i], SEC_TRUST);
		free(cfg->trusts[i].name);
	}
	free(cfg->registries);
	free(cfg->trusts);
	free(cfg->path);
	memset(cfg, 0, sizeof(*cfg));
}

int config_defaults(struct berth_config *cfg, struct berr **err)
{
	memset(cfg, 0, sizeof(*cfg));
	if (apply_defaults(&cfg->daemon, SEC_DAEMON) < 0 || apply_defaults(&cfg->init, SEC_INIT) < 0 ||
	    apply_defaults(&cfg->store, SEC_STORE) < 0 || apply_defaults(&cfg->logs, SEC_LOGS) < 0) {
		config_free(cfg);
		return berr_make(err, ENOMEM, "config defaults");
	}
	return 0;
}

/* ---- loading ---- */

struct seen {
	enum section_kind kind;
	size_t idx;
	size_t key;
};

struct load_state {
	struct berth_config *cfg;
	const char *name;
	enum section_kind kind;  /* current section, SEC_NONE before any or after a bad header */
	size_t idx;              /* instance of a named section */
	bool bad_section;        /* the current header was bad and has been reported */
	bool oom;
	struct seen seen[128];
	size_t n_seen;
	char *errors;            /* "name:line: msg\n..." */
	struct inil rd;          /* the line reader: rd.line is the line inih is on */
	size_t n_errors;
};

static void add_error(struct load_state *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add_error(struct load_state *st, const char *fmt, ...)
{
	char msg[512], *joined = NULL;
	va_list ap;

	st->n_errors++;
	if (st->n_errors > CONFIG_MAX_ERRORS)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (st->n_errors == CONFIG_MAX_ERRORS)
		snprintf(msg, sizeof(msg), "too many errors; fix these first");
	if (asprintf(&joined, "%s%s%s:%d: %s", st->errors ? st->errors : "", st->errors ? "\n" : "",
		     st->name, st->rd.line, msg) < 0) {
		st->oom = true;
		return;
	}
	free(st->errors);
	st->errors = joined;
}

static const char *suggest_key(enum section_kind kind, const char *name)
{
	const char *best = NULL;
	size_t best_d = STR_SUGGEST_MAX + 1;

	for (size_t i = 0; i < cfg_n_keys; i++) {
		size_t d;
		if (kind_of(cfg_keys[i].section) != kind)
			continue;
		d = str_edit_distance(name, cfg_keys[i].key);
		if (d < best_d) {
			best_d = d;
			best = cfg_keys[i].key;
		}
	}
	return best;
}

static int named_instance(struct load_state *st, enum section_kind kind, const char *name)
{
	struct berth_config *cfg = st->cfg;
	size_t *n = kind == SEC_REGISTRY ? &cfg->n_registries : &cfg->n_trusts;
	size_t elem = kind == SEC_REGISTRY ? sizeof(struct cfg_registry) : sizeof(struct cfg_trust);
	void **arr = kind == SEC_REGISTRY ? (void **) &cfg->registries : (void **) &cfg->trusts;
	void *grown;
	char *dup;

	for (size_t i = 0; i < *n; i++) {
		const char *existing = kind == SEC_REGISTRY ? cfg->registries[i].name : cfg->trusts[i].name;
		if (strcmp(existing, name) == 0) {
			st->idx = i;
			return 0;
		}
	}
	if (*n >= CONFIG_MAX_NAMED) {
		add_error(st, "more than %d [%s] sections", CONFIG_MAX_NAMED, section_names[kind]);
		return -1;
	}
	grown = realloc(*arr, (*n + 1) * elem);
	dup = strdup(name);
	if (grown == NULL || dup == NULL) {
		if (grown)
			*arr = grown;
		free(dup);
		st->oom = true;
		return -1;
	}
	*arr = grown;
	memset((char *) grown + *n * elem, 0, elem);
	if (kind == SEC_REGISTRY)
		cfg->registries[*n].name = dup;
	else
		cfg->trusts[*n].name = dup;
	st->idx = (*n)++;
	if (apply_defaults(section_base(cfg, kind, st->idx), kind) < 0) {
		st->oom = true;
		return -1;
	}
	return 0;
}

/* A section header: `[daemon]`, `[init]`, `[registry "host:port"]`, `[trust "prefix"]`. */
static void parse_header(struct load_state *st, const char *line, size_t len)
{
	char buf[CONFIG_MAX_LINE + 1], *p, *end, *rest, *name = NULL;
	enum section_kind kind;
	size_t rl;

	st->kind = SEC_NONE;
	st->bad_section = true;
	memcpy(buf, line, len);
	buf[len] = '\0';
	end = strrchr(buf, ']');
	if (end == NULL) {
		add_error(st, "section header is missing its closing ']'");
		return;
	}
	for (p = end + 1; *p && *p != ';' && *p != '#'; p++)
		if (!isspace((unsigned char) *p)) {
			add_error(st, "text after the section header");
			return;
		}
	*end = '\0';
	for (p = buf + 1; isspace((unsigned char) *p); p++)
		;
	for (rest = p; *rest && !isspace((unsigned char) *rest); rest++)
		;
	if (*rest) {
		*rest++ = '\0';
		while (isspace((unsigned char) *rest))
			rest++;
		rl = strlen(rest);
		while (rl && isspace((unsigned char) rest[rl - 1]))
			rest[--rl] = '\0';
		if (rl) {
			if (rl < 2 || rest[0] != '"' || rest[rl - 1] != '"' ||
			    memchr(rest + 1, '"', rl - 2) != NULL) {
				add_error(st, "section name must be quoted: [%s \"NAME\"]", p);
				return;
			}
			rest[rl - 1] = '\0';
			name = rest + 1;
		}
	}
	kind = kind_of(p);
	if (kind == SEC_NONE) {
		add_error(st, "unknown section [%s]; sections are [daemon], [init], [store], [logs], "
			      "[registry \"HOST:PORT\"] and [trust \"PREFIX\"]", p);
		return;
	}
	if (kind == SEC_REGISTRY || kind == SEC_TRUST) {
		const char *why = NULL;
		if (name == NULL || name[0] == '\0') {
			add_error(st, "[%s] needs a name: [%s \"%s\"]", p, p,
				  kind == SEC_REGISTRY ? "HOST:PORT" : "PREFIX");
			return;
		}
		if (kind == SEC_REGISTRY)
			why = check_registry_host(name);
		if (why) {
			add_error(st, "[registry \"%s\"]: the name %s", name, why);
			return;
		}
		if (named_instance(st, kind, name) < 0)
			return;
	} else if (name != NULL) {
		add_error(st, "[%s] takes no name", p);
		return;
	}
	st->kind = kind;
	st->bad_section = false;
}

static void reader_error(void *user, const char *msg)
{
	add_error(user, "%s", msg);
}

static void reader_header(void *user, const char *line, size_t len)
{
	parse_header(user, line, len);
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
	struct load_state *st = user;
	const struct cfg_key *k = NULL;
	char vbuf[CONFIG_MAX_LINE + 1], msgbuf[256];
	const char *why, *key;
	size_t ki, vl, idx;
	enum section_kind kind;

	(void) section;
	value = inil_value(&st->rd, value);
	if (st->bad_section)
		return 1; /* the header was reported already */
	if (st->kind == SEC_NONE) {
		add_error(st, "key '%s' is outside any section; put it under [daemon] or another section", name);
		return 1;
	}
	/* `[daemon] log-size` was the per-container log cap before [logs] existed: still read,
	 * as `[logs] max-size` (which then counts as set, so both together are an error). */
	kind = st->kind;
	key = name;
	idx = st->idx;
	if (kind == SEC_DAEMON && strcmp(name, "log-size") == 0) {
		kind = SEC_LOGS;
		key = "max-size";
		idx = 0;
	}
	for (ki = 0; ki < cfg_n_keys; ki++)
		if (kind_of(cfg_keys[ki].section) == kind && strcmp(cfg_keys[ki].key, key) == 0) {
			k = &cfg_keys[ki];
			break;
		}
	if (k == NULL) {
		const char *s = suggest_key(st->kind, name);
		if (s)
			add_error(st, "unknown key '%s' in [%s]; did you mean '%s'?", name,
				  section_names[st->kind], s);
		else
			add_error(st, "unknown key '%s' in [%s]; `berth config --defaults` lists the keys",
				  name, section_names[st->kind]);
		return 1;
	}
	for (size_t i = 0; i < st->n_seen && k->type != CFG_PATH_LIST; i++)
		if (st->seen[i].kind == kind && st->seen[i].idx == idx && st->seen[i].key == ki) {
			if (kind != st->kind)
				add_error(st, "'%s' in [%s] is the old name of '%s' in [%s], which is set "
					      "already; keep only [%s] %s", name, section_names[st->kind], key,
					  section_names[kind], section_names[kind], key);
			else
				add_error(st, "key '%s' is set twice in [%s]", name, section_names[kind]);
			return 1;
		}
	if (st->n_seen < ARRAY_SIZE(st->seen))
		st->seen[st->n_seen++] = (struct seen){ kind, idx, ki };

	/* A value may be quoted to keep leading/trailing blanks. inih ends a value at a blank
	 * followed by ';' (an inline comment) even inside quotes, so a quote left open is an
	 * error rather than a silently shortened value. */
	vl = strlen(value);
	if (vl >= sizeof(vbuf)) {
		add_error(st, "value of '%s' is too long", name);
		return 1;
	}
	if (value[0] == '"' && (vl < 2 || value[vl - 1] != '"')) {
		add_error(st, "value of '%s' has no closing quote (a ';' after a blank starts a comment, "
			      "even inside quotes)", name);
		return 1;
	}
	if (vl >= 2 && value[0] == '"' && value[vl - 1] == '"') {
		memcpy(vbuf, value + 1, vl - 2);
		vbuf[vl - 2] = '\0';
	} else {
		memcpy(vbuf, value, vl + 1);
	}
	why = validate(k, vbuf, msgbuf, sizeof(msgbuf));
	if (why) {
		add_error(st, "bad value '%s' for '%s' in [%s]: %s", vbuf, name, section_names[st->kind], why);
		return 1;
	}
	if (store(section_base(st->cfg, kind, idx), k, vbuf) < 0)
		st->oom = true;
	return 1;
}

int config_load_buffer(struct berth_config *cfg, const char *name, const char *text, size_t len,
		       struct berr **err)
{
	struct load_state st = { 0 };
	int rc;

	if (config_defaults(cfg, err) < 0)
		return -1;
	st.cfg = cfg;
	st.name = name;
	st.kind = SEC_NONE;
	inil_init(&st.rd, text, len, false, reader_error, reader_header, &st);
	rc = ini_parse_stream(inil_read, &st.rd, handler, &st);
	if (rc != 0 && st.n_errors == 0 && !st.oom) {
		/* inih saw a syntax error our reader let through. */
		st.rd.line = rc > 0 ? rc : st.rd.line;
		add_error(&st, "syntax error");
	}
	if (st.oom) {
		free(st.errors);
		config_free(cfg);
		return berr_make(err, ENOMEM, "load `%s`", name);
	}
	if (st.n_errors) {
		berr_usage(err, "%s", st.errors ? st.errors : "bad config");
		free(st.errors);
		config_free(cfg);
		return -1;
	}
	cfg->path = strdup(name);
	return 0;
}

int config_load(struct berth_config *cfg, const char *path, bool must_exist, struct berr **err)
{
	_cleanup_free_ char *text = NULL;
	struct berr *rerr = NULL;
	size_t len = 0;

	if (fs_read_file(path, CONFIG_MAX_FILE, &text, &len, &rerr) < 0) {
		if (rerr->errcode == ENOENT && !must_exist) {
			berr_free(rerr);
			return config_defaults(cfg, err);
		}
		*err = rerr;
		if (rerr->errcode == ENOENT)
			rerr->status = EXIT_USAGE;
		return berr_wrap(err, "config");
	}
	return config_load_buffer(cfg, path, text, len, err);
}

const struct cfg_registry *config_find_registry(const struct berth_config *cfg, const char *host)
{
	for (size_t i = 0; i < cfg->n_registries; i++)
		if (strcmp(cfg->registries[i].name, host) == 0)
			return &cfg->registries[i];
	return NULL;
}

/* ---- printing ---- */

static void format_value(const struct cfg_key *k, const void *base, char *buf, size_t size)
{
	const char *field = (const char *) base + k->offset;

	switch (k->type) {
	case CFG_BOOL:
		snprintf(buf, size, "%s", *(const bool *) field ? "yes" : "no");
		break;
	case CFG_SIZE: {
		uint64_t v = *(const uint64_t *) field;
		static const char sfx[] = "KMGT";
		int i = -1;
		while (v && v % 1024 == 0 && i < 3) {
			v /= 1024;
			i++;
		}
		if (i < 0)
			snprintf(buf, size, "%llu", (unsigned long long) v);
		else
			snprintf(buf, size, "%llu%c", (unsigned long long) v, sfx[i]);
		break;
	}
	case CFG_DURATION: {
		uint64_t v = *(const uint64_t *) field;
		if (v == 0)
			snprintf(buf, size, "0");
		else if (v % 3600000 == 0)
			snprintf(buf, size, "%lluh", (unsigned long long) (v / 3600000));
		else if (v % 60000 == 0)
			snprintf(buf, size, "%llum", (unsigned long long) (v / 60000));
		else if (v % 1000 == 0)
			snprintf(buf, size, "%llus", (unsigned long long) (v / 1000));
		else
			snprintf(buf, size, "%llums", (unsigned long long) v);
		break;
	}
	default: {
		const char *s = *(char *const *) field;
		snprintf(buf, size, "%s", s ? s : "");
		break;
	}
	}
}

static bool is_unset(const struct cfg_key *k, const void *base)
{
	if (k->type == CFG_BOOL || k->type == CFG_SIZE || k->type == CFG_DURATION)
		return false;
	return *(char *const *) ((const char *) base + k->offset) == NULL;
}

static void print_section(FILE *out, const struct berth_config *cfg, enum section_kind kind, size_t idx,
			  const char *name)
{
	const void *base = section_base_c(cfg, kind, idx);
	char val[CONFIG_MAX_LINE + 64];

	if (name)
		fprintf(out, "[%s \"%s\"]\n", section_names[kind], name);
	else
		fprintf(out, "[%s]\n", section_names[kind]);
	for (size_t i = 0; i < cfg_n_keys; i++) {
		const struct cfg_key *k = &cfg_keys[i];
		if (kind_of(k->section) != kind)
			continue;
		if (is_unset(k, base)) {
			fprintf(out, "# %s =\n", k->key);
			continue;
		}
		if (k->type == CFG_PATH_LIST) {
			/* One line per path, as it was given. */
			const char *p = *(char *const *) ((const char *) base + k->offset);
			while (*p) {
				size_t n = strcspn(p, "\n");
				fprintf(out, "%s = %.*s\n", k->key, (int) n, p);
				p += n + (p[n] == '\n');
			}
			continue;
		}
		format_value(k, base, val, sizeof(val));
		/* Never echo a secret to a console or a log. */
		if (strcmp(k->key, "password") == 0)
			snprintf(val, sizeof(val), "********");
		/* Quote what the loader would otherwise trim or unquote, so the output loads back. */
		size_t vl = strlen(val);
		if (vl && (isspace((unsigned char) val[0]) || isspace((unsigned char) val[vl - 1]) ||
			   val[0] == '"'))
			fprintf(out, "%s = \"%s\"\n", k->key, val);
		else
			fprintf(out, "%s = %s\n", k->key, val);
	}
	fputc('\n', out);
}

void config_print(const struct berth_config *cfg, FILE *out)
{
	fprintf(out, "# effective configuration%s%s\n", cfg->path ? " from " : " (defaults: no file)",
		cfg->path ? cfg->path : "");
	print_section(out, cfg, SEC_DAEMON, 0, NULL);
	print_section(out, cfg, SEC_INIT, 0, NULL);
	print_section(out, cfg, SEC_STORE, 0, NULL);
	print_section(out, cfg, SEC_LOGS, 0, NULL);
	for (size_t i = 0; i < cfg->n_registries; i++)
		print_section(out, cfg, SEC_REGISTRY, i, cfg->registries[i].name);
	for (size_t i = 0; i < cfg->n_trusts; i++)
		print_section(out, cfg, SEC_TRUST, i, cfg->trusts[i].name);
}

void config_print_defaults(FILE *out)
{
	static const char *const headers[SEC_COUNT] = {
		"[daemon]", "[init]", "[store]", "[logs]", "# [registry \"HOST:PORT\"]  (one section per registry)",
		"# [trust \"PREFIX\"]  (one section per image name prefix)",
	};

	fprintf(out, "# berth.conf: every key with its default. Comments start with # or ;.\n\n");
	for (int s = 0; s < SEC_COUNT; s++) {
		fprintf(out, "%s\n", headers[s]);
		for (size_t i = 0; i < cfg_n_keys; i++) {
			const struct cfg_key *k = &cfg_keys[i];
			if (kind_of(k->section) != (enum section_kind) s)
				continue;
			fprintf(out, "# %s", k->desc);
			if (k->type == CFG_ENUM)
				fprintf(out, " One of: %s.", k->choices);
			/* Named sections are templates: their keys stay commented out. */
			fprintf(out, "\n%s%s = %s\n", k->def && s < SEC_REGISTRY ? "" : "# ", k->key,
				k->def ? k->def : "");
		}
		fputc('\n', out);
	}
}
