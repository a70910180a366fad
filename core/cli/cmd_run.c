/* `berth run`: an image's container in the foreground, daemonless, with Docker's options and
 * semantics (Docker run reference). The steps: resolve the image, merge its config with the
 * options, record the container, prepare volumes and the layers, create the cgroup with every
 * limit, start the child in its namespaces, wait, report (137 and OOMKilled for an OOM kill),
 * clean up. */
#include "cli.h"
#include "base/err.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/paths.h"
#include "base/util.h"
#include "image/image.h"
#include "image/mount.h"
#include "image/store.h"
#include "runtime/caps.h"
#include "runtime/cgroup.h"
#include "runtime/container.h"
#include "runtime/record.h"
#include "runtime/rlimit.h"
#include "runtime/seccomp.h"
#include "runtime/spec.h"
#include "runtime/user.h"
#include "runtime/volume.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

enum {
	O_NAME = 1, O_RM, O_ENV, O_ENV_FILE, O_WORKDIR, O_ENTRYPOINT, O_USER, O_HOSTNAME, O_VOLUME,
	O_TMPFS, O_READ_ONLY, O_MEMORY, O_MEMORY_SWAP, O_CPUS, O_CPU_SHARES, O_CPUSET, O_PIDS,
	O_CAP_ADD, O_CAP_DROP, O_PRIVILEGED, O_SECURITY_OPT, O_NETWORK, O_ULIMIT, O_SHM_SIZE,
	O_LABEL, O_RESTART, O_INTERACTIVE, O_TTY, O_DETACH, O_PUBLISH, O_INIT, O_MOUNT,
	O_VOLUMES_FROM, O_ADD_HOST, O_DNS, O_DEVICE, O_STOP_SIGNAL,
};

const struct cli_opt cmd_run_opts[] = {
	{ O_NAME, 0, "name", "string", "Assign a name to the container" },
	{ O_RM, 0, "rm", NULL, "Remove the container (and its anonymous volumes) when it exits" },
	{ O_ENV, 'e', "env", "list", "Set environment variables" },
	{ O_ENV_FILE, 0, "env-file", "file", "Read in a file of environment variables" },
	{ O_WORKDIR, 'w', "workdir", "dir", "Working directory inside the container" },
	{ O_ENTRYPOINT, 0, "entrypoint", "string", "Overwrite the default ENTRYPOINT of the image" },
	{ O_USER, 'u', "user", "string", "Username or UID (format: <name|uid>[:<group|gid>])" },
	{ O_HOSTNAME, 'h', "hostname", "string", "Container host name" },
	{ O_VOLUME, 'v', "volume", "list", "Bind mount a volume (NAME:/path, /host:/path, /path; :ro)" },
	{ O_TMPFS, 0, "tmpfs", "list", "Mount a tmpfs directory (/path[:options])" },
	{ O_READ_ONLY, 0, "read-only", NULL, "Mount the container's root filesystem as read only" },
	{ O_MEMORY, 'm', "memory", "bytes", "Memory limit" },
	{ O_MEMORY_SWAP, 0, "memory-swap", "bytes", "Memory plus swap; -1 for unlimited swap" },
	{ O_CPUS, 0, "cpus", "decimal", "Number of CPUs" },
	{ O_CPU_SHARES, 'c', "cpu-shares", "int", "CPU shares (relative weight)" },
	{ O_CPUSET, 0, "cpuset-cpus", "string", "CPUs in which to allow execution (0-3, 0,1)" },
	{ O_PIDS, 0, "pids-limit", "int", "Tune container pids limit (-1 for unlimited)" },
	{ O_CAP_ADD, 0, "cap-add", "list", "Add Linux capabilities" },
	{ O_CAP_DROP, 0, "cap-drop", "list", "Drop Linux capabilities" },
	{ O_PRIVILEGED, 0, "privileged", NULL, "Give extended privileges to this container" },
	{ O_SECURITY_OPT, 0, "security-opt", "list", "seccomp=unconfined|PROFILE.json, no-new-privileges" },
	{ O_NETWORK, 0, "network", "string", "Network: host or none (default from berth.conf)" },
	{ O_ULIMIT, 0, "ulimit", "ulimit", "Ulimit options (nofile=1024:2048)" },
	{ O_SHM_SIZE, 0, "shm-size", "bytes", "Size of /dev/shm (default 64m)" },
	{ O_LABEL, 'l', "label", "list", "Set meta data on a container" },
	{ O_RESTART, 0, "restart", "string", "Restart policy (recorded; the supervisor acts on it)" },
	{ O_INTERACTIVE, 'i', "interactive", NULL, "Keep STDIN open" },
	{ O_TTY, 't', "tty", NULL, "Allocate a pseudo-TTY (not yet)" },
	{ O_DETACH, 'd', "detach", NULL, "Run in the background (needs the supervisor: not yet)" },
	{ O_PUBLISH, 'p', "publish", "list", "Publish a port (needs bridge networking: not yet)" },
	{ O_INIT, 0, "init", NULL, "Run an init inside the container (not yet)" },
	{ O_MOUNT, 0, "mount", "mount", "Attach a filesystem mount (not yet: use -v or --tmpfs)" },
	{ O_VOLUMES_FROM, 0, "volumes-from", "list", "Mount volumes from a container (not yet)" },
	{ O_ADD_HOST, 0, "add-host", "list", "Add a host-to-IP mapping (host:ip)" },
	{ O_DNS, 0, "dns", "list", "Set custom DNS servers" },
	{ O_DEVICE, 0, "device", "list", "Add a host device (not yet)" },
	{ O_STOP_SIGNAL, 0, "stop-signal", "string", "Signal to stop the container (recorded)" },
	{ 0, 0, NULL, NULL, NULL },
};

