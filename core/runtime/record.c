/* Container records: config.json and state.json under containers/<id>/, their JSON, names and
 * ids, the liveness of the recorded pid, and creation and removal that a power cut cannot
 * leave half done. The JSON of both files is in record_json.c. */
#include "runtime/record.h"
#include "runtime/volume.h"
#include "base/err.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/paths.h"
#include "base/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define KILL_WAIT_MS 5000

/* ---- names, ids, enums, times ---- */

static bool name_char(char c, bool first)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return !first && (c == '_' || c == '.' || c == '-');
}

bool rec_name_valid(const char *name)
{
	size_t n;

	if (name[0] == '/')
		name++;
	n = strlen(name);
	if (n < 2 || n > REC_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!name_char(name[i], i == 0))
			return false;
	return true;
}

/* Harbour words: berth's own lists, in the usual adjective_noun shape. */
static const char *const adjectives[] = {
	"agile", "amber", "bold", "brave", "bright", "busy", "calm", "clever", "cosy", "crisp",
	"daring", "eager", "early", "fair", "fancy", "fond", "gentle", "glad", "golden", "grand",
	"happy", "hardy", "hazy", "humble", "jolly", "keen", "kind", "lively", "loyal", "lucky",
	"merry", "misty", "modest", "nimble", "noble", "patient", "plucky", "polite", "proud",
	"quick", "quiet", "rapid", "ready", "salty", "serene", "sharp", "shiny", "silent", "sleek",
	"snug", "solid", "steady", "stout", "sturdy", "sunny", "swift", "tidy", "trusty", "vivid",
	"warm", "wise", "witty", "zesty",
};
static const char *const nouns[] = {
	"anchor", "beacon", "bollard", "bosun", "bow", "buoy", "cabin", "canal", "capstan",
	"cargo", "channel", "compass", "cove", "crane", "cutter", "davit", "dinghy", "dock",
	"ferry", "flagship", "galley", "gangway", "harbor", "hawser", "helm", "hull", "inlet",
	"jetty", "keel", "ketch", "lantern", "launch", "lighthouse", "lock", "mast", "mooring",
	"oar", "pier", "pilot", "port", "quay", "raft", "rudder", "sail", "schooner", "skiff",
	"slipway", "sloop", "tide", "tiller", "tugboat", "wake", "wharf", "winch", "yawl",
};

static uint32_t random_u32(void)
{
	uint32_t v;

	if (getrandom(&v, sizeof(v), 0) != (ssize_t) sizeof(v)) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		v = (uint32_t) ts.tv_nsec ^ (uint32_t) getpid() * 2654435761u;
	}
	return v;
}

void rec_name_random(char *buf, size_t size)
{
	uint32_t r = random_u32();

	snprintf(buf, size, "%s_%s", adjectives[r % ARRAY_SIZE(adjectives)],
		 nouns[(r / ARRAY_SIZE(adjectives)) % ARRAY_SIZE(nouns)]);
}

static bool is_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

bool rec_id_valid(const char *id)
{
	return strlen(id) == REC_ID_LEN && is_hex(id, REC_ID_LEN);
}

int rec_id_new(char id[REC_ID_LEN + 1], struct berr **err)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char b[REC_ID_LEN / 2];

	for (;;) {
		size_t got = 0;
		bool digits = true;

		while (got < sizeof(b)) {
			ssize_t r = getrandom(b + got, sizeof(b) - got, 0);
			if (r < 0) {
				if (errno == EINTR)
					continue;
				return berr_make(err, errno, "getrandom");
			}
			got += (size_t) r;
		}
		for (size_t i = 0; i < sizeof(b); i++) {
			id[2 * i] = hex[b[i] >> 4];
			id[2 * i + 1] = hex[b[i] & 15];
		}
		id[REC_ID_LEN] = '\0';
		/* A short id of digits only reads like a number: draw again, as Docker does. */
		for (int i = 0; i < REC_SHORT_ID_LEN; i++)
			if (id[i] > '9')
				digits = false;
		if (!digits)
			return 0;
	}
}

/* ---- liveness ---- */

