/* Joining a running container: its cgroup, then its namespaces through /proc/<pid>/ns, with
 * the pid namespace taken for the caller's next child only (setns(2): a process never changes
 * its own pid namespace), so the command is the caller's child and can be waited on like any. */
#include "exec.h"
#include "caps.h"
#include "cgroup.h"
#include "record.h"
#include "seccomp.h"
#include "spec.h"
#include "user.h"
#include "base/err.h"
#include "base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#ifndef TIOCGPTPEER
#define TIOCGPTPEER 0x5441
#endif

/* The namespaces joined, in order: mnt last, since the others are opened through /proc. */
static const struct {
	const char *name;
	int type;
} exec_ns[] = {
	{ "cgroup", CLONE_NEWCGROUP }, { "ipc", CLONE_NEWIPC }, { "uts", CLONE_NEWUTS },
	{ "net", CLONE_NEWNET }, { "mnt", CLONE_NEWNS },
};
#define N_NS (sizeof(exec_ns) / sizeof(exec_ns[0]))

int rt_proc_caps(pid_t pid, uint64_t *caps, struct berr **err)
{
	char path[64], line[256];
	FILE *f;
	int found = -1;

	snprintf(path, sizeof(path), "/proc/%d/status", (int) pid);
	f = fopen(path, "re");
	if (f == NULL)
		return berr_make(err, errno, "read `%s`", path);
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "CapBnd:", 7) == 0) {
			unsigned long long v;
			if (sscanf(line + 7, "%llx", &v) == 1) {
				*caps = v;
				found = 0;
			}
			break;
		}
	fclose(f);
	if (found < 0)
		return berr_make(err, EINVAL, "`%s` has no CapBnd line", path);
	return 0;
}

/* ---- in the child: it never returns ---- */

static void child_fail(int fd, int status, struct berr *e) __attribute__((noreturn));
static void child_fail(int fd, int status, struct berr *e)
{
	char buf[1024];
	int n = snprintf(buf, sizeof(buf), "berth exec: %s\n", e && e->msg ? e->msg : "failed");

	if (fd >= 0 && n > 0 && write(fd, buf, (size_t) n < sizeof(buf) ? (size_t) n : sizeof(buf) - 1) < 0)
		(void) 0;
	_exit(status);
}

static int send_fd(int sock, int fd)
{
	char tag = 'p';
	struct iovec iov = { &tag, 1 };
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			    .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *cm;

	memset(&u, 0, sizeof(u));
	cm = CMSG_FIRSTHDR(&m);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &m, MSG_NOSIGNAL) < 0 ? -1 : 0;
}

