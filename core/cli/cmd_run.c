/* `berth run`: an image's container in the foreground, daemonless, with Docker's options and
 * semantics (Docker run reference). The steps: resolve the image, merge its config with the
 * options, record the container, prepare volumes and the layers, create the cgroup with every
 * limit, start the child in its namespaces, wait, report (137 and OOMKilled for an OOM kill),
 * clean up. */
#include "cli.h"
#include "client.h"
#include "run.h"
#include "base/err.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/paths.h"
#include "base/signame.h"
#include "base/util.h"
#include "image/image.h"
#include "image/mount.h"
#include "image/store.h"
#include "runtime/caps.h"
#include "runtime/cgroup.h"
#include "runtime/container.h"
#include "runtime/device.h"
#include "runtime/proxy.h"
#include "runtime/record.h"
#include "runtime/rlimit.h"
#include "runtime/seccomp.h"
#include "runtime/spec.h"
#include "runtime/tty.h"
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
#include <sys/prctl.h>
#include <linux/capability.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

enum {
	O_NAME = 1, O_RM, O_ENV, O_ENV_FILE, O_WORKDIR, O_ENTRYPOINT, O_USER, O_HOSTNAME, O_VOLUME,
	O_TMPFS, O_READ_ONLY, O_MEMORY, O_MEMORY_SWAP, O_CPUS, O_CPU_SHARES, O_CPUSET, O_PIDS,
	O_CAP_ADD, O_CAP_DROP, O_PRIVILEGED, O_SECURITY_OPT, O_NETWORK, O_ULIMIT, O_SHM_SIZE,
	O_LABEL, O_RESTART, O_INTERACTIVE, O_TTY, O_DETACH, O_PUBLISH, O_INIT, O_MOUNT,
	O_VOLUMES_FROM, O_ADD_HOST, O_DNS, O_DEVICE, O_STOP_SIGNAL, O_STOP_TIMEOUT,
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
	{ O_RESTART, 0, "restart", "string", "Restart policy (no, on-failure[:N], always, unless-stopped)" },
	{ O_INTERACTIVE, 'i', "interactive", NULL, "Keep STDIN open" },
	{ O_TTY, 't', "tty", NULL, "Allocate a pseudo-TTY" },
	{ O_DETACH, 'd', "detach", NULL, "Run in the background, under the supervisor" },
	{ O_PUBLISH, 'p', "publish", "list", "Publish a container's port to the host (HOST_PORT:CONTAINER_PORT)" },
	{ O_INIT, 0, "init", NULL, "Run an init inside the container that forwards signals and reaps processes" },
	{ O_MOUNT, 0, "mount", "mount", "Attach a filesystem mount (type=bind|volume|tmpfs,...)" },
	{ O_VOLUMES_FROM, 0, "volumes-from", "list", "Mount volumes from a container (NAME[:ro|rw])" },
	{ O_ADD_HOST, 0, "add-host", "list", "Add a host-to-IP mapping (host:ip)" },
	{ O_DNS, 0, "dns", "list", "Set custom DNS servers" },
	{ O_DEVICE, 0, "device", "list", "Add a host device (HOST[:CONTAINER][:rwm])" },
	{ O_STOP_SIGNAL, 0, "stop-signal", "string", "Signal to stop the container" },
	{ O_STOP_TIMEOUT, 0, "stop-timeout", "int", "Seconds to wait for the container to stop before killing it" },
	{ 0, 0, NULL, NULL, NULL },
};

#define LIST_MAX 256

struct strlist {
	char *v[LIST_MAX];
	size_t n;
};

struct run_opts {
	const char *name, *workdir, *entrypoint, *user, *hostname, *network, *restart, *stop_signal;
	bool rm, read_only, privileged, nnp, nnp_set, interactive, tty, init, entrypoint_set, detach;
	int stop_signal_nr;   /* 0: the image's, else SIGTERM */
	int stop_timeout;     /* seconds; -1: the default */
	struct strlist env, env_files, volumes, tmpfs, cap_add, cap_drop, labels, add_hosts, dns, mounts,
		volumes_from;
	struct cg_limits limits;
	struct rlimit_entry ulimits[RLIMIT_ENTRIES_MAX];
	size_t n_ulimits;
	uint64_t shm_size;
	enum secc_mode secc_mode;
	const char *secc_path;
	struct port_map ports[PROXY_PORTS_MAX];
	size_t n_ports;
	struct dev_node *devices;     /* --device, read from the host when parsed */
	size_t n_devices;
	struct cg_device *cg_devices; /* their cgroup rules, as launch() gives them */
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

/* A value written as one field of /etc/hosts or resolv.conf: no blank or control character
 * may start another field or line. */
static bool one_word(const char *v)
{
	for (; *v; v++)
		if ((unsigned char) *v <= ' ' || *v == 0x7f)
			return false;
	return true;
}

static int parse_opts(struct args *a, struct run_opts *o, struct berr **err)
{
	const char *v;
	int id;

	cg_limits_init(&o->limits);
	o->stop_timeout = -1;
	/* no_new_privs is on unless asked off (or --privileged): a setuid binary in an image
	 * must not gain what the container was denied. Docker leaves it off by default; on a
	 * device, safety wins. `--security-opt no-new-privileges=false` restores Docker's way. */
	o->nnp = true;
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
		case O_HOSTNAME:
			if (*v == '\0' || strlen(v) > 63 || !one_word(v))
				return berr_usage(err, "--hostname `%s`: use 1 to 63 characters, no blanks", v);
			o->hostname = v;
			break;
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
				o->nnp_set = true;
			} else if (strcmp(v, "no-new-privileges=false") == 0 || strcmp(v, "no-new-privileges:false") == 0) {
				o->nnp = false;
				o->nnp_set = true;
			} else {
				return berr_usage(err, "--security-opt `%s`: use seccomp=unconfined, "
						  "seccomp=PROFILE.json or no-new-privileges[=false]", v);
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
		case O_TTY: o->tty = true; break;
		case O_INIT: o->init = true; break;
		case O_STOP_SIGNAL:
			o->stop_signal = v;
			if ((o->stop_signal_nr = sig_parse(v)) < 0)
				return berr_usage(err, "--stop-signal `%s`: use a signal name or number, "
						  "such as SIGTERM or 15", v);
			break;
		case O_STOP_TIMEOUT: {
			char *end;
			long t = strtol(v, &end, 10);
			if (*v == '\0' || *end != '\0' || t < -1 || t > 1000000)
				return berr_usage(err, "--stop-timeout `%s`: use a number of seconds", v);
			o->stop_timeout = (int) t;
			break;
		}
		case O_ADD_HOST: if (add(&o->add_hosts, v, "--add-host", err) < 0) return -1; break;
		case O_DNS: if (add(&o->dns, v, "--dns", err) < 0) return -1; break;
		case O_DETACH: o->detach = true; break;
		case O_PUBLISH:
			if (o->n_ports == PROXY_PORTS_MAX)
				return berr_usage(err, "too many `-p` options (at most %d)", PROXY_PORTS_MAX);
			if (port_map_parse(v, &o->ports[o->n_ports], err) < 0)
				return -1;
			o->n_ports++;
			break;
		case O_MOUNT: if (add(&o->mounts, v, "--mount", err) < 0) return -1; break;
		case O_VOLUMES_FROM: if (add(&o->volumes_from, v, "--volumes-from", err) < 0) return -1; break;
		case O_DEVICE:
			if (dev_expand(v, &o->devices, &o->n_devices, CG_DEVICES_MAX, err) < 0)
				return -1;
			break;
		}
	}
	if (o->privileged && !o->nnp_set)
		o->nnp = false;
	if (o->rm && o->restart && strcmp(o->restart, "no") != 0)
		return berr_usage(err, "conflicting options: --restart and --rm");
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
	char *path = NULL, exe[PATH_MAX];
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
	/* This process shares berth's memory until the exec (rt_spawn): what it allocated goes
	 * back first, or a supervisor restarting a container would grow by it at each start. */
	user_ids_free(&ids);
	if (str_copy(exe, sizeof(exe), path) < 0) {
		free(path);
		return berr_make(err, ENAMETOOLONG, "exec: path too long");
	}
	free(path);
	execve(exe, d->proc->argv, d->proc->env);
	*status = errno == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_INVOKE;
	return berr_make(err, errno, "exec `%s`", exe);
}