int rec_pid_start_time(pid_t pid, uint64_t *out, struct berr **err)
{
	char path[64], buf[1024], *p, *tok, *save = NULL;
	_cleanup_close_ int fd = -1;
	ssize_t n;
	int field;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return berr_make(err, errno, "open `%s`", path);
	n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return berr_make(err, n < 0 ? errno : EIO, "read `%s`", path);
	buf[n] = '\0';
	/* The command name may hold spaces and parentheses: fields go on after the last ')'. */
	p = strrchr(buf, ')');
	if (p == NULL)
		return berr_make(err, EINVAL, "`%s`: no command field", path);
	p++;
	for (field = 3, tok = strtok_r(p, " ", &save); tok; tok = strtok_r(NULL, " ", &save), field++) {
		if (field == 3 && (tok[0] == 'Z' || tok[0] == 'X'))
			return berr_make(err, ESRCH, "process %d has exited", (int) pid);
		if (field == 22) {
			char *end;
			errno = 0;
			*out = strtoull(tok, &end, 10);
			if (errno || *end)
				return berr_make(err, EINVAL, "`%s`: bad start time", path);
			return 0;
		}
	}
	return berr_make(err, EINVAL, "`%s`: too few fields", path);
}

void rec_boot_id(char buf[40])
{
	_cleanup_close_ int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, 39) : -1;

	if (n < 0)
		n = 0;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
}

bool rec_pid_alive(const struct rec_state *st)
{
	char boot[40];
	uint64_t start;
	struct berr *e = NULL;

	if (st->pid <= 0)
		return false;
	if (st->boot_id[0]) {
		rec_boot_id(boot);
		if (boot[0] && strcmp(boot, st->boot_id) != 0)
			return false;
	}
	if (rec_pid_start_time(st->pid, &start, &e) < 0) {
		berr_free(e);
		return false;
	}
	return start == st->pid_start;
}

int rec_state_set_running(struct rec_state *st, pid_t pid, struct berr **err)
{
	if (rec_pid_start_time(pid, &st->pid_start, err) < 0)
		return -1;
	rec_boot_id(st->boot_id);
	st->pid = pid;
	st->status = REC_RUNNING;
	st->started = rec_now();
	st->finished = 0;
	st->exit_code = 0;
	st->oom_killed = false;
	free(st->error);
	st->error = NULL;
	return 0;
}

/* Seconds since the epoch when this boot started (/proc/stat btime), or -1. */
static int64_t boot_time(void)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/stat", "re");
	char line[256];
	long long t;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "btime %lld", &t) == 1)
			return t;
	return -1;
}

void rec_check(struct rec *r)
{
	char boot[40];
	int64_t bt;

	if (r->broken || r->st.status != REC_RUNNING || rec_pid_alive(&r->st))
		return;
	/* When it ended is unknown: at the latest when this boot began (if the board has
	 * rebooted since), else now. */
	rec_boot_id(boot);
	bt = boot_time();
	if (r->st.boot_id[0] && boot[0] && strcmp(boot, r->st.boot_id) != 0 && bt > 0)
		r->st.finished = bt * 1000000000;
	else
		r->st.finished = rec_now();
	r->st.status = REC_EXITED;
	r->st.exit_code = REC_EXIT_UNKNOWN;
	r->st.pid = 0;
	free(r->st.error);
	r->st.error = strdup("the process ended while no berth process was watching it: its exit "
			     "status is unknown");
	r->stale = true;
}

/* ---- the store ---- */

int rec_lock(struct berr **err)
{
	char dir[PATH_MAX], path[PATH_MAX];
	int fd;

	if (paths_containers_dir(dir, sizeof(dir)) < 0 || paths_containers_lock(path, sizeof(path)) < 0)
		return berr_make(err, errno, "containers path");
	if (fs_mkdir_p(dir, 0700, err) < 0)
		return -1;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return berr_make(err, errno, "open `%s`", path);
	while (flock(fd, LOCK_EX) < 0) {
		if (errno == EINTR)
			continue;
		int e = errno;
		close(fd);
		return berr_make(err, e, "lock `%s`", path);
	}
	return fd;
}

void rec_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}

static int read_json_file(const char *id, const char *file, char **data, size_t *len,
			  char *path, size_t psize, struct berr **err)
{
	if (paths_container_file(path, psize, id, file) < 0)
		return berr_make(err, errno, "path of %s", file);
	return fs_read_file(path, REC_FILE_MAX, data, len, err);
}