#define LIST_MAX 256

struct strlist {
	char *v[LIST_MAX];
	size_t n;
};

struct run_opts {
	const char *name, *workdir, *entrypoint, *user, *hostname, *network, *restart, *stop_signal;
	bool rm, read_only, privileged, nnp, interactive, entrypoint_set;
	struct strlist env, env_files, volumes, tmpfs, cap_add, cap_drop, labels, add_hosts, dns;
	struct cg_limits limits;
	struct rlimit_entry ulimits[RLIMIT_ENTRIES_MAX];
	size_t n_ulimits;
	uint64_t shm_size;
	enum secc_mode secc_mode;
	const char *secc_path;
};

static int add(struct strlist *l, const char *v, const char *opt, struct berr **err)
{
	if (l->n == LIST_MAX)
		return berr_usage(err, "too many `%s` options (at most %d)", opt, LIST_MAX);
	l->v[l->n++] = (char *) v;
	return 0;
}

static int not_yet(const char *what, struct berr **err)
{
	berr_make(err, 0, "%s is not available in this berth yet", what);
	(*err)->status = EXIT_BERTH;
	return -1;
}

static int parse_opts(struct args *a, struct run_opts *o, struct berr **err)
{
	const char *v;
	int id;

	cg_limits_init(&o->limits);
	while ((id = args_next(a, &v, err)) != ARGS_DONE) {
		switch (id) {
		case -1:
			return -1;
		case ARGS_HELP:
			return ARGS_HELP;
		case O_NAME: o->name = v; break;
		case O_RM: o->rm = true; break;
		case O_ENV: if (add(&o->env, v, "--env", err) < 0) return -1; break;
		case O_ENV_FILE: if (add(&o->env_files, v, "--env-file", err) < 0) return -1; break;
		case O_WORKDIR: o->workdir = v; break;
		case O_ENTRYPOINT: o->entrypoint = v; o->entrypoint_set = true; break;
		case O_USER: o->user = v; break;
		case O_HOSTNAME: o->hostname = v; break;
		case O_VOLUME: if (add(&o->volumes, v, "--volume", err) < 0) return -1; break;
		case O_TMPFS: if (add(&o->tmpfs, v, "--tmpfs", err) < 0) return -1; break;
		case O_READ_ONLY: o->read_only = true; break;
		case O_MEMORY: if (cg_parse_memory(v, &o->limits.memory, err) < 0) return -1; break;
		case O_MEMORY_SWAP: if (cg_parse_memory_swap(v, &o->limits.memory_swap, err) < 0) return -1; break;
		case O_CPUS:
			if (cg_parse_cpus(v, &o->limits.cpu_quota_us, &o->limits.cpu_period_us, err) < 0)
				return -1;
			break;
		case O_CPU_SHARES: if (cg_parse_cpu_shares(v, &o->limits.cpu_shares, err) < 0) return -1; break;
		case O_CPUSET:
			if (cg_parse_cpuset(v, o->limits.cpuset_cpus, sizeof(o->limits.cpuset_cpus), err) < 0)
				return -1;
			break;
		case O_PIDS: if (cg_parse_pids_limit(v, &o->limits.pids_max, err) < 0) return -1; break;
		case O_CAP_ADD: if (add(&o->cap_add, v, "--cap-add", err) < 0) return -1; break;
		case O_CAP_DROP: if (add(&o->cap_drop, v, "--cap-drop", err) < 0) return -1; break;
		case O_PRIVILEGED: o->privileged = true; break;
		case O_SECURITY_OPT:
			if (strncmp(v, "seccomp=", 8) == 0 || strncmp(v, "seccomp:", 8) == 0) {
				if (secc_parse_opt(v + 8, &o->secc_mode, &o->secc_path, err) < 0)
					return -1;
			} else if (strcmp(v, "no-new-privileges") == 0 || strcmp(v, "no-new-privileges=true") == 0 ||
				   strcmp(v, "no-new-privileges:true") == 0) {
				o->nnp = true;
			} else {
				return berr_usage(err, "--security-opt `%s`: use seccomp=unconfined, "
						  "seccomp=PROFILE.json or no-new-privileges", v);
			}
			break;
		case O_NETWORK: o->network = v; break;
		case O_ULIMIT: {
			struct rlimit_entry e;
			if (rlimit_parse(v, &e, err) < 0)
				return -1;
			rlimit_set(o->ulimits, &o->n_ulimits, &e);
			break;
		}
		case O_SHM_SIZE:
			if (parse_size(v, &o->shm_size) < 0 || o->shm_size == 0)
				return berr_usage(err, "--shm-size `%s`: use a size such as 64m", v);
			break;
		case O_LABEL: if (add(&o->labels, v, "--label", err) < 0) return -1; break;
		case O_RESTART: o->restart = v; break;
		case O_INTERACTIVE: o->interactive = true; break;
		case O_STOP_SIGNAL: o->stop_signal = v; break;
		case O_ADD_HOST: if (add(&o->add_hosts, v, "--add-host", err) < 0) return -1; break;
		case O_DNS: if (add(&o->dns, v, "--dns", err) < 0) return -1; break;
		case O_TTY: return not_yet("-t (a pseudo-TTY)", err);
		case O_DETACH: return not_yet("-d (detached containers need the supervisor)", err);
		case O_PUBLISH: return not_yet("-p (published ports need bridge networking)", err);
		case O_INIT: return not_yet("--init", err);
		case O_MOUNT: return not_yet("--mount (use -v or --tmpfs)", err);
		case O_VOLUMES_FROM: return not_yet("--volumes-from", err);
		case O_DEVICE: return not_yet("--device", err);
		}
	}
	return 0;
}