/* ---- host side ---- */

/* --add-host and --dns values, checked when the container is created. */
static int check_etc_opts(const struct run_opts *o, struct berr **err)
{
	for (size_t i = 0; i < o->add_hosts.n; i++) {
		const char *h = o->add_hosts.v[i], *sep = strchr(h, ':');
		if (sep == NULL || sep == h || sep[1] == '\0' || !one_word(h))
			return berr_usage(err, "--add-host `%s`: use HOST:IP", h);
	}
	for (size_t i = 0; i < o->dns.n; i++)
		if (!one_word(o->dns.v[i]))
			return berr_usage(err, "--dns `%s`: use an IP address", o->dns.v[i]);
	return 0;
}

/* Files the container sees as /etc/hosts, /etc/resolv.conf and /etc/hostname. They are made
 * afresh before every start (from the record, the options and the host's files, as Docker
 * does), so they live in the run dir, in RAM: no flash write per start, and nothing a power
 * cut could leave half-made. */
struct etc_files {
	char dir[PATH_MAX];       /* <run-dir>/containers/<id> */
	char hosts[PATH_MAX], resolv[PATH_MAX], hostname[PATH_MAX];
	char init[PATH_MAX];      /* <run-dir>/containers/<id>/init: see make_init_layer */
};

/* The mount points of /etc/hosts, resolv.conf and hostname (and of /proc, /dev and /sys
 * where the image lacks them), in a lower layer of their own above the image's, in the run
 * dir. The files bound over them then need nothing made in the
 * container's writable layer: no copy-up of /etc and no three files on flash at each start,
 * to be written, then removed again by `--rm`. An /etc that the image makes something other
 * than a directory (a symlink) keeps being followed inside the root, as before: no layer
 * then. The layer's /etc takes the image's mode, owner and times, so the container sees the
 * image's. Returns 1 with the layer made, 0 without one. */
static int make_init_layer(const struct etc_files *ef, const char *const *hexes, size_t n,
			   struct berr **err)
{
	/* etc first; then the mount points made where the image has none */
	static const char *const look[] = { "etc", "proc", "dev", "sys" };
	static const char *const names[] = { "hosts", "resolv.conf", "hostname" };
	char etc[PATH_MAX], f[PATH_MAX + 16];
	struct stat st[ARRAY_SIZE(look)];
	struct timespec times[2];
	int found[ARRAY_SIZE(look)];

	if (layers_lookup(hexes, n, look, ARRAY_SIZE(look), st, found, err) < 0)
		return -1;
	if (found[0] && !S_ISDIR(st[0].st_mode))
		return 0;
	if (!found[0]) {
		memset(&st[0], 0, sizeof(st[0]));
		st[0].st_mode = S_IFDIR | 0755;
	}
	if (snprintf(etc, sizeof(etc), "%s/etc", ef->init) >= (int) sizeof(etc))
		return berr_make(err, ENAMETOOLONG, "init layer `%s`", ef->init);
	if (fs_mkdir_p(etc, 0755, err) < 0)
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		int fd;
		snprintf(f, sizeof(f), "%s/%s", etc, names[i]);
		fd = open(f, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd < 0)
			return berr_make(err, errno, "create `%s`", f);
		close(fd);
	}
	if (chmod(etc, st[0].st_mode & 07777) < 0 || lchown(etc, st[0].st_uid, st[0].st_gid) < 0)
		return berr_make(err, errno, "set the mode and owner of `%s`", etc);
	if (found[0]) {
		times[0] = st[0].st_atim;
		times[1] = st[0].st_mtim;
		if (utimensat(AT_FDCWD, etc, times, AT_SYMLINK_NOFOLLOW) < 0)
			return berr_make(err, errno, "set the times of `%s`", etc);
	}
	for (size_t i = 1; i < ARRAY_SIZE(look); i++) {
		snprintf(f, sizeof(f), "%s/%s", ef->init, look[i]);
		if (!found[i] && mkdir(f, 0755) < 0 && errno != EEXIST)
			return berr_make(err, errno, "create `%s`", f);
	}
	return 1;
}