int rec_load(const char *id, struct rec *out, struct berr **err)
{
	_cleanup_free_ char *cdata = NULL, *sdata = NULL;
	char path[PATH_MAX];
	size_t len;

	memset(out, 0, sizeof(*out));
	if (!rec_id_valid(id))
		return berr_usage(err, "`%s` is not a container id", id);
	memcpy(out->cfg.id, id, REC_ID_LEN + 1);
	if (read_json_file(id, "config.json", &cdata, &len, path, sizeof(path), err) < 0 ||
	    rec_config_parse(cdata, len, path, &out->cfg, err) < 0) {
		memcpy(out->cfg.id, id, REC_ID_LEN + 1);
		return -1;
	}
	if (strcmp(out->cfg.id, id) != 0) {
		berr_make(err, 0, "`%s`: Id `%s` is not the directory's", path, out->cfg.id);
		memcpy(out->cfg.id, id, REC_ID_LEN + 1);
		return -1;
	}
	if (read_json_file(id, "state.json", &sdata, &len, path, sizeof(path), err) < 0)
		return -1;
	if (len == 0) {
		/* Only a power cut during an unsynced write of the running mark (a foreground
		 * run's, rec_save_state_nosync) leaves it empty: the process ended with it. */
		out->st.status = REC_EXITED;
		out->st.exit_code = REC_EXIT_UNKNOWN;
		out->st.error = xstrdup("its state was lost in a power cut while it ran: its exit "
					"status is unknown");
		out->stale = true;
		{
			int64_t bt = boot_time();
			out->st.finished = bt > 0 ? bt * 1000000000 : rec_now();
		}
		return 0;
	}
	if (rec_state_parse(sdata, len, path, &out->st, err) < 0)
		return -1;
	rec_check(out);
	return 0;
}

void rec_free(struct rec *r)
{
	rec_config_free(&r->cfg);
	rec_state_free(&r->st);
	free(r->problem);
	memset(r, 0, sizeof(*r));
}

static int cmp_rec(const void *a, const void *b)
{
	const struct rec *x = a, *y = b;

	if (x->cfg.created != y->cfg.created)
		return x->cfg.created > y->cfg.created ? -1 : 1;
	return strcmp(x->cfg.id, y->cfg.id);
}

/* Load every record; unreadable ones become broken entries. */
/* Config only: what a name check needs, without state.json or a liveness check. */
static int load_config(const char *id, struct rec *out, struct berr **err)
{
	_cleanup_free_ char *cdata = NULL;
	char path[PATH_MAX];
	size_t len;

	memset(out, 0, sizeof(*out));
	memcpy(out->cfg.id, id, REC_ID_LEN + 1);
	if (read_json_file(id, "config.json", &cdata, &len, path, sizeof(path), err) < 0 ||
	    rec_config_parse(cdata, len, path, &out->cfg, err) < 0) {
		memcpy(out->cfg.id, id, REC_ID_LEN + 1);
		return -1;
	}
	return 0;
}

/* One record of the list: unreadable ones are kept, broken. */
static void load_entry(const char *id, const struct stat *sb, bool configs_only, struct rec *r)
{
	struct berr *e = NULL;

	if ((configs_only ? load_config : rec_load)(id, r, &e) < 0) {
		/* Keep what could be read (the config, when only state.json is bad): the record
		 * still shows, dead, and can be removed by name or id. */
		r->broken = true;
		r->problem = xstrdup(e ? e->msg : "unreadable");
		r->st.status = REC_DEAD;
		r->st.exit_code = REC_EXIT_UNKNOWN;
		if (r->cfg.created == 0)
			r->cfg.created = (int64_t) sb->st_mtim.tv_sec * 1000000000 + sb->st_mtim.tv_nsec;
		berr_free(e);
	}
}

static int list_load(struct rec_list *out, bool configs_only, struct berr **err)
{
	char dir[PATH_MAX];
	struct dirent *de;
	size_t cap = 0;
	DIR *d;

	memset(out, 0, sizeof(*out));
	if (paths_containers_dir(dir, sizeof(dir)) < 0)
		return berr_make(err, errno, "containers path");
	d = opendir(dir);
	if (d == NULL)
		return errno == ENOENT ? 0 : berr_make(err, errno, "open `%s`", dir);
	while ((de = readdir(d)) != NULL) {
		struct stat sb;

		if (!rec_id_valid(de->d_name))
			continue;
		if (fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(sb.st_mode))
			continue;
		if (out->n == REC_MAX) {
			log_warn("more than %d containers: the rest are not listed", REC_MAX);
			break;
		}
		if (out->n == cap) {
			cap = cap ? cap * 2 : 16;
			out->v = xrealloc(out->v, cap * sizeof(*out->v));
		}
		load_entry(de->d_name, &sb, configs_only, &out->v[out->n++]);
	}
	closedir(d);
	if (out->n > 1)
		qsort(out->v, out->n, sizeof(*out->v), cmp_rec);
	return 0;
}