/* ---- the child's last step ---- */

struct exec_data {
	struct spec_process *proc;
	uint64_t caps;
	const struct secc_filter *filter;
	bool nnp;
	const struct rlimit_entry *rl;
	size_t n_rl;
};

static int exec_step(const struct rt_config *c, void *data, int *status, struct berr **err)
{
	struct exec_data *d = data;
	struct user_ids ids = { 0 };
	struct caps_sets sets;
	char *path = NULL;
	int rootfd;

	(void) c;
	*status = EXIT_BERTH;
	rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return berr_make(err, errno, "open the container's root");
	if (user_resolve(rootfd, d->proc->user ? d->proc->user : "", NULL, 0, &ids, err) < 0)
		return -1;
	if (spec_getenv(d->proc, "HOME") == NULL && spec_env_default(d->proc, "HOME", ids.home, err) < 0)
		return -1;
	if (spec_lookup_path(rootfd, d->proc->argv[0], spec_getenv(d->proc, "PATH"), d->proc->cwd, &path, err) < 0) {
		*status = (*err)->status == EXIT_NOT_FOUND || (*err)->status == EXIT_CANNOT_INVOKE ?
				  (*err)->status : EXIT_BERTH;
		return -1;
	}
	if (rlimit_apply(d->rl, d->n_rl, err) < 0)
		return -1;
	caps_sets_for_user(d->caps, ids.uid, &sets);
	/* Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: do it before the drop.
	 * With it, as late as possible. The default profile allows what follows. */
	if (!d->nnp && secc_apply(d->filter, err) < 0)
		return -1;
	if (caps_apply(&sets, &ids, err) < 0)
		return -1;
	if (d->nnp && (caps_set_no_new_privs(err) < 0 || secc_apply(d->filter, err) < 0))
		return -1;
	execve(path, d->proc->argv, d->proc->env);
	*status = errno == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_INVOKE;
	return berr_make(err, errno, "exec `%s`", path);
}

/* ---- host side ---- */