static int write_etc_files(const struct etc_files *ef, const char *hostname, bool host_net,
			   const struct run_opts *o, struct berr **err)
{
	char *buf = NULL;
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
		if (sep == NULL || sep == h || sep[1] == '\0' || !one_word(h)) {
			fclose(f);
			free(buf);
			return berr_usage(err, "--add-host `%s`: use HOST:IP", h);
		}
		fprintf(f, "%s\t%.*s\n", sep + 1, (int) (sep - h), h);
	}
	fclose(f);
	if (fs_write_replace(ef->hosts, buf, len, 0644, err) < 0) {
		free(buf);
		return -1;
	}
	free(buf);
	buf = NULL;
	if (o->dns.n) {
		f = open_memstream(&buf, &len);
		if (f == NULL)
			return berr_make(err, errno, "resolv.conf");
		for (size_t i = 0; i < o->dns.n; i++) {
			if (!one_word(o->dns.v[i])) {
				fclose(f);
				free(buf);
				return berr_usage(err, "--dns `%s`: use an IP address", o->dns.v[i]);
			}
			fprintf(f, "nameserver %s\n", o->dns.v[i]);
		}
		fclose(f);
	} else {
		struct berr *e = NULL;
		if (fs_read_file("/etc/resolv.conf", 1u << 20, &buf, &len, &e) < 0) {
			berr_free(e);
			buf = strdup("");
			len = 0;
		}
	}
	if (fs_write_replace(ef->resolv, buf ? buf : "", len, 0644, err) < 0) {
		free(buf);
		return -1;
	}
	free(buf);
	{
		char line[300];
		int n = snprintf(line, sizeof(line), "%s\n", hostname);
		return fs_write_replace(ef->hostname, line, (size_t) n, 0644, err);
	}
}

/* -v specs and the image's VOLUMEs into record mounts. */
/* `--mount type=bind|volume|tmpfs,source=..,target=..,readonly,tmpfs-size=..,tmpfs-mode=..`
 * (Docker's keys and aliases). Unlike -v, a missing bind source is an error. */
