/* Container records on flash: containers/<id>/config.json (what `run`/`create` resolved) and
 * state.json (what happened since), written atomically, read back defensively, with names,
 * id prefixes, liveness of the recorded pid and removal. A berth process that dies without a
 * word (daemonless `run` killed) leaves a record saying running: readers see through it. */
#ifndef BERTH_RUNTIME_RECORD_H
#define BERTH_RUNTIME_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct berr;

#define REC_ID_LEN 64            /* hex digits of a container id */
#define REC_SHORT_ID_LEN 12      /* as `berth ps` shows it */
#define REC_NAME_MAX 128         /* bytes of a container name */
#define REC_FILE_MAX (1u << 20)  /* bytes of config.json or state.json */
#define REC_STRV_MAX 4096        /* entries in argv, env, ... */
#define REC_MOUNTS_MAX 256
#define REC_LABELS_MAX 1024
#define REC_MAX 4096             /* records listed */
#define REC_EXIT_UNKNOWN (-1)    /* exit code of a process that ended unwatched */

enum rec_status { REC_CREATED, REC_RUNNING, REC_EXITED, REC_DEAD };

enum rec_mount_type { REC_MOUNT_VOLUME, REC_MOUNT_BIND, REC_MOUNT_TMPFS };

enum rec_restart { REC_RESTART_NO, REC_RESTART_ON_FAILURE, REC_RESTART_ALWAYS,
		   REC_RESTART_UNLESS_STOPPED };

/* A list of strings; v == NULL is "not set" (JSON null), distinct from an empty list. */
struct rec_strv {
	char **v;
	size_t n;
};

struct rec_label {
	char *key, *value;
};

struct rec_mount {
	enum rec_mount_type type;
	char *name;         /* volume: its name */
	char *source;       /* bind: the host path; NULL otherwise */
	char *destination;  /* inside the container, absolute */
	char *options;      /* tmpfs: "size=64m,mode=1777"; NULL: defaults */
	bool readonly;
	bool anonymous;     /* volume made for this container: `rm -v` removes it */
};

/* config.json: fixed at create. Every pointer is owned (rec_config_free). */
struct rec_config {
	char id[REC_ID_LEN + 1];     /* "": rec_create draws one */
	char name[REC_NAME_MAX + 1]; /* "": rec_create picks adjective_noun */
	char *image;                 /* as the user named it: "my-finance" */
	char *image_id;              /* config digest "sha256:<hex>" */
	char *image_digest;          /* manifest digest "sha256:<hex>": what GC keeps */
	struct rec_strv argv;        /* what runs: entrypoint + cmd, merged */
	struct rec_strv entrypoint;  /* as resolved, for inspect's Config */
	struct rec_strv cmd;
	struct rec_strv env;         /* "KEY=VALUE" */
	char *workdir;
	char *user;
	char *hostname;
	struct rec_mount *mounts;
	size_t n_mounts;
	int64_t memory;              /* bytes; 0: no limit */
	int64_t nano_cpus;           /* 1e9 = one CPU; 0: no limit */
	int64_t pids_limit;          /* 0: no limit */
	enum rec_restart restart;
	int restart_max;             /* on-failure:N */
	struct rec_label *labels;
	size_t n_labels;
	int64_t created;             /* ns since the epoch; 0: rec_create sets it */
	/* The `run`/`create` options as given (no image, no command): `start` and the supervisor
	 * parse them again, so a restarted container gets every option it was created with. */
	struct rec_strv host_args;
	int stop_signal;             /* 0: SIGTERM */
	int stop_timeout;            /* seconds before SIGKILL; -1: the default (10) */
	/* --rm: removed when it exits. Such a record holds nothing to keep, so it is written
	 * without fsync; after a power cut rec_repair removes what is left of it. */
	bool auto_remove;
};

/* state.json: rewritten on each change (rec_save_state). */
struct rec_state {
	enum rec_status status;
	pid_t pid;                   /* 0 when not running */
	uint64_t pid_start;          /* /proc/<pid>/stat field 22: tells a reused pid apart */
	char boot_id[40];            /* /proc/sys/kernel/random/boot_id when pid was recorded */
	int exit_code;               /* REC_EXIT_UNKNOWN if not known */
	bool oom_killed;
	int64_t started;             /* ns since the epoch; 0: never */
	int64_t finished;            /* ns; 0: never */
	unsigned restart_count;
	char *error;                 /* why it failed or is dead; NULL: none */
};

/* One record as read back. A record whose files cannot be read is `broken`: its status is
 * dead, `problem` says which file and why, and only cfg.id is sure to be set. */
struct rec {
	struct rec_config cfg;
	struct rec_state st;
	bool broken;
	char *problem;
	bool stale;  /* state.json said running but the process is gone: st shows it exited;
		      * rec_refresh writes that back */
};

struct rec_list {
	struct rec *v;   /* newest first */
	size_t n;
};

/* ---- names and ids ---- */

/* A container name by Docker's rule `/?[a-zA-Z0-9][a-zA-Z0-9_.-]+`, at most REC_NAME_MAX. */
bool rec_name_valid(const char *name);
/* A random Docker-like "adjective_noun" name. */
void rec_name_random(char *buf, size_t size);
/* 64 hex digits from getrandom(2). */
int rec_id_new(char id[REC_ID_LEN + 1], struct berr **err);
bool rec_id_valid(const char *id);

const char *rec_status_name(enum rec_status s);
const char *rec_restart_name(enum rec_restart r);
/* "no", "always", "unless-stopped", "on-failure[:N]"; usage error otherwise. */
int rec_restart_parse(const char *s, enum rec_restart *r, int *max, struct berr **err);