/* Files the container sees as /etc/hosts, /etc/resolv.conf and /etc/hostname. */
static int write_etc_files(const char *id, const char *hostname, bool host_net, const struct run_opts *o,
			   struct berr **err)
{
	char path[PATH_MAX], *buf = NULL;
	size_t len = 0;
	FILE *f;

	f = open_memstream(&buf, &len);
	if (f == NULL)
		return berr_make(err, errno, "hosts file");
	fprintf(f, "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n");
	if (host_net) {
		char *host = NULL;
		size_t hl = 0;
		struct berr *e = NULL;
		if (fs_read_file("/etc/hosts", 1u << 20, &host, &hl, &e) == 0)
			fwrite(host, 1, hl, f);
		berr_free(e);
		free(host);
	} else {
		fprintf(f, "127.0.0.1\t%s\n", hostname);
	}
	for (size_t i = 0; i < o->add_hosts.n; i++) {
		const char *h = o->add_hosts.v[i], *sep = strchr(h, ':');
		if (sep == NULL || sep == h || sep[1] == '\0') {
			fclose(f);
			free(buf);
			return berr_usage(err, "--add-host `%s`: use HOST:IP", h);
		}
		fprintf(f, "%s\t%.*s\n", sep + 1, (int) (sep - h), h);
	}
	fclose(f);
	if (paths_container_file(path, sizeof(path), id, "hosts") < 0) {
		free(buf);
		return berr_make(err, errno, "hosts path");
	}
	if (fs_write_atomic(path, buf, len, 0644, err) < 0) {
		free(buf);
		return -1;
	}
	free(buf);
	buf = NULL;
	if (o->dns.n) {
		f = open_memstream(&buf, &len);
		if (f == NULL)
			return berr_make(err, errno, "resolv.conf");
		for (size_t i = 0; i < o->dns.n; i++)
			fprintf(f, "nameserver %s\n", o->dns.v[i]);
		fclose(f);
	} else {
		struct berr *e = NULL;
		if (fs_read_file("/etc/resolv.conf", 1u << 20, &buf, &len, &e) < 0) {
			berr_free(e);
			buf = strdup("");
			len = 0;
		}
	}
	if (paths_container_file(path, sizeof(path), id, "resolv.conf") < 0) {
		free(buf);
		return berr_make(err, errno, "resolv.conf path");
	}
	if (fs_write_atomic(path, buf ? buf : "", len, 0644, err) < 0) {
		free(buf);
		return -1;
	}
	free(buf);
	if (paths_container_file(path, sizeof(path), id, "hostname") < 0)
		return berr_make(err, errno, "hostname path");
	{
		char line[300];
		int n = snprintf(line, sizeof(line), "%s\n", hostname);
		return fs_write_atomic(path, line, (size_t) n, 0644, err);
	}
}

/* -v specs and the image's VOLUMEs into record mounts. */
static int plan_mounts(const struct run_opts *o, const struct img *img, struct rec_config *rc,
		       struct berr **err)
{
	size_t cap = o->volumes.n + o->tmpfs.n + img->cfg.n_volumes;

