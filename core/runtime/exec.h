/* Another process in a running container (`berth exec`, the supervisor's health checks): join
 * its cgroup and namespaces, then the same last steps as its first process: user, capabilities,
 * no_new_privs, seccomp, exec through the container's PATH. */
#ifndef BERTH_RUNTIME_EXEC_H
#define BERTH_RUNTIME_EXEC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct berr;
struct cg_system;
struct secc_filter;

/* Nothing here is owned. */
struct rt_exec_opts {
	char *const *argv;        /* NULL-terminated; argv[0] is looked up in the env's PATH */
	char *const *env;         /* NULL-terminated "KEY=VALUE"; HOME is added from the user */
	const char *cwd;          /* inside the container; NULL: "/" */
	const char *user;         /* as `run -u`: "name[:group]", "uid[:gid]"; NULL or "": root */
	uint64_t caps;            /* the capability list (bounding set; effective for root) */
	const struct secc_filter *filter; /* NULL or empty: no filter */
	bool no_new_privs;
	int stdio[3];             /* the child's 0, 1, 2; -1: inherit */
	/* A pty of the container's own devpts as the child's stdio and controlling terminal:
	 * *pty_master receives the master (rt_exec_in then waits for the child to make it). */
	bool tty;
	int *pty_master;
	unsigned short tty_rows, tty_cols; /* the pty's first size; 0: the kernel's */
	/* Where the child says why it could not exec, before exiting 125, 126 or 127; -1: its
	 * stderr (stdio[2], or the pty). */
	int err_fd;
	const struct cg_system *cg; /* NULL: cg_detect() */
	/* Non-zero: `target`'s start time (/proc/<pid>/stat field 22, as a record keeps it),
	 * checked once its namespaces are open, so a pid reused since is refused (ESRCH). */
	uint64_t target_start;
};

/* Start o->argv in the container whose first process is `target` (alive: the caller checked),
 * in its cgroup <parent>/<cgroup_id> (NULL: stay in the caller's) and its mount, uts, ipc, net,
 * pid and cgroup namespaces. Does not wait for the command: *child is its pid (the caller's
 * child, in the container's pid namespace) to wait on. The child's setup errors (user unknown,
 * program not found) come out on err_fd, and as its exit status: 125 berth failed, 126 cannot
 * invoke (or cwd unusable), 127 not found, as `docker exec`. Errors here: the container's
 * namespaces or cgroup are gone (ESRCH / ENOENT: it is not running), or fork failed. */
int rt_exec_in(pid_t target, const char *cgroup_id, const struct rt_exec_opts *o, pid_t *child,
	       struct berr **err);

/* The capability bounding set of process `pid` (/proc/<pid>/status CapBnd). */
int rt_proc_caps(pid_t pid, uint64_t *caps, struct berr **err);

#endif
