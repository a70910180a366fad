/* Starting a container's first process: clone into new namespaces, build its root (volumes,
 * /proc, a minimal /dev, /sys read-only, masked paths, /etc files), pivot_root, then hand over
 * to the caller's exec step. Errors in the child before exec come back over the sync socket
 * and are reported like any other berth error (DESIGN.md, "Container start"). */
#ifndef BERTH_RUNTIME_CONTAINER_H
#define BERTH_RUNTIME_CONTAINER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct berr;
struct dev_node;

enum rt_mount_kind {
	RT_MOUNT_BIND,   /* host path or volume dir */
	RT_MOUNT_TMPFS,
};

struct rt_mount {
	enum rt_mount_kind kind;
	const char *source;   /* binds: a host path */
	const char *target;   /* inside the container, resolved there (symlinks stay inside) */
	bool readonly;
	const char *options;  /* tmpfs: e.g. "size=64m,mode=1777"; NULL: defaults */
};

struct rt_config;

/* The last step in the child, after pivot_root and chdir: user and groups, capabilities,
 * rlimits, no_new_privs, seccomp, exec. Returns only on failure, with *status the exit status
 * berth should report (125, 126, 127). */
typedef int (*rt_exec_fn)(const struct rt_config *c, void *data, int *status, struct berr **err);

/* The end of a --rm container's overlay options: its writable layer is thrown away, so
 * overlayfs need not sync it (Linux 5.10). */
#define OVERLAY_VOLATILE ",volatile"

struct cg_join;

struct rt_config {
	const char *rootfs;        /* host path of the container's root */
	/* If set, overlayfs options (overlay_options()) that the child mounts on `rootfs` in
	 * its own mount namespace: the overlay then vanishes with the container. Otherwise
	 * `rootfs` must already be the root. */
	const char *overlay_opts;  /* may end in OVERLAY_VOLATILE: dropped where the kernel lacks it */
	const char *hostname;      /* NULL: leave the new UTS namespace's name */
	bool new_net;              /* an empty network namespace (--network none) */
	bool readonly_rootfs;
	bool privileged;           /* no masked paths, /sys writable */
	const struct rt_mount *mounts;
	size_t n_mounts;
	const struct dev_node *devices; /* --device: nodes made in the root after the mounts */
	size_t n_devices;
	const char *hosts_file;    /* host files bound over /etc/hosts, resolv.conf, hostname */
	const char *resolv_file;
	const char *hostname_file;
	uint64_t shm_size;         /* bytes for /dev/shm; 0: 64 MiB, as Docker */
	int console_fd;            /* a host pty slave as the child's controlling tty; -1 none */
	/* -t: a pty of the container's own devpts is its stdin/out/err, controlling tty and
	 * /dev/console; the master reaches the parent over the sync socket (rt_child). */
	bool tty;
	unsigned short tty_rows, tty_cols; /* -t: the pty's first size; 0: the kernel's */
	bool init;                 /* --init: a reaper as PID 1 (init.h), the command its child */
	int stdio[3];              /* fds for 0, 1, 2 in the child; -1: inherit */
	const char *cwd;           /* made if missing */
	char *const *argv;
	char *const *envp;
	rt_exec_fn exec_fn;        /* NULL: rt_exec_plain */
	void *exec_data;
	/* The cgroup the child joins first of all, before anything else it does, by writing
	 * itself into its cgroup.procs fds (cg_join_self); NULL: none. With --init on cgroup v2
	 * it is born there instead where the kernel can (clone3 CLONE_INTO_CGROUP on the
	 * directory fd, Linux 5.7). */
	const struct cg_join *join;
	const char *cgroup_name;   /* for messages */
};

struct rt_child {
	pid_t pid;
	int sync_fd;               /* parent's end of the sync socket */
	int pty_master;            /* -t: the container's pty master after rt_release; -1 */
};

/* Clone the child into new mount, pid, uts, ipc and cgroup namespaces (and net with
 * new_net). It joins its cgroup, makes the container's root and hostname and goes on to
 * exec the command. The child shares this process's memory until it execs (vfork), so
 * nothing is copied, and this returns once it has exec'd or failed; with --init (whose
 * reaper never execs) it is a copy, as fork makes, and this returns at once. */
int rt_spawn(const struct rt_config *c, struct rt_child *out, struct berr **err);

/* Wait until the child has exec'd (0) or failed (-1, *status set, the child's error in
 * *err; the child is reaped). With -t, ch->pty_master is then the master of the container's
 * pty, owned by the caller. */
int rt_release(struct rt_child *ch, int *status, struct berr **err);

/* Kill and reap a child that will not be released (closes pty_master too). */
void rt_abort(struct rt_child *ch);

/* The default exec step: look argv[0] up in the container's PATH (from envp) and exec. */
int rt_exec_plain(const struct rt_config *c, void *data, int *status, struct berr **err);

/* For the exec step: report an error to the parent and exit with `status`. */
void rt_child_fail(int status, struct berr *err) __attribute__((noreturn));

#endif