static int parse_mount(const char *spec, struct rec_mount *m, struct berr **err)
{
	char *copy = xstrdup(spec), *save = NULL, *kv;
	const char *type = "volume";
	char *src = NULL, *dst = NULL, *size = NULL, *mode = NULL;
	int ret = -1;

	for (kv = strtok_r(copy, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(kv, '=');
		const char *val = eq ? eq + 1 : NULL;
		if (eq)
			*eq = '\0';
		if (strcmp(kv, "type") == 0 && val)
			type = val;
		else if ((strcmp(kv, "source") == 0 || strcmp(kv, "src") == 0) && val)
			src = (char *) val;
		else if ((strcmp(kv, "target") == 0 || strcmp(kv, "destination") == 0 || strcmp(kv, "dst") == 0) && val)
			dst = (char *) val;
		else if (strcmp(kv, "readonly") == 0 || strcmp(kv, "ro") == 0)
			m->readonly = val == NULL || strcmp(val, "true") == 0 || strcmp(val, "1") == 0;
		else if (strcmp(kv, "tmpfs-size") == 0 && val)
			size = (char *) val;
		else if (strcmp(kv, "tmpfs-mode") == 0 && val)
			mode = (char *) val;
		else {
			berr_usage(err, "--mount `%s`: unknown or unsupported key `%s`", spec, kv);
			goto out;
		}
	}
	if (dst == NULL || dst[0] != '/') {
		berr_usage(err, "--mount `%s`: needs an absolute target=", spec);
		goto out;
	}
	m->destination = xstrdup(dst);
	if (strcmp(type, "bind") == 0) {
		struct stat st;
		if (src == NULL || src[0] != '/') {
			berr_usage(err, "--mount `%s`: a bind needs an absolute source=", spec);
			goto out;
		}
		if (stat(src, &st) < 0) {
			berr_usage(err, "--mount `%s`: bind source path does not exist: %s", spec, src);
			goto out;
		}
		m->type = REC_MOUNT_BIND;
		m->source = xstrdup(src);
	} else if (strcmp(type, "volume") == 0) {
		m->type = REC_MOUNT_VOLUME;
		if (src == NULL) {
			char id[REC_ID_LEN + 1];
			if (rec_id_new(id, err) < 0)
				goto out;
			m->anonymous = true;
			m->name = xstrdup(id);
		} else if (!vol_name_valid(src)) {
			berr_usage(err, "--mount `%s`: `%s` is not a valid volume name", spec, src);
			goto out;
		} else {
			m->name = xstrdup(src);
		}
	} else if (strcmp(type, "tmpfs") == 0) {
		m->type = REC_MOUNT_TMPFS;
		if (size || mode)
			m->options = xasprintf("%s%s%s%s%s", size ? "size=" : "", size ? size : "",
					       size && mode ? "," : "", mode ? "mode=" : "", mode ? mode : "");
	} else {
		berr_usage(err, "--mount `%s`: type must be bind, volume or tmpfs", spec);
		goto out;
	}
	ret = 0;
out:
	free(copy);
	return ret;
}

/* `--volumes-from NAME[:ro|rw]`: the other container's volumes and binds, at the same paths.
 * Its anonymous volumes are shared, never owned: this container's `--rm` leaves them. */
static int volumes_from(const char *spec, struct rec_config *rc, struct berr **err)
{
	char *ref = xstrdup(spec), *colon = strrchr(ref, ':');
	int mode = -1; /* -1: as the source has it */
	struct rec src;
	int ret = -1;

	if (colon && (strcmp(colon + 1, "ro") == 0 || strcmp(colon + 1, "rw") == 0)) {
		mode = strcmp(colon + 1, "ro") == 0;
		*colon = '\0';
	}
	if (rec_find(ref, &src, err) < 0) {
		free(ref);
		return berr_wrap(err, "--volumes-from `%s`", spec);
	}
	for (size_t i = 0; i < src.cfg.n_mounts; i++) {
		const struct rec_mount *s = &src.cfg.mounts[i];
		struct rec_mount *m;
		if (s->type == REC_MOUNT_TMPFS)
			continue;
		if (rc->n_mounts >= REC_MOUNTS_MAX) {
			berr_usage(err, "--volumes-from `%s`: more than %d mounts", spec, REC_MOUNTS_MAX);
			goto out;
		}
		m = &rc->mounts[rc->n_mounts++];
		m->type = s->type;
		m->name = s->name ? xstrdup(s->name) : NULL;
		m->source = s->source ? xstrdup(s->source) : NULL;
		m->destination = xstrdup(s->destination);
		m->readonly = mode < 0 ? s->readonly : mode == 1;
	}
	ret = 0;
out:
	rec_free(&src);
	free(ref);
	return ret;
}

static int plan_mounts(const struct run_opts *o, const struct img *img, struct rec_config *rc,
		       struct berr **err)
{
	if (o->volumes.n + o->tmpfs.n + o->mounts.n + img->cfg.n_volumes > REC_MOUNTS_MAX)
		return berr_usage(err, "more than %d mounts", REC_MOUNTS_MAX);
	rc->mounts = xcalloc(REC_MOUNTS_MAX, sizeof(*rc->mounts));
	for (size_t i = 0; i < o->volumes_from.n; i++)
		if (volumes_from(o->volumes_from.v[i], rc, err) < 0)
			return -1;
	for (size_t i = 0; i < o->mounts.n; i++) {
		if (rc->n_mounts >= REC_MOUNTS_MAX)
			return berr_usage(err, "more than %d mounts", REC_MOUNTS_MAX);
		if (parse_mount(o->mounts.v[i], &rc->mounts[rc->n_mounts], err) < 0)
			return -1;
		rc->n_mounts++;
	}
	for (size_t i = 0; i < o->volumes.n; i++) {
		if (rc->n_mounts >= REC_MOUNTS_MAX)
			return berr_usage(err, "more than %d mounts", REC_MOUNTS_MAX);
		struct rec_mount *m = &rc->mounts[rc->n_mounts];
		struct vol_spec vs;

		if (vol_spec_parse(o->volumes.v[i], &vs, err) < 0)
			return -1;
		if (vs.kind == VOL_SPEC_ANONYMOUS) {
			char id[REC_ID_LEN + 1];
			if (rec_id_new(id, err) < 0) {
				vol_spec_free(&vs);
				return -1;
			}
			m->type = REC_MOUNT_VOLUME;
			m->anonymous = true;
			m->name = xstrdup(id);
		} else if (vs.kind == VOL_SPEC_BIND) {
			m->type = REC_MOUNT_BIND;
			m->source = xstrdup(vs.source);
		} else {
			m->type = REC_MOUNT_VOLUME;
			m->name = xstrdup(vs.source);
		}
		m->readonly = vs.readonly;
		m->destination = xstrdup(vs.destination);
		vol_spec_free(&vs);
		rc->n_mounts++;
	}
	for (size_t i = 0; i < o->tmpfs.n && rc->n_mounts < REC_MOUNTS_MAX; i++) {
		struct rec_mount *m = &rc->mounts[rc->n_mounts++];
		const char *colon = strchr(o->tmpfs.v[i], ':');
		m->type = REC_MOUNT_TMPFS;
		m->destination = colon ? strndup(o->tmpfs.v[i], (size_t) (colon - o->tmpfs.v[i])) : xstrdup(o->tmpfs.v[i]);
		m->options = colon ? xstrdup(colon + 1) : NULL;
		if (m->destination == NULL || m->destination[0] != '/')
			return berr_usage(err, "--tmpfs `%s`: the path must be absolute", o->tmpfs.v[i]);
	}
	for (size_t i = 0; i < rc->n_mounts; i++)
		for (size_t j = 0; j < i; j++)
			if (strcmp(rc->mounts[i].destination, rc->mounts[j].destination) == 0)
				return berr_usage(err, "Duplicate mount point: %s", rc->mounts[i].destination);
	/* The image's VOLUMEs not covered by an option get anonymous volumes, as Docker does. */
	for (size_t i = 0; i < img->cfg.n_volumes; i++) {
		bool covered = false;
		for (size_t j = 0; j < rc->n_mounts; j++)
			if (strcmp(rc->mounts[j].destination, img->cfg.volumes[i]) == 0)
				covered = true;
		if (!covered && rc->n_mounts < REC_MOUNTS_MAX) {
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
 * namespace, where the host cannot see it); when none runs, they are all released. Only the
 * supervisor's start calls this: a container's exit keeps the layer mounts, with their page
 * cache, for the next start (`berth system prune-mounts`, rmi and image prune release them). */
void run_release_layers(const char *self)
{
	struct rec_list l = { 0 };
	struct berr *e = NULL;
	bool busy = false;

	if (rec_list_load(&l, &e) < 0) {
		berr_free(e);
		return;
	}
	for (size_t i = 0; i < l.n; i++)
		if (l.v[i].st.status == REC_RUNNING && (self == NULL || strcmp(l.v[i].cfg.id, self) != 0))
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

/* What starting a container needs: from the options (run, create) or from a record (start). */
struct run_ctx {
	struct run_opts o;
	struct img img;
	struct spec_process proc;
	struct rec_config rc;
	struct secc_filter filter;
	uint64_t caps;
	bool host_net;
	int pty_master;       /* -t: the container's pty master once it runs */
	struct cg_system sys; /* the cgroup layout create found, and checked the limits against */
	bool have_sys;
};

static void run_ctx_free(struct run_ctx *r)
{
	for (size_t i = 0; i < r->o.n_devices; i++)
		dev_free(&r->o.devices[i]);
	free(r->o.devices);
	free(r->o.cg_devices);
	secc_filter_free(&r->filter);
	rec_config_free(&r->rc);
	spec_process_free(&r->proc);
	img_close(&r->img);
}

static int pick_network(struct cli_ctx *ctx, struct run_opts *o, bool *host_net, struct berr **err)
{
	o->network = o->network ? o->network : ctx->cfg.daemon.network;
	if (strcmp(o->network, "host") != 0 && strcmp(o->network, "none") != 0) {
		if (strcmp(o->network, "bridge") == 0 || strcmp(o->network, "default") == 0)
			return not_yet("--network bridge", err);
		return berr_usage(err, "--network `%s`: use host or none", o->network);
	}
	*host_net = strcmp(o->network, "host") == 0;
	if (!*host_net && o->n_ports)
		return berr_usage(err, "-p needs the host's network: with --network %s nothing outside can "
				  "reach the container", o->network);
	return 0;
}

/* Capabilities and the seccomp filter from the options. */
static int security(struct run_ctx *r, struct berr **err)
{
	struct run_opts *o = &r->o;
	struct caps_opts co = { o->cap_add.v, o->cap_add.n, o->cap_drop.v, o->cap_drop.n, o->privileged };

	if (caps_compute(&co, caps_kernel_last(), &r->caps, err) < 0)
		return -1;
	{
		/* berth can hand on only what it holds itself (a board's init, or a restricted
		 * host, may lack some): --privileged means all of those. */
		uint64_t own = 0, missing;
		char names[256];
		for (int cap = 0; cap <= caps_kernel_last(); cap++)
			if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1)
				own |= CAPS_BIT(cap);
		missing = r->caps & ~own;
		if (missing && !o->privileged)
			log_warn("capabilities berth itself lacks are not given: %s",
				 caps_format(missing, names, sizeof(names)));
		r->caps &= own;
	}
	return secc_filter_cached(o->privileged && o->secc_mode == SECC_MODE_DEFAULT ? SECC_MODE_UNCONFINED
										     : o->secc_mode,
			       o->secc_path, r->caps, &r->filter, err);
}

/* The first half of `run`, and all of `create`: resolve the image, merge its config with the
 * options, record the container and write its files. The record exists once this returns 0;
 * if a later step fails, it is removed again. */
static int create(struct cli_ctx *ctx, struct run_ctx *r, char *image, char **args, size_t n_args,
		  struct berr **err)
{
	struct run_opts *o = &r->o;
	struct store_refs refs = { 0 };
	struct img_match match;
	char upper[PATH_MAX], work[PATH_MAX], hostname[64];
	int ret;

	if (pick_network(ctx, o, &r->host_net, err) < 0)
		return -1;
	if ((ret = cli_load_refs(&refs)) != EXIT_OK) {
		berr_make(err, 0, "the image store cannot be read");
		(*err)->status = ret;
		return -1;
	}
	ret = img_resolve(&refs, image, ctx->cfg.daemon.default_registry, &match, err);
	store_refs_free(&refs);
	if (ret < 0 || img_open(&match.top, &r->img, err) < 0) {
		/* Docker says "Unable to find image" and exits 125 when it cannot get one. */
		if (err && *err)
			(*err)->status = EXIT_BERTH;
		return -1;
	}
	{
		struct spec_run_opts so = {
			.args = args, .n_args = n_args,
			.entrypoint = o->entrypoint_set ? o->entrypoint : NULL,
			.env = o->env.v, .n_env = o->env.n, .env_files = o->env_files.v, .n_env_files = o->env_files.n,
			.workdir = o->workdir, .user = o->user, .hostname = NULL, .tty = o->tty,
		};
		if (rec_id_new(r->rc.id, err) < 0)
			return -1;
		snprintf(hostname, sizeof(hostname), "%.63s", o->hostname ? o->hostname : r->rc.id);
		if (!o->hostname)
			hostname[REC_SHORT_ID_LEN] = '\0';
		so.hostname = hostname;
		if (spec_process_build(&r->img.cfg, &so, &r->proc, err) < 0)
			return -1;
	}
	/* Limits that cannot be enforced here fail the create, before a record is made. */
	if (security(r, err) < 0 || cg_detect(&r->sys, NULL, err) < 0 ||
	    cg_check(&r->sys, &o->limits, err) < 0)
		return -1;
	r->have_sys = true;

	/* The record. */
	if (o->name)
		snprintf(r->rc.name, sizeof(r->rc.name), "%s", o->name[0] == '/' ? o->name + 1 : o->name);
	r->rc.image = xstrdup(image);
	{
		char ds[DIGEST_STR_SIZE];
		r->rc.image_id = xstrdup(digest_format(&r->img.id, ds));
		r->rc.image_digest = xstrdup(digest_format(&r->img.top, ds));
	}
	strv_set(&r->rc.argv, r->proc.argv, r->proc.argc, true);
	strv_set(&r->rc.entrypoint, r->img.cfg.entrypoint, r->img.cfg.n_entrypoint,
		 r->img.cfg.has_entrypoint && !o->entrypoint_set);
	strv_set(&r->rc.cmd, r->img.cfg.cmd, r->img.cfg.n_cmd, r->img.cfg.has_cmd && n_args == 0);
	strv_set(&r->rc.env, r->proc.env, r->proc.n_env, true);
	r->rc.workdir = xstrdup(r->proc.cwd);
	r->rc.user = xstrdup(r->proc.user ? r->proc.user : "");
	r->rc.hostname = xstrdup(hostname);
	r->rc.memory = o->limits.memory > 0 ? o->limits.memory : 0;
	r->rc.nano_cpus = o->limits.cpu_quota_us > 0 ? o->limits.cpu_quota_us * 1000000000 /
				(o->limits.cpu_period_us ? o->limits.cpu_period_us : 100000) : 0;
	r->rc.pids_limit = o->limits.pids_max > 0 ? o->limits.pids_max : 0;
	if (o->restart && rec_restart_parse(o->restart, &r->rc.restart, &r->rc.restart_max, err) < 0)
		return -1;
	r->rc.stop_timeout = o->stop_timeout;
	r->rc.auto_remove = o->rm;
	r->rc.stop_signal = o->stop_signal_nr;
	if (r->rc.stop_signal == 0 && r->img.cfg.stop_signal && (r->rc.stop_signal = sig_parse(r->img.cfg.stop_signal)) < 0)
		r->rc.stop_signal = 0; /* an image's unknown StopSignal: SIGTERM, as Docker falls back */
	if (o->labels.n) {
		r->rc.labels = xcalloc(o->labels.n, sizeof(*r->rc.labels));
		for (size_t i = 0; i < o->labels.n; i++) {
			const char *eq = strchr(o->labels.v[i], '=');
			r->rc.labels[i].key = eq ? strndup(o->labels.v[i], (size_t) (eq - o->labels.v[i]))
						 : xstrdup(o->labels.v[i]);
			r->rc.labels[i].value = xstrdup(eq ? eq + 1 : "");
		}
		r->rc.n_labels = o->labels.n;
	}
	if (plan_mounts(o, &r->img, &r->rc, err) < 0 || rec_create(&r->rc, err) < 0)
		return -1;

	/* On flash: the upper and work dirs. The root's mount point and the /etc files are
	 * made in the run dir at each start (launch). */
	if (paths_container_file(upper, sizeof(upper), r->rc.id, "upper") < 0 ||
	    paths_container_file(work, sizeof(work), r->rc.id, "work") < 0) {
		berr_make(err, errno, "container paths");
		goto undo;
	}
	if (fs_mkdir_p(upper, 0755, err) < 0 || fs_mkdir_p(work, 0700, err) < 0 || check_etc_opts(o, err) < 0)
		goto undo;
	return 0;
undo: {
	struct berr *e = NULL;
	if (rec_remove(r->rc.id, REC_RM_FORCE | REC_RM_VOLUMES, NULL, &e) < 0)
		berr_free(e);
	return -1;
}
}

/* `berth start` of a record: what the record holds, with defaults for what it does not (see
 * run_from_record's caller). */
static int from_record(struct cli_ctx *ctx, const struct rec *rec, struct run_ctx *r, struct berr **err)
{
	const struct rec_config *rc = &rec->cfg;
	struct digest top;
	struct spec_process *p = &r->proc;

	if (rc->image_digest == NULL || rc->argv.v == NULL || rc->argv.n == 0)
		return berr_make(err, 0, "container %s: its record lacks the image or the command", rc->id);
	if (digest_parse(rc->image_digest, "image digest", &top, err) < 0 || img_open(&top, &r->img, err) < 0)
		return berr_wrap(err, "container %s: its image", rc->name);
	if (pick_network(ctx, &r->o, &r->host_net, err) < 0 || security(r, err) < 0)
		return -1;
	p->argv = xcalloc(rc->argv.n + 1, sizeof(char *));
	for (size_t i = 0; i < rc->argv.n; i++)
		p->argv[i] = xstrdup(rc->argv.v[i]);
	p->argc = rc->argv.n;
	p->env = xcalloc(rc->env.n + 1, sizeof(char *));
	for (size_t i = 0; i < rc->env.n; i++)
		p->env[i] = xstrdup(rc->env.v[i]);
	p->n_env = rc->env.n;
	p->cwd = xstrdup(rc->workdir && rc->workdir[0] == '/' ? rc->workdir : "/");
	p->user = xstrdup(rc->user ? rc->user : "");
	p->tty = r->o.tty;
	/* The record is ours to keep: a copy through its own JSON. */
	{
		_cleanup_free_ char *json = rec_config_dump(rc);
		if (rec_config_parse(json, strlen(json), "config.json", &r->rc, err) < 0)
			return -1;
	}
	if (rc->memory > 0)
		r->o.limits.memory = rc->memory;
	if (rc->nano_cpus > 0) {
		r->o.limits.cpu_period_us = 100000;
		r->o.limits.cpu_quota_us = rc->nano_cpus * 100000 / 1000000000;
	}
	if (rc->pids_limit > 0)
		r->o.limits.pids_max = rc->pids_limit;
	return 0;
}

/* Signals to berth go on to the container's first process. */
static void forward_signals(pid_t pid)
{
	child_pid = pid;
	signal(SIGINT, forward);
	signal(SIGTERM, forward);
	signal(SIGHUP, forward);
	signal(SIGQUIT, forward);
	signal(SIGUSR1, forward);
	signal(SIGUSR2, forward);
}

/* Wait for the container's first process; *ws is its wait status. */
static void wait_plain(pid_t pid, int *ws)
{
	forward_signals(pid);
	while (waitpid(pid, ws, 0) < 0)
		if (errno != EINTR) {
			*ws = 0;
			break;
		}
	child_pid = 0;
}

/* How launch() wires the child. */
struct launch_io {
	int stdio[3];             /* -1: inherit (stdin: /dev/null unless -i or -t) */
	unsigned restart_count;
	bool foreground;          /* berth run/start -a waits for it: its running mark needs no fsync */
};

/* Volumes, layers, cgroup, the child in its namespaces, released: it runs, and state.json
 * says so. On failure *status is set, the record says exited with the error (unless --rm),
 * and nothing of the attempt is left. */
static int launch(struct run_ctx *r, const struct launch_io *io, struct run_live *L, int *status,
		  struct berr **err)
{
	struct run_opts *o = &r->o;
	struct rec_config *rc = &r->rc;
	struct exec_data xd;
	struct rt_config c = { .console_fd = -1, .stdio = { io->stdio[0], io->stdio[1], io->stdio[2] } };
	struct rt_child ch = { -1, -1, -1 };
	struct cg_join cj = { .n = 0, .dir_fd = -1 };
	struct rt_mount *rtm = NULL;
	struct etc_files ef;
	char rootfs[PATH_MAX], upper[PATH_MAX], work[PATH_MAX], opts[OVERLAY_OPTS_MAX];
	const char **hexes = NULL;
	bool devices_limited;
	char cgname[2 * CG_NAME_MAX];
	int ret = -1, devnull = -1, init, port_fds[PROXY_PORTS_MAX];

	*status = EXIT_BERTH;
	for (size_t i = 0; i < PROXY_PORTS_MAX; i++)
		port_fds[i] = -1;
	memset(L, 0, sizeof(*L));
	L->pid = -1;
	L->rm = o->rm;
	snprintf(L->id, sizeof(L->id), "%s", rc->id);
	L->st.restart_count = io->restart_count;
	if (paths_container_run(rootfs, sizeof(rootfs), rc->id, "rootfs") < 0 ||
	    paths_container_file(upper, sizeof(upper), rc->id, "upper") < 0 ||
	    paths_container_file(work, sizeof(work), rc->id, "work") < 0 ||
	    paths_container_run(ef.dir, sizeof(ef.dir), rc->id, NULL) < 0 ||
	    paths_container_run(ef.hosts, sizeof(ef.hosts), rc->id, "hosts") < 0 ||
	    paths_container_run(ef.resolv, sizeof(ef.resolv), rc->id, "resolv.conf") < 0 ||
	    paths_container_run(ef.hostname, sizeof(ef.hostname), rc->id, "hostname") < 0 ||
	    paths_container_run(ef.init, sizeof(ef.init), rc->id, "init") < 0) {
		berr_make(err, errno, "container paths");
		goto fail;
	}
	/* The root is only a mount point, in the container's own mount namespace. */
	if (fs_mkdir_p(ef.dir, 0700, err) < 0 || write_etc_files(&ef, rc->hostname, r->host_net, o, err) < 0 ||
	    fs_mkdir_p(rootfs, 0700, err) < 0)
		goto fail;
	if (r->have_sys)
		L->sys = r->sys;
	else if (cg_detect(&L->sys, NULL, err) < 0)
		goto fail;
	rtm = xcalloc(rc->n_mounts ? rc->n_mounts : 1, sizeof(*rtm));
	if (prepare_volumes(rc, &r->img, rtm, err) < 0)
		goto fail;
	hexes = xcalloc(r->img.n_layers, sizeof(*hexes));
	for (size_t i = 0; i < r->img.n_layers; i++)
		hexes[i] = r->img.chain_ids[i].hex;
	if ((init = make_init_layer(&ef, hexes, r->img.n_layers, err)) < 0 ||
	    overlay_options(hexes, r->img.n_layers, init ? ef.init : NULL, upper, work, opts, sizeof(opts), err) < 0)
		goto fail;
	/* A --rm container's writable layer is thrown away when it exits: overlayfs need not
	 * sync it. Without `volatile`, the overlay's unmount as the container ends syncs the
	 * whole file system under the data root (Linux 5.10 and later; see setup_root). */
	if (o->rm && strlen(opts) + sizeof(OVERLAY_VOLATILE) <= sizeof(opts))
		strcat(opts, OVERLAY_VOLATILE);
	o->limits.all_devices = o->privileged;
	/* --device: exactly those nodes, with their permissions, besides the defaults. */
	free(o->cg_devices);
	o->cg_devices = xcalloc(o->n_devices ? o->n_devices : 1, sizeof(*o->cg_devices));
	for (size_t i = 0; i < o->n_devices; i++)
		dev_cg_rule(&o->devices[i], &o->cg_devices[i]);
	o->limits.devices = o->cg_devices;
	o->limits.n_devices = o->n_devices;
	/* The cgroup with every limit, before the child: it joins it first thing. */
	if (cg_create(&L->sys, rc->id, &o->limits, &L->cgh, err) < 0) {
		(*err)->status = EXIT_BERTH;
		goto fail;
	}
	L->cg_made = true;
	devices_limited = L->cgh.devices_enforced;
	/* Where no device controller limits what nodes may be opened (no v1 devices hierarchy,
	 * or a v2 kernel without BPF device programs), a container must not make nodes at all:
	 * otherwise it could mknod a host disk and read it. Its --device nodes are made by berth
	 * before the capabilities drop, so they are there all the same. */
	if (!devices_limited && !o->privileged)
		r->caps &= ~CAPS_BIT(CAP_MKNOD);

	/* Without -i, stdin is /dev/null, as Docker gives a container not attached. With -t the
	 * container's stdio is its pty. */
	if (c.stdio[0] < 0 && !o->interactive && !o->tty) {
		devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
		c.stdio[0] = devnull;
	}
	if (o->tty) {
		c.tty = true;
		tty_size(&c.tty_rows, &c.tty_cols);
	}
	c.init = o->init;
	c.rootfs = rootfs;
	c.overlay_opts = opts;
	c.hostname = rc->hostname;
	c.new_net = !r->host_net;
	c.readonly_rootfs = o->read_only;
	c.privileged = o->privileged;
	c.mounts = rtm;
	c.n_mounts = rc->n_mounts;
	c.devices = o->devices;
	c.n_devices = o->n_devices;
	c.hosts_file = ef.hosts;
	c.resolv_file = ef.resolv;
	c.hostname_file = ef.hostname;
	c.shm_size = o->shm_size;
	c.cwd = r->proc.cwd;
	c.argv = r->proc.argv;
	c.envp = r->proc.env;
	xd = (struct exec_data){ &r->proc, r->caps, &r->filter, o->nnp, o->ulimits, o->n_ulimits };
	c.exec_fn = exec_step;
	c.exec_data = &xd;
	if (o->n_ports && proxy_bind(o->ports, o->n_ports, port_fds, err) < 0)
		goto fail;
	if (cg_join_open(&L->cgh, &cj, err) < 0)
		goto fail;
	snprintf(cgname, sizeof(cgname), "%s/%.12s", L->sys.parent, rc->id);
	c.join = &cj;
	c.cgroup_name = cgname;
	if (rt_spawn(&c, &ch, err) < 0)
		goto fail;
	cg_join_close(&cj);
	if (rt_release(&ch, status, err) < 0)
		goto fail;
	L->pid = ch.pid;
	r->pty_master = ch.pty_master;
	if (o->n_ports && (L->proxy = proxy_start(o->ports, port_fds, o->n_ports, err)) < 0) {
		/* the container runs; only its published ports do not */
		log_warn("%s", (*err)->msg);
		berr_free(*err);
		*err = NULL;
		L->proxy = 0;
	}
	if (rec_state_set_running(&L->st, ch.pid, err) < 0 ||
	    (io->foreground ? rec_save_state_nosync : rec_save_state)(rc->id, &L->st, err) < 0) {
		/* The container runs anyway; ps will show it exited. One that is done already
		 * (`run IMAGE true`) is no news: its exit is recorded next. */
		if ((*err)->errcode != ESRCH)
			log_warn("%s", (*err)->msg);
		berr_free(*err);
		*err = NULL;
	}
	ret = 0;
	goto out;

fail:
	L->st.status = REC_EXITED;
	L->st.exit_code = *status;
	L->st.finished = rec_now();
	free(L->st.error);
	L->st.error = err && *err && (*err)->msg ? xstrdup((*err)->msg) : NULL;
	if (L->cg_made) {
		struct berr *e = NULL;
		if (cg_destroy(&L->cgh, &e) < 0) {
			log_warn("%s", e->msg);
			berr_free(e);
		}
		L->cg_made = false;
	}
	{
		struct berr *e = NULL;
		if (!o->rm && rec_save_state(rc->id, &L->st, &e) < 0) {
			log_warn("%s", e->msg);
			berr_free(e);
		}
	}
out:
	cg_join_close(&cj);
	for (size_t i = 0; i < PROXY_PORTS_MAX; i++)
		if (port_fds[i] >= 0)
			close(port_fds[i]);
	if (devnull >= 0)
		close(devnull);
	free(hexes);
	if (rtm) {
		for (size_t i = 0; i < rc->n_mounts; i++)
			if (rc->mounts[i].type == REC_MOUNT_VOLUME)
				free((char *) rtm[i].source);
		free(rtm);
	}
	return ret;
}

int run_finish(struct run_live *L, int ws)
{
	struct berr *e = NULL;
	bool oom = false;
	int status = WIFSIGNALED(ws) ? 128 + WTERMSIG(ws) : WEXITSTATUS(ws);

	if (L->cg_made && cg_oom_killed(&L->cgh, &oom, &e) < 0) {
		berr_free(e);
		e = NULL;
	}
	if (oom)
		status = 137;
	proxy_stop(L->proxy);
	L->proxy = 0;
	L->st.status = REC_EXITED;
	L->st.exit_code = status;
	L->st.oom_killed = oom;
	L->st.pid = 0;
	L->st.finished = rec_now();
	if (L->cg_made && cg_destroy(&L->cgh, &e) < 0) {
		log_warn("%s", e->msg);
		berr_free(e);
		e = NULL;
	}
	L->cg_made = false;
	if (L->rm) {
		if ((L->cfg ? rec_remove_exited(L->cfg, REC_RM_VOLUMES, &e)
			    : rec_remove(L->id, REC_RM_FORCE | REC_RM_VOLUMES, NULL, &e)) < 0) {
			log_warn("%s", e->msg);
			berr_free(e);
			e = NULL;
		}
	} else if (rec_save_state(L->id, &L->st, &e) < 0) {
		log_warn("%s", e->msg);
		berr_free(e);
		e = NULL;
	}
	rec_state_free(&L->st);
	return status;
}

/* The second half of `run`, and `start -a`: launch, wait in the foreground (a pty relay with
 * -t), finish. Returns the exit status to give. */
static int start(struct run_ctx *r)
{
	struct launch_io io = { .stdio = { -1, -1, -1 }, .foreground = true };
	struct run_live L;
	struct berr *err = NULL;
	sigset_t relay_set, old_mask;
	bool blocked = false;
	int status, ws = 0;

	if (r->o.tty) {
		/* The relay takes these from a signalfd: none may be lost before it runs. */
		tty_signals(&relay_set);
		sigprocmask(SIG_BLOCK, &relay_set, &old_mask);
		blocked = true;
	}
	r->pty_master = -1;
	if (launch(r, &io, &L, &status, &err) < 0) {
		int ret = berr_report(err);
		if (r->o.rm) {
			struct berr *e = NULL;
			if (rec_remove(r->rc.id, REC_RM_FORCE | REC_RM_VOLUMES, NULL, &e) < 0) {
				log_warn("%s", e->msg);
				berr_free(e);
			}
		}
		if (blocked)
			sigprocmask(SIG_SETMASK, &old_mask, NULL);
		rec_state_free(&L.st);
		return status ? status : ret;
	}
	if (r->pty_master >= 0) {
		if (tty_relay(r->pty_master, L.pid, r->o.interactive, &ws, &err) < 0) {
			log_warn("%s", err->msg);
			berr_free(err);
			err = NULL;
		}
		close(r->pty_master);
		r->pty_master = -1;
	} else {
		if (blocked) { /* -t, yet no pty came: wait the plain way */
			sigprocmask(SIG_SETMASK, &old_mask, NULL);
			blocked = false;
		}
		wait_plain(L.pid, &ws);
	}
	if (blocked)
		sigprocmask(SIG_SETMASK, &old_mask, NULL);
	/* The record is the one this process made or loaded: no need to read it back. */
	L.cfg = &r->rc;
	return run_finish(&L, ws);
}

/* Parse options, then create the record. */
static int create_from_args(struct cli_ctx *ctx, struct run_ctx *r, int argc, char **argv, const char *cmd,
			    struct berr **err)
{
	struct args a;
	int ret;

	args_init(&a, cmd_run_opts, argc, argv, cmd);
	ret = parse_opts(&a, &r->o, err);
	if (ret != 0)
		return ret;
	if (a.i >= argc)
		return berr_usage(err, "`%s` needs an image; see `%s --help`", cmd, cmd);
	/* The options as given, for `start` and the supervisor to parse again. */
	r->rc.host_args.v = xcalloc((size_t) a.i, sizeof(char *));
	for (int i = 1; i < a.i; i++)
		r->rc.host_args.v[r->rc.host_args.n++] = xstrdup(argv[i]);
	return create(ctx, r, argv[a.i], argv + a.i + 1, (size_t) (argc - a.i - 1), err);
}

int run_main(struct cli_ctx *ctx, int argc, char **argv, bool do_start)
{
	const char *cmd = do_start ? "berth run" : "berth create";
	struct run_ctx r = { 0 };
	struct berr *err = NULL;
	int ret;

	ret = create_from_args(ctx, &r, argc, argv, cmd, &err);
	if (ret == ARGS_HELP) {
		command_usage(command_find(cmd + 6), stdout);
		run_ctx_free(&r);
		return EXIT_OK;
	}
	if (ret < 0) {
		run_ctx_free(&r);
		return berr_report(err);
	}
	if (do_start && r.o.detach) {
		ret = run_detached(ctx, r.rc.id, r.rc.name);
	} else if (do_start) {
		ret = start(&r);
	} else {
		printf("%s\n", r.rc.id);
		ret = EXIT_OK;
	}
	run_ctx_free(&r);
	return ret;
}

int run_create_args(struct cli_ctx *ctx, int argc, char **argv, char id[REC_ID_LEN + 1], struct berr **err)
{
	struct run_ctx r = { 0 };
	int ret = create_from_args(ctx, &r, argc, argv, "berth run", err);

	if (ret == ARGS_HELP)
		ret = berr_usage(err, "--help is not a run option here");
	if (ret == 0)
		memcpy(id, r.rc.id, REC_ID_LEN + 1);
	run_ctx_free(&r);
	return ret < 0 ? -1 : 0;
}

int cmd_run(struct cli_ctx *ctx, int argc, char **argv)
{
	return run_main(ctx, argc, argv, true);
}

/* A run_ctx for record `rec`: its options parsed again from the record. */
static int ctx_for_record(struct cli_ctx *ctx, const struct rec *rec, struct run_ctx *r, struct berr **err)
{
	cg_limits_init(&r->o.limits);
	if (rec->cfg.host_args.n) {
		struct args a;
		/* parse_opts stops at the first non-option, which host_args never holds; argv[0]
		 * stands for the command name args_init skips. */
		char **av = xcalloc(rec->cfg.host_args.n + 2, sizeof(char *));
		int ret;
		av[0] = (char *) "run";
		for (size_t i = 0; i < rec->cfg.host_args.n; i++)
			av[i + 1] = rec->cfg.host_args.v[i];
		args_init(&a, cmd_run_opts, (int) rec->cfg.host_args.n + 1, av, "berth start");
		ret = parse_opts(&a, &r->o, err);
		free(av);
		if (ret != 0)
			return ret < 0 ? berr_wrap(err, "container %s: its recorded options", rec->cfg.name)
				       : berr_make(err, 0, "container %s: its recorded options ask for help",
						   rec->cfg.name);
	} else {
		r->o.nnp = true;
	}
	return from_record(ctx, rec, r, err);
}

int run_start_record(struct cli_ctx *ctx, const struct rec *rec, bool interactive)
{
	struct run_ctx r = { 0 };
	struct berr *err = NULL;
	int ret;

	if (ctx_for_record(ctx, rec, &r, &err) < 0) {
		run_ctx_free(&r);
		return berr_report(err);
	}
	r.o.interactive = r.o.interactive || interactive;
	ret = start(&r);
	run_ctx_free(&r);
	return ret;
}

int run_launch(struct cli_ctx *ctx, const struct rec *rec, const int stdio[3], unsigned restart_count,
	       struct run_live *out, int *status, struct berr **err)
{
	struct run_ctx r = { 0 };
	struct launch_io io = { .stdio = { stdio[0], stdio[1], stdio[2] }, .restart_count = restart_count };
	int ret;

	*status = EXIT_BERTH;
	memset(out, 0, sizeof(*out));
	out->pid = -1;
	if (ctx_for_record(ctx, rec, &r, err) < 0) {
		run_ctx_free(&r);
		return -1;
	}
	/* In the background there is no terminal to give, nor a stdin to keep open. */
	r.o.tty = false;
	r.o.interactive = stdio[0] >= 0;
	r.o.rm = false; /* the supervisor decides when a record goes */
	ret = launch(&r, &io, out, status, err);
	run_ctx_free(&r);
	return ret;
}