/* The list that find_in searches for `ref`: for a full id whose record is there, that record
 * alone (an exact id wins over names and prefixes anyway), else every record. */
static int list_load_for(struct rec_list *out, const char *ref, struct berr **err)
{
	char path[PATH_MAX];
	struct stat sb;

	if (rec_id_valid(ref) && paths_container(path, sizeof(path), ref) == 0 &&
	    lstat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
		memset(out, 0, sizeof(*out));
		out->v = xcalloc(1, sizeof(*out->v));
		out->n = 1;
		load_entry(ref, &sb, false, &out->v[0]);
		return 0;
	}
	return list_load(out, false, err);
}

int rec_list_load(struct rec_list *out, struct berr **err)
{
	return list_load(out, false, err);
}

void rec_list_free(struct rec_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		rec_free(&l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static void not_found(struct berr **err, const char *ref)
{
	berr_make(err, 0, "No such container: %s", ref);
	if (err && *err)
		(*err)->status = EXIT_FAILED;
}

/* Index of the record `ref` names in l, or -1 with an error. */
static int find_in(const struct rec_list *l, const char *ref, struct berr **err)
{
	const char *name = ref[0] == '/' ? ref + 1 : ref;
	size_t len = strlen(ref);
	int found = -1;

	if (len == 0) {
		not_found(err, ref);
		return -1;
	}
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i].cfg.id, ref) == 0)
			return (int) i;
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].cfg.name[0] && strcmp(l->v[i].cfg.name, name) == 0)
			return (int) i;
	if (len <= REC_ID_LEN && is_hex(ref, len)) {
		for (size_t i = 0; i < l->n; i++) {
			if (strncmp(l->v[i].cfg.id, ref, len) != 0)
				continue;
			if (found >= 0) {
				berr_make(err, 0, "multiple containers match `%s`: %.12s, %.12s...; "
					  "give more of the id", ref, l->v[found].cfg.id, l->v[i].cfg.id);
				if (err && *err)
					(*err)->status = EXIT_FAILED;
				return -1;
			}
			found = (int) i;
		}
	}
	if (found < 0)
		not_found(err, ref);
	return found;
}

int rec_find(const char *ref, struct rec *out, struct berr **err)
{
	struct rec_list l;
	int i;

	memset(out, 0, sizeof(*out));
	if (list_load_for(&l, ref, err) < 0)
		return -1;
	i = find_in(&l, ref, err);
	if (i >= 0) {
		*out = l.v[i];
		memset(&l.v[i], 0, sizeof(l.v[i]));
	}
	rec_list_free(&l);
	return i >= 0 ? 0 : -1;
}

static int save_state(const char *id, const struct rec_state *st, bool sync, struct berr **err)
{
	char path[PATH_MAX];
	char *s;
	int ret;

	if (!rec_id_valid(id) || paths_container_file(path, sizeof(path), id, "state.json") < 0)
		return berr_make(err, EINVAL, "state of container `%s`", id);
	s = rec_state_dump(st);
	if (s == NULL)
		return berr_make(err, ENOMEM, "write `%s`", path);
	ret = sync ? fs_write_atomic(path, s, strlen(s), 0600, err)
		   : fs_write_replace(path, s, strlen(s), 0600, err);
	free(s);
	return ret;
}

int rec_save_state(const char *id, const struct rec_state *st, struct berr **err)
{
	return save_state(id, st, true, err);
}

int rec_save_state_nosync(const char *id, const struct rec_state *st, struct berr **err)
{
	return save_state(id, st, false, err);
}

int rec_refresh(struct rec *r, struct berr **err)
{
	if (!r->stale)
		return 0;
	if (rec_save_state(r->cfg.id, &r->st, err) < 0)
		return -1;
	r->stale = false;
	return 0;
}

static bool name_taken(const struct rec_list *l, const char *name, const char *except_id)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i].cfg.name, name) == 0 &&
		    (except_id == NULL || strcmp(l->v[i].cfg.id, except_id) != 0))
			return true;
	return false;
}