	rc->mounts = xcalloc(cap ? cap : 1, sizeof(*rc->mounts));
	for (size_t i = 0; i < o->volumes.n; i++) {
		char *spec = xstrdup(o->volumes.v[i]), *parts[3] = { NULL }, *p = spec;
		struct rec_mount *m = &rc->mounts[rc->n_mounts];
		size_t np = 0;

		while (np < 3 && p) {
			parts[np++] = p;
			p = strchr(p, ':');
			if (p)
				*p++ = '\0';
		}
		if (p != NULL || parts[0][0] == '\0') {
			free(spec);
			return berr_usage(err, "--volume `%s`: use NAME:/path, /host:/path or /path, with :ro or :rw",
					  o->volumes.v[i]);
		}
		if (np == 1) { /* /path: an anonymous volume */
			char id[REC_ID_LEN + 1];
			if (rec_id_new(id, err) < 0) {
				free(spec);
				return -1;
			}
			m->type = REC_MOUNT_VOLUME;
			m->anonymous = true;
			m->name = xstrdup(id);
			m->destination = xstrdup(parts[0]);
		} else {
			if (np == 3 && strcmp(parts[2], "ro") != 0 && strcmp(parts[2], "rw") != 0) {
				free(spec);
				return berr_usage(err, "--volume `%s`: the mode must be ro or rw", o->volumes.v[i]);
			}
			m->readonly = np == 3 && strcmp(parts[2], "ro") == 0;
			m->destination = xstrdup(parts[1]);
			if (parts[0][0] == '/') {
				m->type = REC_MOUNT_BIND;
				m->source = xstrdup(parts[0]);
			} else {
				if (!vol_name_valid(parts[0])) {
					free(spec);
					return berr_usage(err, "--volume `%s`: `%s` is not a valid volume name "
							  "(a host path must be absolute)", o->volumes.v[i], parts[0]);
				}
				m->type = REC_MOUNT_VOLUME;
				m->name = xstrdup(parts[0]);
			}
		}
		free(spec);
		if (m->destination[0] != '/')
			return berr_usage(err, "--volume `%s`: the container path must be absolute", o->volumes.v[i]);
		rc->n_mounts++;
	}
	for (size_t i = 0; i < o->tmpfs.n; i++) {
		struct rec_mount *m = &rc->mounts[rc->n_mounts++];
		const char *colon = strchr(o->tmpfs.v[i], ':');
		m->type = REC_MOUNT_TMPFS;
		m->destination = colon ? strndup(o->tmpfs.v[i], (size_t) (colon - o->tmpfs.v[i])) : xstrdup(o->tmpfs.v[i]);
		m->options = colon ? xstrdup(colon + 1) : NULL;
		if (m->destination == NULL || m->destination[0] != '/')
			return berr_usage(err, "--tmpfs `%s`: the path must be absolute", o->tmpfs.v[i]);
	}
	/* The image's VOLUMEs not covered by an option get anonymous volumes, as Docker does. */
	for (size_t i = 0; i < img->cfg.n_volumes; i++) {
		bool covered = false;
		for (size_t j = 0; j < rc->n_mounts; j++)
			if (strcmp(rc->mounts[j].destination, img->cfg.volumes[i]) == 0)
				covered = true;
		if (!covered) {
			struct rec_mount *m = &rc->mounts[rc->n_mounts];
			char id[REC_ID_LEN + 1];
			if (rec_id_new(id, err) < 0)
				return -1;
			m->type = REC_MOUNT_VOLUME;
			m->anonymous = true;
			m->name = xstrdup(id);
			m->destination = xstrdup(img->cfg.volumes[i]);
			rc->n_mounts++;
		}
	}
	return 0;
}

static void strv_set(struct rec_strv *dst, char *const *v, size_t n, bool set)
{
	if (!set)
		return;
	dst->v = xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		dst->v[i] = xstrdup(v[i]);
	dst->n = n;
}

/* Make volumes exist and, the first time, copy the image's content into them. The image is
 * mounted read-only for that on a scratch dir (only when a volume needs it). */
static int prepare_volumes(const struct rec_config *rc, const struct img *img,
			   struct rt_mount *out, struct berr **err)
{
	char scratch[PATH_MAX];
	const char **hexes = NULL;
	int imgfd = -1, ret = -1;
	bool need_image = false;