static int recv_fd(int sock)
{
	char tag;
	struct iovec iov = { &tag, 1 };
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			    .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *cm;
	ssize_t n;
	int fd = -1;

	do
		n = recvmsg(sock, &m, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	for (cm = n > 0 ? CMSG_FIRSTHDR(&m) : NULL; cm; cm = CMSG_NXTHDR(&m, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
		    cm->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

/* A pty of the container's devpts (we are in its mount namespace): the slave becomes stdio
 * and the controlling terminal, the master goes to the parent over `sock`. */
static int child_pty(const struct rt_exec_opts *o, int sock, struct berr **err)
{
	int master, slave, unlock = 0;

	master = open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		return berr_make(err, errno, "open the container's /dev/pts/ptmx");
	if (ioctl(master, TIOCSPTLCK, &unlock) < 0)
		return berr_make(err, errno, "unlock the container's pty");
	slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0) {
		unsigned n;
		char p[64];
		if (ioctl(master, TIOCGPTN, &n) < 0)
			return berr_make(err, errno, "the container's pty number");
		snprintf(p, sizeof(p), "/dev/pts/%u", n);
		slave = open(p, O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (slave < 0)
			return berr_make(err, errno, "open `%s`", p);
	}
	if (o->tty_rows && o->tty_cols) {
		struct winsize ws = { .ws_row = o->tty_rows, .ws_col = o->tty_cols };
		ioctl(master, TIOCSWINSZ, &ws);
	}
	if (send_fd(sock, master) < 0)
		return berr_make(err, errno, "pass the pty to berth");
	close(master);
	if (setsid() < 0)
		return berr_make(err, errno, "setsid");
	for (int i = 0; i < 3; i++)
		if (dup2(slave, i) < 0)
			return berr_make(err, errno, "make the pty stdio");
	if (slave > 2)
		close(slave);
	if (ioctl(0, TIOCSCTTY, 0) < 0)
		return berr_make(err, errno, "make the pty the controlling terminal");
	return 0;
}

/* The env with HOME from the user where it is missing, as the first process got it. */
static char **child_env(char *const *env, const char *home)
{
	size_t n = 0;
	bool has_home = false;
	char **v;

	for (; env && env[n]; n++)
		if (strncmp(env[n], "HOME=", 5) == 0)
			has_home = true;
	v = xcalloc(n + 2, sizeof(*v));
	for (size_t i = 0; i < n; i++)
		v[i] = env[i];
	if (!has_home)
		v[n] = xasprintf("HOME=%s", home ? home : "/");
	return v;
}

static const char *env_get(char *const *env, const char *key)
{
	size_t kl = strlen(key);

	for (size_t i = 0; env && env[i]; i++)
		if (strncmp(env[i], key, kl) == 0 && env[i][kl] == '=')
			return env[i] + kl + 1;
	return NULL;
}

static void child(const struct rt_exec_opts *o, const int *nsfd, int rootfd, const struct cg_join *j,
		  int sock)
{
	struct berr *e = NULL;
	struct user_ids ids = { 0 };
	struct caps_sets sets;
	const char *cwd = o->cwd && *o->cwd ? o->cwd : "/";
	char *path = NULL, **env;
	int efd = o->err_fd >= 0 ? o->err_fd : (o->stdio[2] >= 0 ? o->stdio[2] : 2);
	int r, croot;
	sigset_t all;

	/* The caller may have blocked signals (a relay's signalfd); the command starts clean. */
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			signal(s, SIG_DFL);

	r = cg_join_self(j);
	if (r < 0) {
		berr_make(&e, -r, "join the container's cgroup");
		child_fail(efd, EXIT_BERTH, e);
	}
	for (size_t i = 0; i < N_NS; i++)
		if (nsfd[i] >= 0 && setns(nsfd[i], exec_ns[i].type) < 0) {
			berr_make(&e, errno, "join the container's %s namespace", exec_ns[i].name);
			child_fail(efd, EXIT_BERTH, e);
		}
	/* The namespace's root is the container's root after its pivot_root; its /proc/<pid>/root
	 * says so for certain. */
	if (fchdir(rootfd) < 0 || chroot(".") < 0 || chdir("/") < 0) {
		berr_make(&e, errno, "enter the container's root");
		child_fail(efd, EXIT_BERTH, e);
	}
	close(rootfd);
	if (o->tty) {
		if (child_pty(o, sock, &e) < 0)
			child_fail(efd, EXIT_BERTH, e);
		if (o->err_fd < 0)
			efd = 2;
	} else {
		for (int i = 0; i < 3; i++)
			if (o->stdio[i] >= 0 && o->stdio[i] != i && dup2(o->stdio[i], i) < 0) {
				berr_make(&e, errno, "stdio");
				child_fail(efd, EXIT_BERTH, e);
			}
		if (o->err_fd < 0)
			efd = 2;
	}
	croot = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (croot < 0) {
		berr_make(&e, errno, "open the container's root");
		child_fail(efd, EXIT_BERTH, e);
	}
	if (user_resolve(croot, o->user ? o->user : "", NULL, 0, &ids, &e) < 0)
		child_fail(efd, EXIT_BERTH, e);
	env = child_env(o->env, ids.home);
	if (chdir(cwd) < 0) {
		berr_make(&e, errno, "chdir to `%s`", cwd);
		child_fail(efd, EXIT_CANNOT_INVOKE, e);
	}
	if (spec_lookup_path(croot, o->argv[0], env_get(env, "PATH"), cwd, &path, &e) < 0)
		child_fail(efd, e->status == EXIT_NOT_FOUND || e->status == EXIT_CANNOT_INVOKE ? e->status : EXIT_BERTH,
			   e);
	close(croot);
	caps_sets_for_user(o->caps, ids.uid, &sets);
	/* As the first process: without no_new_privs the filter needs CAP_SYS_ADMIN, so it goes
	 * before the drop; with it, as late as possible. */
	if (!o->no_new_privs && o->filter && secc_apply(o->filter, &e) < 0)
		child_fail(efd, EXIT_BERTH, e);
	if (caps_apply(&sets, &ids, &e) < 0)
		child_fail(efd, EXIT_BERTH, e);
	if (o->no_new_privs && caps_set_no_new_privs(&e) < 0)
		child_fail(efd, EXIT_BERTH, e);
	if (o->no_new_privs && o->filter && secc_apply(o->filter, &e) < 0)
		child_fail(efd, EXIT_BERTH, e);
	execve(path, o->argv, env);
	berr_make(&e, errno, "exec `%s`", path);
	child_fail(efd, errno == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_INVOKE, e);
}

/* ---- in the caller ---- */

int rt_exec_in(pid_t target, const char *cgroup_id, const struct rt_exec_opts *o, pid_t *child_pid,
	       struct berr **err)
{
	struct cg_system sys_local;
	const struct cg_system *sys = o->cg;
	struct cg_handle h;
	struct cg_join j = { .n = 0, .dir_fd = -1 };
	int nsfd[N_NS], pidns = -1, selfns = -1, rootfd = -1, sock[2] = { -1, -1 };
	char path[64];
	pid_t pid = -1;
	int ret = -1;

	for (size_t i = 0; i < N_NS; i++)
		nsfd[i] = -1;
	if (o->argv == NULL || o->argv[0] == NULL)
		return berr_usage(err, "exec: no command");
	for (size_t i = 0; i < N_NS; i++) {
		snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int) target, exec_ns[i].name);
		nsfd[i] = open(path, O_RDONLY | O_CLOEXEC);
		if (nsfd[i] < 0 && !(errno == ENOENT && exec_ns[i].type == CLONE_NEWCGROUP)) {
			berr_make(err, errno, "open `%s`", path);
			goto out;
		}
	}
	snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int) target);
	pidns = open(path, O_RDONLY | O_CLOEXEC);
	snprintf(path, sizeof(path), "/proc/%d/root", (int) target);
	rootfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	selfns = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
	if (pidns < 0 || rootfd < 0 || selfns < 0) {
		berr_make(err, errno, "open `/proc/%d/ns/pid` and `root`", (int) target);
		goto out;
	}
	if (o->target_start) {
		uint64_t start;
		struct berr *e = NULL;
		/* What was opened is the container's only if the pid is still its process. */
		if (rec_pid_start_time(target, &start, &e) < 0 || start != o->target_start) {
			berr_free(e);
			berr_make(err, ESRCH, "process %d is no longer the container's", (int) target);
			goto out;
		}
	}
	if (cgroup_id) {
		if (sys == NULL) {
			if (cg_detect(&sys_local, NULL, err) < 0)
				goto out;
			sys = &sys_local;
		}
		if (sys->version != CG_NONE) {
			if (cg_open(sys, cgroup_id, &h, err) < 0 || cg_join_open(&h, &j, err) < 0) {
				berr_wrap(err, "the container's cgroup");
				goto out;
			}
		}
	}
	if (o->tty && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sock) < 0) {
		berr_make(err, errno, "socketpair");
		goto out;
	}
	/* Only the next child is born in the container's pid namespace; this process stays. */
	if (setns(pidns, CLONE_NEWPID) < 0) {
		berr_make(err, errno, "join the container's pid namespace");
		goto out;
	}
	pid = fork();
	if (pid == 0) {
		close(sock[0]);
		child(o, nsfd, rootfd, &j, sock[1]);
	}
	{
		int saved = errno;
		if (setns(selfns, CLONE_NEWPID) < 0) {
			/* Never expected (our own namespace); later children would start in the
			 * container's otherwise, so say it loudly. */
			berr_make(err, errno, "return to berth's own pid namespace");
			if (pid > 0) {
				kill(pid, SIGKILL);
				waitpid(pid, NULL, 0);
			}
			goto out;
		}
		errno = saved;
	}
	if (pid < 0) {
		/* No init left in the namespace: the container is stopping. */
		berr_make(err, errno == ENOMEM ? ESRCH : errno, "start a process in the container");
		goto out;
	}
	if (o->tty) {
		int master;
		close(sock[1]);
		sock[1] = -1;
		master = recv_fd(sock[0]);
		if (master < 0) {
			/* The child failed before making the pty, and said why on err_fd; its
			 * status tells the rest. */
			if (o->pty_master)
				*o->pty_master = -1;
		} else if (o->pty_master) {
			*o->pty_master = master;
		} else {
			close(master);
		}
	}
	*child_pid = pid;
	ret = 0;
out:
	for (size_t i = 0; i < N_NS; i++)
		if (nsfd[i] >= 0)
			close(nsfd[i]);
	if (pidns >= 0)
		close(pidns);
	if (selfns >= 0)
		close(selfns);
	if (rootfd >= 0)
		close(rootfd);
	for (int i = 0; i < 2; i++)
		if (sock[i] >= 0)
			close(sock[i]);
	cg_join_close(&j);
	return ret;
}