static int name_conflict(struct berr **err, const char *name, const struct rec_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i].cfg.name, name) == 0)
			berr_make(err, 0, "Conflict. The container name \"/%s\" is already in use by "
				  "container \"%s\". You have to remove (or rename) that container to "
				  "be able to reuse that name.", name, l->v[i].cfg.id);
	if (err && *err)
		(*err)->status = EXIT_FAILED;
	return -1;
}

static int check_config(const struct rec_config *c, struct berr **err)
{
	if (c->image == NULL || c->image[0] == '\0')
		return berr_usage(err, "a container needs an image");
	if (c->argv.n > REC_STRV_MAX || c->env.n > REC_STRV_MAX || c->n_mounts > REC_MOUNTS_MAX ||
	    c->n_labels > REC_LABELS_MAX)
		return berr_usage(err, "too many arguments, variables, mounts or labels");
	for (size_t i = 0; i < c->n_mounts; i++) {
		const struct rec_mount *m = &c->mounts[i];
		if (m->destination == NULL || m->destination[0] != '/')
			return berr_usage(err, "mount destination `%s` is not an absolute path",
					  m->destination ? m->destination : "");
		if (m->type == REC_MOUNT_VOLUME && (m->name == NULL || !vol_name_valid(m->name)))
			return berr_usage(err, "`%s` is not a valid volume name: use "
					  "[a-zA-Z0-9][a-zA-Z0-9_.-]+", m->name ? m->name : "");
		if (m->type == REC_MOUNT_BIND && (m->source == NULL || m->source[0] != '/'))
			return berr_usage(err, "bind source `%s` is not an absolute path",
					  m->source ? m->source : "");
	}
	for (size_t i = 0; i < c->n_labels; i++)
		if (c->labels[i].key == NULL || c->labels[i].key[0] == '\0' || c->labels[i].value == NULL)
			return berr_usage(err, "a label needs a key");
	return 0;
}

static int join(char *buf, size_t size, const char *dir, const char *name, struct berr **err)
{
	int n = snprintf(buf, size, "%s/%s", dir, name);

	if (n < 0 || (size_t) n >= size)
		return berr_make(err, ENAMETOOLONG, "path `%s/%s`", dir, name);
	return 0;
}

/* Write config.json and state.json into a new directory in tmp/, then rename it into
 * containers/: the record appears whole or not at all. */
static int write_record(const struct rec_config *c, struct berr **err)
{
	struct rec_state st = { .status = REC_CREATED };
	char tmp[PATH_MAX], name[REC_ID_LEN + 8], file[PATH_MAX], dst[PATH_MAX], dir[PATH_MAX];
	_cleanup_free_ char *cs = NULL, *ss = NULL;

	snprintf(name, sizeof(name), "%s.new", c->id);
	if (paths_tmp_file(tmp, sizeof(tmp), name) < 0 || paths_container(dst, sizeof(dst), c->id) < 0 ||
	    paths_tmp_dir(dir, sizeof(dir)) < 0)
		return berr_make(err, errno, "container path");
	if (fs_mkdir_p(dir, 0700, err) < 0 || fs_rm_rf(tmp, err) < 0)
		return -1;
	if (mkdir(tmp, 0700) < 0)
		return berr_make(err, errno, "mkdir `%s`", tmp);
	cs = rec_config_dump(c);
	ss = rec_state_dump(&st);
	if (cs == NULL || ss == NULL)
		return berr_make(err, ENOMEM, "container %s", c->id);
	/* Inside our own directory in tmp/, whose path paths.c gave. Nothing sees it before the
	 * rename, so each file needs its data synced but no rename of its own: one fsync of
	 * the directory then makes both names durable before the rename publishes them.
	 * A --rm record is not meant to outlive its run: no fsync at all (four fewer flash
	 * writes per start). A power cut may leave it without its files' contents, and only such
	 * a record can have an empty config.json: rec_repair removes it. */
	int (*write_new)(const char *, const void *, size_t, mode_t, struct berr **) =
		c->auto_remove ? fs_write_new_nosync : fs_write_new;
	if (join(file, sizeof(file), tmp, "config.json", err) < 0 ||
	    write_new(file, cs, strlen(cs), 0600, err) < 0 ||
	    join(file, sizeof(file), tmp, "state.json", err) < 0 ||
	    write_new(file, ss, strlen(ss), 0600, err) < 0 || (!c->auto_remove && fs_fsync_dir(tmp, err) < 0))
		goto fail;
	if (rename(tmp, dst) < 0) {
		berr_make(err, errno, "rename `%s` to `%s`", tmp, dst);
		goto fail;
	}
	return c->auto_remove ? 0 : fs_fsync_parent(dst, err);
fail:
	{
		struct berr *e = NULL;
		if (fs_rm_rf(tmp, &e) < 0)
			berr_free(e);
	}
	return -1;
}