	for (size_t i = 0; i < rc->n_mounts; i++)
		if (rc->mounts[i].type == REC_MOUNT_VOLUME)
			need_image = true;
	if (need_image) {
		if (paths_container_file(scratch, sizeof(scratch), rc->id, "image") < 0)
			return berr_make(err, errno, "container path");
		if (fs_mkdir_p(scratch, 0700, err) < 0)
			return -1;
		hexes = xcalloc(img->n_layers, sizeof(*hexes));
		for (size_t i = 0; i < img->n_layers; i++)
			hexes[i] = img->chain_ids[i].hex;
		if (overlay_mount(hexes, img->n_layers, NULL, NULL, scratch, err) < 0)
			goto out;
		imgfd = open(scratch, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (imgfd < 0) {
			berr_make(err, errno, "open `%s`", scratch);
			goto out;
		}
	}
	for (size_t i = 0; i < rc->n_mounts; i++) {
		const struct rec_mount *m = &rc->mounts[i];
		struct rt_mount *r = &out[i];
		char path[PATH_MAX];

		r->target = m->destination;
		r->readonly = m->readonly;
		switch (m->type) {
		case REC_MOUNT_TMPFS:
			r->kind = RT_MOUNT_TMPFS;
			r->options = m->options;
			break;
		case REC_MOUNT_BIND:
			r->kind = RT_MOUNT_BIND;
			r->source = m->source;
			/* Docker's -v makes a missing host directory. */
			if (access(m->source, F_OK) < 0 && fs_mkdir_p(m->source, 0755, err) < 0)
				goto out;
			break;
		case REC_MOUNT_VOLUME:
			r->kind = RT_MOUNT_BIND;
			if (vol_ensure(m->name, m->anonymous, err) < 0 ||
			    vol_populate(m->name, imgfd, m->destination, err) < 0 ||
			    vol_path(m->name, path, sizeof(path), err) < 0)
				goto out;
			r->source = xstrdup(path);
			break;
		}
	}
	ret = 0;
out:
	if (imgfd >= 0)
		close(imgfd);
	if (need_image) {
		umount2(scratch, MNT_DETACH);
		rmdir(scratch);
	}
	free(hexes);
	return ret;
}

/* Layer mounts stay while any container runs (a container's own overlay lives in its mount
 * namespace, where the host cannot see it); when none runs, they are all released, so
 * nothing of berth's stays mounted. */
static void release_layers(const char *self)
{
	struct rec_list l = { 0 };
	struct berr *e = NULL;
	bool busy = false;

	if (rec_list_load(&l, &e) < 0) {
		berr_free(e);
		return;
	}
	for (size_t i = 0; i < l.n; i++)
		if (l.v[i].st.status == REC_RUNNING && strcmp(l.v[i].cfg.id, self) != 0)
			busy = true;
	rec_list_free(&l);
	if (!busy && layer_release_unused(&e) < 0) {
		log_warn("%s", e->msg);
		berr_free(e);
	}
}

static pid_t child_pid;

static void forward(int sig)
{
	if (child_pid > 0)
		kill(child_pid, sig);
}

int cmd_run(struct cli_ctx *ctx, int argc, char **argv)
{
	struct run_opts o = { 0 };
	struct berr *err = NULL;
	struct store_refs refs = { 0 };
	struct img_match match;
	struct img img = { 0 };
	struct spec_process proc = { 0 };
	struct rec_config rc = { 0 };
	struct rec_state st = { 0 };
	struct cg_system sys;
	struct cg_handle cgh = { 0 };
	struct secc_filter filter = { 0 };
	struct exec_data xd;
	struct rt_config c = { .console_fd = -1, .stdio = { -1, -1, -1 } };
	struct rt_child ch = { -1, -1 };
	struct rt_mount *rtm = NULL;
	char rootfs[PATH_MAX], upper[PATH_MAX], work[PATH_MAX], hosts[PATH_MAX],
		resolv[PATH_MAX], hostname_file[PATH_MAX], opts[OVERLAY_OPTS_MAX], hostname[64];
	const char **hexes = NULL;
	bool host_net, created = false, cg_made = false, oom = false;
	int ret = EXIT_BERTH, status = EXIT_BERTH, ws, devnull = -1;
	uint64_t caps = 0;
	struct args a;

	args_init(&a, cmd_run_opts, argc, argv, "berth run");
	ret = parse_opts(&a, &o, &err);
	if (ret == ARGS_HELP) {
		command_usage(command_find("run"), stdout);
		return EXIT_OK;
	}
	if (ret < 0)
		goto fail;
	if (a.i >= argc) {
		berr_usage(&err, "`berth run` needs an image; see `berth run --help`");
		goto fail;
	}
	o.network = o.network ? o.network : ctx->cfg.daemon.network;
	if (strcmp(o.network, "host") != 0 && strcmp(o.network, "none") != 0) {
		if (strcmp(o.network, "bridge") == 0 || strcmp(o.network, "default") == 0)
			not_yet("--network bridge", &err);
		else
			berr_usage(&err, "--network `%s`: use host or none", o.network);
		goto fail;
	}
	host_net = strcmp(o.network, "host") == 0;

	/* The image and what runs in it. */
	if ((ret = cli_load_refs(&refs)) != EXIT_OK)
		return ret;
	if (img_resolve(&refs, argv[a.i], ctx->cfg.daemon.default_registry, &match, &err) < 0 ||
	    img_open(&match.top, &img, &err) < 0) {
		/* Docker says "Unable to find image" and exits 125 when it cannot get one. */
		if (err)
			err->status = EXIT_BERTH;
		goto fail;
	}
	{
		struct spec_run_opts so = {
			.args = argv + a.i + 1, .n_args = (size_t) (argc - a.i - 1),
			.entrypoint = o.entrypoint_set ? o.entrypoint : NULL,
			.env = o.env.v, .n_env = o.env.n, .env_files = o.env_files.v, .n_env_files = o.env_files.n,
			.workdir = o.workdir, .user = o.user, .hostname = NULL, .tty = false,
		};
		if (rec_id_new(rc.id, &err) < 0)
			goto fail;
		snprintf(hostname, sizeof(hostname), "%.63s", o.hostname ? o.hostname : rc.id);
		if (!o.hostname)
			hostname[REC_SHORT_ID_LEN] = '\0';
		so.hostname = hostname;
		if (spec_process_build(&img.cfg, &so, &proc, &err) < 0)
			goto fail;
	}
	{
		struct caps_opts co = { o.cap_add.v, o.cap_add.n, o.cap_drop.v, o.cap_drop.n, o.privileged };
		if (caps_compute(&co, caps_kernel_last(), &caps, &err) < 0)
			goto fail;
		if (secc_filter_for(o.privileged && o.secc_mode == SECC_MODE_DEFAULT ? SECC_MODE_UNCONFINED : o.secc_mode,
				    o.secc_path, caps, &filter, &err) < 0)
			goto fail;
	}
	if (cg_detect(&sys, NULL, &err) < 0)
		goto fail;

	/* The record. */
	if (o.name)
		snprintf(rc.name, sizeof(rc.name), "%s", o.name[0] == '/' ? o.name + 1 : o.name);
	rc.image = xstrdup(argv[a.i]);
	{
		char ds[DIGEST_STR_SIZE];
		rc.image_id = xstrdup(digest_format(&img.id, ds));
		rc.image_digest = xstrdup(digest_format(&img.top, ds));
	}
	strv_set(&rc.argv, proc.argv, proc.argc, true);
	strv_set(&rc.entrypoint, img.cfg.entrypoint, img.cfg.n_entrypoint, img.cfg.has_entrypoint && !o.entrypoint_set);
	strv_set(&rc.cmd, img.cfg.cmd, img.cfg.n_cmd, img.cfg.has_cmd && a.i + 1 >= argc);
	strv_set(&rc.env, proc.env, proc.n_env, true);
	rc.workdir = xstrdup(proc.cwd);
	rc.user = xstrdup(proc.user ? proc.user : "");
	rc.hostname = xstrdup(hostname);
	rc.memory = o.limits.memory > 0 ? o.limits.memory : 0;
	rc.nano_cpus = o.limits.cpu_quota_us > 0 ? o.limits.cpu_quota_us * 1000000000 /
					 (o.limits.cpu_period_us ? o.limits.cpu_period_us : 100000) : 0;
	rc.pids_limit = o.limits.pids_max > 0 ? o.limits.pids_max : 0;
	if (o.restart && rec_restart_parse(o.restart, &rc.restart, &rc.restart_max, &err) < 0)
		goto fail;
	if (o.labels.n) {
		rc.labels = xcalloc(o.labels.n, sizeof(*rc.labels));
		for (size_t i = 0; i < o.labels.n; i++) {
			const char *eq = strchr(o.labels.v[i], '=');
			rc.labels[i].key = eq ? strndup(o.labels.v[i], (size_t) (eq - o.labels.v[i])) : xstrdup(o.labels.v[i]);
			rc.labels[i].value = xstrdup(eq ? eq + 1 : "");
		}
		rc.n_labels = o.labels.n;
	}
	if (plan_mounts(&o, &img, &rc, &err) < 0)
		goto fail;
	if (rec_create(&rc, &err) < 0)
		goto fail;
	created = true;

	/* On flash: upper and work dirs, the /etc files; the root is a mount point only. */
	if (paths_container_file(rootfs, sizeof(rootfs), rc.id, "rootfs") < 0 ||
	    paths_container_file(upper, sizeof(upper), rc.id, "upper") < 0 ||
	    paths_container_file(work, sizeof(work), rc.id, "work") < 0 ||
	    paths_container_file(hosts, sizeof(hosts), rc.id, "hosts") < 0 ||
	    paths_container_file(resolv, sizeof(resolv), rc.id, "resolv.conf") < 0 ||
	    paths_container_file(hostname_file, sizeof(hostname_file), rc.id, "hostname") < 0) {
		berr_make(&err, errno, "container paths");
		goto fail;
	}
	if (fs_mkdir_p(rootfs, 0700, &err) < 0 || fs_mkdir_p(upper, 0755, &err) < 0 ||
	    fs_mkdir_p(work, 0700, &err) < 0 || write_etc_files(rc.id, hostname, host_net, &o, &err) < 0)
		goto fail;
	rtm = xcalloc(rc.n_mounts ? rc.n_mounts : 1, sizeof(*rtm));
	if (prepare_volumes(&rc, &img, rtm, &err) < 0)
		goto fail;
	hexes = xcalloc(img.n_layers, sizeof(*hexes));
	for (size_t i = 0; i < img.n_layers; i++)
		hexes[i] = img.chain_ids[i].hex;
	if (overlay_options(hexes, img.n_layers, upper, work, opts, sizeof(opts), &err) < 0)
		goto fail;
	if (cg_create(&sys, rc.id, &o.limits, &cgh, &err) < 0) {
		err->status = EXIT_BERTH;
		goto fail;
	}
	cg_made = true;

	/* Start. Without -i, stdin is /dev/null, as Docker gives a container not attached. */
	if (!o.interactive) {
		devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
		c.stdio[0] = devnull;
	}
	c.rootfs = rootfs;
	c.overlay_opts = opts;
	c.hostname = hostname;
	c.new_net = !host_net;
	c.readonly_rootfs = o.read_only;
	c.privileged = o.privileged;
	c.mounts = rtm;
	c.n_mounts = rc.n_mounts;
	c.hosts_file = hosts;
	c.resolv_file = resolv;
	c.hostname_file = hostname_file;
	c.shm_size = o.shm_size;
	c.cwd = proc.cwd;
	c.argv = proc.argv;
	c.envp = proc.env;
	xd = (struct exec_data){ &proc, caps, &filter, o.nnp, o.ulimits, o.n_ulimits };
	c.exec_fn = exec_step;
	c.exec_data = &xd;
	if (rt_spawn(&c, &ch, &err) < 0)
		goto fail;
	if (cg_enter(&cgh, ch.pid, &err) < 0) {
		rt_abort(&ch);
		goto fail;
	}
	child_pid = ch.pid;
	signal(SIGINT, forward);
	signal(SIGTERM, forward);
	signal(SIGHUP, forward);
	signal(SIGQUIT, forward);
	signal(SIGUSR1, forward);
	signal(SIGUSR2, forward);
	if (rt_release(&ch, &status, &err) < 0) {
		st.status = REC_EXITED;
		st.exit_code = status;
		st.error = err && err->msg ? xstrdup(err->msg) : NULL;
		goto done_fail;
	}
	if (rec_state_set_running(&st, ch.pid, &err) < 0 || rec_save_state(rc.id, &st, &err) < 0) {
		log_warn("%s", err->msg); /* the container runs anyway; ps will show it exited */
		berr_free(err);
		err = NULL;
	}
	while (waitpid(ch.pid, &ws, 0) < 0)
		if (errno != EINTR) {
			ws = 0;
			break;
		}
	child_pid = 0;
	status = WIFSIGNALED(ws) ? 128 + WTERMSIG(ws) : WEXITSTATUS(ws);
	{
		struct berr *e = NULL;
		if (cg_oom_killed(&cgh, &oom, &e) < 0)
			berr_free(e);
	}
	if (oom)
		status = 137;
	st.status = REC_EXITED;
	st.exit_code = status;
	st.oom_killed = oom;
	st.pid = 0;
	st.finished = rec_now();
	ret = status;
	goto cleanup;

done_fail:
	ret = berr_report(err);
	ret = status ? status : ret;
	err = NULL;
	goto cleanup;
fail:
	ret = err ? berr_report(err) : EXIT_BERTH;
	err = NULL;
cleanup:
	if (cg_made) {
		struct berr *e = NULL;
		if (cg_destroy(&cgh, &e) < 0) {
			log_warn("%s", e->msg);
			berr_free(e);
		}
	}
	if (created) {
		struct berr *e = NULL;
		if (o.rm) {
			if (rec_remove(rc.id, REC_RM_FORCE | REC_RM_VOLUMES, NULL, &e) < 0) {
				log_warn("%s", e->msg);
				berr_free(e);
			}
		} else if (st.status == REC_EXITED && rec_save_state(rc.id, &st, &e) < 0) {
			log_warn("%s", e->msg);
			berr_free(e);
		}
	}
	if (hexes)
		release_layers(rc.id);
	if (devnull >= 0)
		close(devnull);
	free(hexes);
	if (rtm) {
		for (size_t i = 0; i < rc.n_mounts; i++)
			if (rc.mounts[i].type == REC_MOUNT_VOLUME)
				free((char *) rtm[i].source);
		free(rtm);
	}
	secc_filter_free(&filter);
	rec_state_free(&st);
	rec_config_free(&rc);
	spec_process_free(&proc);
	img_close(&img);
	store_refs_free(&refs);
	return ret;
}