/* ns since the epoch, now. */
int64_t rec_now(void);
/* RFC 3339 with nanoseconds, UTC ("2024-01-02T03:04:05.123456789Z"); 0 is Docker's zero time
 * "0001-01-01T00:00:00Z". */
void rec_time_format(int64_t ns, char *buf, size_t size);
/* The inverse (fraction optional, 'Z' only); -1 if it does not parse. */
int rec_time_parse(const char *s, int64_t *ns);

/* ---- JSON (exposed for tests and the fuzzer) ---- */

/* Parse config.json / state.json text; `what` names the file in errors. Nothing is
 * allocated on failure. */
int rec_config_parse(const char *data, size_t len, const char *what, struct rec_config *out,
		     struct berr **err);
int rec_state_parse(const char *data, size_t len, const char *what, struct rec_state *out,
		    struct berr **err);
/* Serialize; returns a malloc'd NUL-terminated string. */
char *rec_config_dump(const struct rec_config *c);
char *rec_state_dump(const struct rec_state *s);
void rec_config_free(struct rec_config *c);
void rec_state_free(struct rec_state *s);

/* ---- the store ---- */

/* flock on containers/.lock around anything that takes or frees a name: two berth processes
 * never get the same one. Returns the fd. */
int rec_lock(struct berr **err);
void rec_unlock(int fd);

/* Create containers/<id>/ with cfg (id, name, created filled in where empty) and a state of
 * `created`. The name must be valid and unused (Docker's "Conflict. The container name ...
 * is already in use" otherwise). The directory is built in tmp/ and renamed into place, so a
 * power cut leaves the whole record or none. Volumes the mounts name are created if missing.
 * Takes the lock. */
int rec_create(struct rec_config *cfg, struct berr **err);

/* Write state.json of record `id` atomically. */
int rec_save_state(const char *id, const struct rec_state *st, struct berr **err);
/* The same without fsyncs, for the running mark of a foreground `berth run`: a power cut ends
 * that process, so the mark is stale after it anyway. What a power cut can leave is the
 * previous state (created), the running mark (seen through by rec_check: another boot), or,
 * on a file system that does not order a replacing rename after its data, an empty
 * state.json, which rec_load reads as exited with an unknown status. */
int rec_save_state_nosync(const char *id, const struct rec_state *st, struct berr **err);

/* Read one record by full id; errors name the file that is unreadable or corrupt. Liveness
 * is checked (see rec_check). */
int rec_load(const char *id, struct rec *out, struct berr **err);
void rec_free(struct rec *r);

/* Every record, newest first. Unreadable ones are listed broken (dead), never an error. */
int rec_list_load(struct rec_list *out, struct berr **err);
void rec_list_free(struct rec_list *l);

/* Find a record by full id, name (with or without the leading '/') or unique id prefix, in
 * that order. "No such container: x" (EXIT_FAILED) otherwise; an ambiguous prefix says so. */
int rec_find(const char *ref, struct rec *out, struct berr **err);

/* Is the recorded process still the one that was started? Compares the pid's start time
 * (and the boot) with those recorded; a zombie counts as gone. */
bool rec_pid_alive(const struct rec_state *st);
/* /proc/<pid>/stat field 22 (start time in clock ticks after boot). */
int rec_pid_start_time(pid_t pid, uint64_t *out, struct berr **err);
/* The current boot's id (/proc/sys/kernel/random/boot_id), "" if unknown. */
void rec_boot_id(char buf[40]);
/* Fill st->pid, pid_start and boot_id for a process just started, and set it running. */
int rec_state_set_running(struct rec_state *st, pid_t pid, struct berr **err);

/* If r says running but its process is gone: mark it exited (code unknown) in memory and
 * set r->stale. Called by rec_load. */
void rec_check(struct rec *r);
/* Write a stale record's corrected state back to flash (no-op otherwise). */
int rec_refresh(struct rec *r, struct berr **err);

enum {
	REC_RM_FORCE = 1 << 0,   /* kill a running container (SIGKILL) first */
	REC_RM_VOLUMES = 1 << 1, /* also remove its anonymous volumes */
};
struct rec_removed {
	char id[REC_ID_LEN + 1];
	uint64_t size;           /* bytes of file data the record held (its upper dir) */
};
/* Remove the record `ref` (as rec_find). A running container is refused (EXIT_FAILED) unless
 * REC_RM_FORCE. The directory is first renamed into tmp/ (the store sees it gone at once),
 * then deleted. `out` may be NULL. Takes the lock. */
int rec_remove(const char *ref, unsigned flags, struct rec_removed *out, struct berr **err);
/* Remove record `cfg` whose container the caller has seen end (it reaped the process), from
 * what the caller holds: nothing is read back from flash. A record already removed (`berth
 * rm -f` while it ran) is no error. Takes the lock. */
int rec_remove_exited(const struct rec_config *cfg, unsigned flags, struct berr **err);

/* Rename a container; the new name must be valid and unused. Takes the lock. */
int rec_rename(const char *ref, const char *new_name, struct berr **err);

/* Startup repair after a power cut: leftovers of atomic writes (`*.tmp.<pid>`) in record
 * directories, and --rm records that no longer run (rec_config.auto_remove). */
int rec_repair(struct berr **err);

/* Manifest digests (hex) of the images records were made from, so the GC keeps them. */
int rec_image_roots(char (**hex)[REC_ID_LEN + 1], size_t *n, struct berr **err);

#endif