int rec_create(struct rec_config *c, struct berr **err)
{
	struct rec_list l = { 0 };
	char path[PATH_MAX];
	struct stat sb;
	int lock, ret = -1;

	if (check_config(c, err) < 0)
		return -1;
	if (c->name[0] == '/')
		memmove(c->name, c->name + 1, strlen(c->name));
	if (c->name[0] && !rec_name_valid(c->name))
		return berr_usage(err, "Invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] "
				  "are allowed", c->name);
	if (c->id[0] && !rec_id_valid(c->id))
		return berr_usage(err, "`%s` is not a container id", c->id);
	lock = rec_lock(err);
	if (lock < 0)
		return -1;
	/* Names are all a new record needs to know of the others. */
	if (list_load(&l, true, err) < 0)
		goto out;
	if (c->name[0] && name_taken(&l, c->name, NULL)) {
		name_conflict(err, c->name, &l);
		goto out;
	}
	if (c->name[0] == '\0') {
		for (int tries = 0;; tries++) {
			rec_name_random(c->name, sizeof(c->name));
			if (tries >= 32) {
				/* Crowded: a number makes it unique. */
				size_t n = strlen(c->name);
				snprintf(c->name + n, sizeof(c->name) - n, "%u", random_u32() % 100000);
			}
			if (!name_taken(&l, c->name, NULL))
				break;
		}
	}
	if (c->id[0] == '\0') {
		do {
			if (rec_id_new(c->id, err) < 0)
				goto out;
		} while (paths_container(path, sizeof(path), c->id) == 0 && lstat(path, &sb) == 0);
	} else if (paths_container(path, sizeof(path), c->id) == 0 && lstat(path, &sb) == 0) {
		berr_make(err, EEXIST, "container %s", c->id);
		goto out;
	}
	if (c->created == 0)
		c->created = rec_now();
	/* Volumes first: the record never names one that is not there. Under the lock, so a
	 * prune cannot take one between here and the record. */
	for (size_t i = 0; i < c->n_mounts; i++) {
		const struct rec_mount *m = &c->mounts[i];
		if (m->type == REC_MOUNT_VOLUME && vol_ensure(m->name, m->anonymous, err) < 0)
			goto out;
	}
	ret = write_record(c, err);
out:
	if (ret < 0)
		berr_wrap(err, "create container");
	rec_list_free(&l);
	rec_unlock(lock);
	return ret;
}

int rec_rename(const char *ref, const char *new_name, struct berr **err)
{
	struct rec_list l = { 0 };
	char path[PATH_MAX];
	_cleanup_free_ char *s = NULL;
	struct rec_config *c;
	int lock, i, ret = -1;

	if (new_name[0] == '/')
		new_name++;
	if (!rec_name_valid(new_name))
		return berr_usage(err, "Invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] "
				  "are allowed", new_name);
	lock = rec_lock(err);
	if (lock < 0)
		return -1;
	if (list_load(&l, false, err) < 0 || (i = find_in(&l, ref, err)) < 0)
		goto out;
	c = &l.v[i].cfg;
	if (l.v[i].broken && c->name[0] == '\0') {
		berr_make(err, 0, "container %s is broken: %s", c->id, l.v[i].problem);
		goto out;
	}
	if (name_taken(&l, new_name, c->id)) {
		name_conflict(err, new_name, &l);
		goto out;
	}
	memcpy(c->name, new_name, strlen(new_name) + 1);
	s = rec_config_dump(c);
	if (s == NULL || paths_container_file(path, sizeof(path), c->id, "config.json") < 0) {
		berr_make(err, ENOMEM, "rename %s", ref);
		goto out;
	}
	ret = fs_write_atomic(path, s, strlen(s), 0600, err);
out:
	rec_list_free(&l);
	rec_unlock(lock);
	return ret;
}

/* SIGKILL the recorded process, if it is still the one recorded, and wait until it is gone
 * (or a zombie: its parent reaps it). */
static int kill_and_wait(const struct rec *r, struct berr **err)
{
	if (!rec_pid_alive(&r->st))
		return 0;
	if (kill(r->st.pid, SIGKILL) < 0 && errno != ESRCH)
		return berr_make(err, errno, "kill container %.12s (pid %d)", r->cfg.id, (int) r->st.pid);
	for (int ms = 0; ms < KILL_WAIT_MS; ms += 10) {
		struct timespec ts = { 0, 10 * 1000000 };
		if (!rec_pid_alive(&r->st))
			return 0;
		nanosleep(&ts, NULL);
	}
	return berr_make(err, 0, "container %.12s (pid %d) did not die within %d s of SIGKILL",
			 r->cfg.id, (int) r->st.pid, KILL_WAIT_MS / 1000);
}

/* The files of record `cfg`, with the lock held: its directory renamed out of containers/
 * in one step, then deleted, and its files in the run dir. With REC_RM_VOLUMES, the names
 * of its anonymous volumes go to *anon, to be removed once the lock is dropped. */
static int remove_files(const struct rec_config *cfg, unsigned flags, struct rec_removed *out,
			char ***anon, size_t *n_anon, struct berr **err)
{
	char src[PATH_MAX], dst[PATH_MAX], name[REC_ID_LEN + 8];
	struct berr *e = NULL;

	snprintf(name, sizeof(name), "%s.rm", cfg->id);
	if (paths_container(src, sizeof(src), cfg->id) < 0 || paths_tmp_file(dst, sizeof(dst), name) < 0)
		return berr_make(err, errno, "container path");
	/* Out of containers/ in one rename: after a power cut the record is either whole or
	 * gone, and what is left in tmp/ is garbage the GC sweeps. A --rm record that comes
	 * back because the rename was not synced yet is removed by rec_repair. */
	if ((cfg->auto_remove ? fs_move_aside_nosync : fs_move_aside)(src, dst, err) < 0)
		return -1;
	if (out) {
		memcpy(out->id, cfg->id, REC_ID_LEN + 1);
		/* The container's writable layer, as Docker counts it. */
		int fd = open(dst, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		out->size = fd >= 0 ? fs_tree_size_at(fd, "upper") : 0;
		if (fd >= 0)
			close(fd);
	}
	if (flags & REC_RM_VOLUMES) {
		*anon = xcalloc(cfg->n_mounts + 1, sizeof(**anon));
		for (size_t k = 0; k < cfg->n_mounts; k++)
			if (cfg->mounts[k].type == REC_MOUNT_VOLUME && cfg->mounts[k].anonymous)
				(*anon)[(*n_anon)++] = xstrdup(cfg->mounts[k].name);
	}
	if (fs_rm_rf(dst, &e) < 0) {
		log_warn("container %.12s removed, but its files stay in tmp/ until the next prune: %s",
			 cfg->id, e->msg);
		berr_free(e);
	}
	/* Its /etc files in the run dir (see paths_container_run). */
	e = NULL;
	if (paths_container_run(src, sizeof(src), cfg->id, NULL) == 0 && fs_rm_rf(src, &e) < 0) {
		log_warn("container %.12s removed, but not its files in the run dir: %s", cfg->id, e->msg);
		berr_free(e);
	}
	return 0;
}

/* Anonymous volumes after the lock is dropped (vol_remove takes it). One that another
 * container also mounts stays. */
static void remove_volumes(char **anon, size_t n_anon)
{
	for (size_t k = 0; k < n_anon; k++) {
		struct berr *e = NULL;
		if (vol_remove(anon[k], false, NULL, &e) < 0) {
			log_warn("volume %s kept: %s", anon[k], e->msg);
			berr_free(e);
		}
		free(anon[k]);
	}
	free(anon);
}

int rec_remove(const char *ref, unsigned flags, struct rec_removed *out, struct berr **err)
{
	struct rec_list l = { 0 };
	char **anon = NULL;
	size_t n_anon = 0;
	struct rec *r;
	int lock, i, ret = -1;

	lock = rec_lock(err);
	if (lock < 0)
		return -1;
	if (list_load_for(&l, ref, err) < 0 || (i = find_in(&l, ref, err)) < 0)
		goto out;
	r = &l.v[i];
	if (!r->broken && r->st.status == REC_RUNNING) {
		if (!(flags & REC_RM_FORCE)) {
			berr_make(err, 0, "cannot remove running container %.12s: stop it first, or "
				  "use `berth rm -f`", r->cfg.id);
			if (err && *err)
				(*err)->status = EXIT_FAILED;
			goto out;
		}
		if (kill_and_wait(r, err) < 0)
			goto out;
	}
	ret = remove_files(&r->cfg, flags, out, &anon, &n_anon, err);
out:
	rec_list_free(&l);
	rec_unlock(lock);
	remove_volumes(anon, n_anon);
	return ret;
}

int rec_remove_exited(const struct rec_config *cfg, unsigned flags, struct berr **err)
{
	char **anon = NULL;
	size_t n_anon = 0;
	int lock, ret;

	lock = rec_lock(err);
	if (lock < 0)
		return -1;
	ret = remove_files(cfg, flags, NULL, &anon, &n_anon, err);
	/* Gone already: a `berth rm -f` of it while it ran, which dealt with its volumes. */
	if (ret < 0 && err && *err && (*err)->errcode == ENOENT) {
		berr_free(*err);
		*err = NULL;
		ret = 0;
	}
	rec_unlock(lock);
	remove_volumes(anon, n_anon);
	return ret;
}

/* Whether what a power cut left of record `id` goes: a --rm record that no longer runs, or
 * one whose config.json is empty or missing, which only a --rm record's unsynced write can
 * leave (every other record's files are synced before the rename that publishes them). */
static bool repair_drops(int dirfd, const char *id)
{
	struct rec r;
	struct berr *e = NULL;
	struct stat st;
	bool drop;

	if (fstatat(dirfd, "config.json", &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT;
	if (st.st_size == 0)
		return true;
	if (rec_load(id, &r, &e) < 0) {
		berr_free(e);
		rec_free(&r);
		return false; /* broken for another reason: `ps -a` shows why */
	}
	drop = r.cfg.auto_remove && (r.st.status == REC_EXITED || r.stale);
	rec_free(&r);
	return drop;
}

int rec_repair(struct berr **err)
{
	char dir[PATH_MAX];
	struct dirent *de;
	DIR *d;
	char (*drop)[REC_ID_LEN + 1] = NULL;
	size_t n_drop = 0;

	if (paths_containers_dir(dir, sizeof(dir)) < 0)
		return berr_make(err, errno, "containers path");
	d = opendir(dir);
	if (d == NULL)
		return errno == ENOENT ? 0 : berr_make(err, errno, "open `%s`", dir);
	while ((de = readdir(d)) != NULL) {
		struct dirent *fe;
		DIR *rd;
		int fd;

		if (!rec_id_valid(de->d_name))
			continue;
		fd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 || (rd = fdopendir(fd)) == NULL) {
			if (fd >= 0)
				close(fd);
			continue;
		}
		/* Atomic writes cut short: `<file>.tmp.<pid>`. */
		while ((fe = readdir(rd)) != NULL)
			if (strstr(fe->d_name, ".json.tmp.") != NULL)
				unlinkat(dirfd(rd), fe->d_name, 0);
		if (repair_drops(dirfd(rd), de->d_name)) {
			drop = xrealloc(drop, (n_drop + 1) * sizeof(*drop));
			memcpy(drop[n_drop++], de->d_name, REC_ID_LEN + 1);
		}
		closedir(rd);
	}
	closedir(d);
	for (size_t i = 0; i < n_drop; i++) {
		struct berr *e = NULL;
		if (rec_remove(drop[i], REC_RM_FORCE | REC_RM_VOLUMES, NULL, &e) < 0) {
			log_warn("container %.12s (--rm) is left over from a power cut and cannot be "
				 "removed: %s", drop[i], e->msg);
			berr_free(e);
		} else {
			log_warn("removed container %.12s (--rm), left over from a power cut", drop[i]);
		}
	}
	free(drop);
	return 0;
}

int rec_image_roots(char (**hex)[REC_ID_LEN + 1], size_t *n, struct berr **err)
{
	struct rec_list l;

	*hex = NULL;
	*n = 0;
	if (list_load(&l, true, err) < 0)
		return -1;
	*hex = xcalloc(l.n + 1, sizeof(**hex));
	for (size_t i = 0; i < l.n; i++) {
		const char *d = l.v[i].cfg.image_digest;
		if (d && str_has_prefix(d, "sha256:") && rec_id_valid(d + 7))
			memcpy((*hex)[(*n)++], d + 7, REC_ID_LEN + 1);
	}
	rec_list_free(&l);
	return 0;
}
