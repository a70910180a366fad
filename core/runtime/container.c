/* Container start: clone, the sync protocol, and the child's side up to exec.
 * The root is built in the child's own mount namespace, so every mount made here vanishes
 * with the container; nothing is left on the host to clean up. */
#include "runtime/container.h"
#include "runtime/cgroup.h"
#include "runtime/device.h"
#include "runtime/init.h"
#include "runtime/resolve.h"
#include "base/err.h"
#include "base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#ifndef SYS_clone3
#define SYS_clone3 435 /* the same number on every architecture */
#endif
#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

/* clone3's arguments up to `cgroup` (CLONE_ARGS_SIZE_VER2), spelled out so that older
 * kernel headers build it too. */
struct clone3_args {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
	uint64_t set_tid, set_tid_size, cgroup;
};

#define SYNC_MSG_MAX 4096
#define SYNC_PTY 'P' /* a message carrying the pty master; errors start with their status */

#ifndef TIOCGPTPEER
#define TIOCGPTPEER 0x5441 /* Linux 4.13: open the slave from the master, no path lookup */
#endif

/* Docker's masked and read-only /proc and /sys paths (the run reference's defaults). */
static const char *const masked_paths[] = {
	"/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
	"/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
	"/sys/firmware", "/sys/devices/virtual/powercap",
};
static const char *const readonly_paths[] = {
	"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};

static const struct {
	const char *name;
	unsigned major, minor;
} dev_nodes[] = {
	{ "null", 1, 3 }, { "zero", 1, 5 }, { "full", 1, 7 },
	{ "random", 1, 8 }, { "urandom", 1, 9 }, { "tty", 5, 0 },
};

static int child_sync_fd = -1;

/* ---- the child ---- */

void rt_child_fail(int status, struct berr *err)
{
	char msg[SYNC_MSG_MAX];
	int n;

	n = snprintf(msg, sizeof(msg), "%d %s", status, err && err->msg ? err->msg : "unknown error");
	if (n > (int) sizeof(msg) - 1)
		n = (int) sizeof(msg) - 1;
	berr_free(err); /* this process may share berth's memory (rt_spawn) */
	if (child_sync_fd >= 0 && write(child_sync_fd, msg, (size_t) n) < 0) {
		/* the parent is gone: nobody to tell */
	}
	_exit(status);
}

/* mount() on the fd's own path, so the target is exactly what was resolved inside the root. */
static int mount_at(int fd, const char *source, const char *fstype, unsigned long flags,
		    const char *data, const char *what, struct berr **err)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (mount(source, path, fstype, flags, data) < 0)
		return berr_make(err, errno, "mount %s", what);
	return 0;
}

static int mount_in_root(int rootfd, const char *target, enum resolve_create create, const char *source,
			 const char *fstype, unsigned long flags, const char *data, struct berr **err)
{
	int fd = resolve_in_root(rootfd, target, create, err), r;

	if (fd < 0)
		return berr_wrap(err, "mount target `%s`", target);
	r = mount_at(fd, source, fstype, flags, data, target, err);
	close(fd);
	return r;
}

/* Bind, then (if asked) remount read-only: a bind takes its flags only on remount. */
static int bind_in_root(int rootfd, const char *source, const char *target, bool readonly, struct berr **err)
{
	struct stat st;
	char path[64];
	int fd, r = 0;

	if (stat(source, &st) < 0)
		return berr_make(err, errno, "bind source `%s`", source);
	fd = resolve_in_root(rootfd, target, S_ISDIR(st.st_mode) ? RESOLVE_CREATE_DIR : RESOLVE_CREATE_FILE, err);
	if (fd < 0)
		return berr_wrap(err, "mount target `%s`", target);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (mount(source, path, NULL, MS_BIND | MS_REC, NULL) < 0)
		r = berr_make(err, errno, "bind `%s` on `%s`", source, target);
	close(fd);
	if (r == 0 && readonly) {
		/* The fd names the directory under the new mount: resolve again. */
		fd = resolve_in_root(rootfd, target, RESOLVE_NO_CREATE, err);
		if (fd < 0)
			return -1;
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		if (mount(NULL, path, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC, NULL) < 0)
			r = berr_make(err, errno, "make `%s` read-only", target);
		close(fd);
	}
	return r;
}

/* Pass the pty master to the parent (SCM_RIGHTS), which copies between it and the user. */
static int send_master(int fd, struct berr **err)
{
	char tag = SYNC_PTY;
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
	if (sendmsg(child_sync_fd, &m, MSG_NOSIGNAL) < 0)
		return berr_make(err, errno, "pass the pty to berth");
	return 0;
}

/* -t: a pty pair from the container's own devpts (mounted just before). The slave becomes
 * stdin, stdout, stderr and the controlling tty; the master leaves for the parent. Returns the
 * slave, for /dev/console. */
static int setup_pty(int rootfd, const struct rt_config *c, struct berr **err)
{
	int master, slave, unlock = 0;

	master = resolve_open(rootfd, "/dev/pts/ptmx", O_RDWR | O_NOCTTY, err);
	if (master < 0)
		return berr_wrap(err, "open the container's pty");
	if (ioctl(master, TIOCSPTLCK, &unlock) < 0) {
		close(master);
		return berr_make(err, errno, "unlock the container's pty");
	}
	slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0) {
		unsigned n;
		char p[64];

		if (ioctl(master, TIOCGPTN, &n) < 0) {
			close(master);
			return berr_make(err, errno, "the container's pty number");
		}
		snprintf(p, sizeof(p), "/dev/pts/%u", n);
		slave = resolve_open(rootfd, p, O_RDWR | O_NOCTTY, err);
		if (slave < 0) {
			close(master);
			return -1;
		}
	}
	if (c->tty_rows && c->tty_cols) {
		struct winsize ws = { .ws_row = c->tty_rows, .ws_col = c->tty_cols };
		ioctl(master, TIOCSWINSZ, &ws); /* a size is a nicety, not worth failing for */
	}
	if (send_master(master, err) < 0) {
		close(master);
		close(slave);
		return -1;
	}
	close(master);
	for (int i = 0; i < 3; i++)
		if (dup2(slave, i) < 0) {
			close(slave);
			return berr_make(err, errno, "make the pty stdio");
		}
	if (ioctl(0, TIOCSCTTY, 0) < 0) {
		close(slave);
		return berr_make(err, errno, "make the pty the controlling terminal");
	}
	return slave;
}

static int setup_dev(int rootfd, const struct rt_config *c, struct berr **err)
{
	int console = c->console_fd;
	char shm[64];
	int devfd;

	if (mount_in_root(rootfd, "/dev", RESOLVE_CREATE_DIR, "tmpfs", "tmpfs", MS_NOSUID | MS_STRICTATIME,
			  "mode=755,size=65536k", err) < 0)
		return -1;
	devfd = resolve_in_root(rootfd, "/dev", RESOLVE_NO_CREATE, err);
	if (devfd < 0)
		return -1;
	{
		/* O_PATH fds cannot be used with mknodat: open the directory for real. */
		char p[64];
		int real;
		snprintf(p, sizeof(p), "/proc/self/fd/%d", devfd);
		real = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		close(devfd);
		if (real < 0)
			return berr_make(err, errno, "open the container's /dev");
		devfd = real;
	}
	for (size_t i = 0; i < ARRAY_SIZE(dev_nodes); i++) {
		if (mknodat(devfd, dev_nodes[i].name, S_IFCHR | 0666, makedev(dev_nodes[i].major, dev_nodes[i].minor)) < 0) {
			close(devfd);
			return berr_make(err, errno, "create /dev/%s", dev_nodes[i].name);
		}
		fchmodat(devfd, dev_nodes[i].name, 0666, 0); /* the umask applied at mknod */
	}
	if (symlinkat("pts/ptmx", devfd, "ptmx") < 0 || symlinkat("/proc/self/fd", devfd, "fd") < 0 ||
	    symlinkat("/proc/self/fd/0", devfd, "stdin") < 0 || symlinkat("/proc/self/fd/1", devfd, "stdout") < 0 ||
	    symlinkat("/proc/self/fd/2", devfd, "stderr") < 0 || mkdirat(devfd, "pts", 0755) < 0 ||
	    mkdirat(devfd, "shm", 01777) < 0 || mkdirat(devfd, "mqueue", 0755) < 0) {
		close(devfd);
		return berr_make(err, errno, "populate the container's /dev");
	}
	if (c->console_fd >= 0 || c->tty) {
		int fd = openat(devfd, "console", O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		if (fd >= 0)
			close(fd);
	}
	close(devfd);
	/* A devpts of its own: the container's ptys are invisible to the host and others. */
	if (mount_in_root(rootfd, "/dev/pts", RESOLVE_NO_CREATE, "devpts", "devpts", MS_NOSUID | MS_NOEXEC,
			  "newinstance,ptmxmode=0666,mode=0620,gid=5", err) < 0)
		return -1;
	snprintf(shm, sizeof(shm), "mode=1777,size=%llu",
		 (unsigned long long) (c->shm_size ? c->shm_size : 64ull << 20));
	if (mount_in_root(rootfd, "/dev/shm", RESOLVE_NO_CREATE, "shm", "tmpfs",
			  MS_NOSUID | MS_NODEV | MS_NOEXEC, shm, err) < 0)
		return -1;
	if (mount_in_root(rootfd, "/dev/mqueue", RESOLVE_NO_CREATE, "mqueue", "mqueue",
			  MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, err) < 0)
		return -1;
	if (c->tty && (console = setup_pty(rootfd, c, err)) < 0)
		return -1;
	if (console >= 0) {
		char src[64];
		int r;

		snprintf(src, sizeof(src), "/proc/self/fd/%d", console);
		r = mount_in_root(rootfd, "/dev/console", RESOLVE_NO_CREATE, src, NULL, MS_BIND, NULL, err);
		if (console != c->console_fd)
			close(console);
		if (r < 0)
			return -1;
	}
	return 0;
}

static int mask_paths(int rootfd, struct berr **err)
{
	for (size_t i = 0; i < ARRAY_SIZE(masked_paths); i++) {
		struct berr *e = NULL;
		struct stat st;
		char p[64];
		int fd = resolve_in_root(rootfd, masked_paths[i], RESOLVE_NO_CREATE, &e);

		if (fd < 0) {
			berr_free(e); /* not in this kernel: nothing to hide */
			continue;
		}
		snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
		if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
			if (mount("tmpfs", p, "tmpfs", MS_RDONLY, "size=0") < 0) {
				close(fd);
				return berr_make(err, errno, "mask `%s`", masked_paths[i]);
			}
		} else if (mount("/dev/null", p, NULL, MS_BIND, NULL) < 0) {
			close(fd);
			return berr_make(err, errno, "mask `%s`", masked_paths[i]);
		}
		close(fd);
	}
	for (size_t i = 0; i < ARRAY_SIZE(readonly_paths); i++) {
		struct berr *e = NULL;
		struct stat st;

		char p[64];
		int fd = resolve_in_root(rootfd, readonly_paths[i], RESOLVE_NO_CREATE, &e);

		if (fd < 0) {
			berr_free(e); /* not in this kernel */
			continue;
		}
		snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
		if (fstat(fd, &st) < 0 || mount(p, p, NULL, MS_BIND | MS_REC, NULL) < 0) {
			close(fd);
			return berr_make(err, errno, "make `%s` read-only", readonly_paths[i]);
		}
		close(fd);
		/* The old fd names what is under the new bind: the remount needs the bind. */
		fd = resolve_in_root(rootfd, readonly_paths[i], RESOLVE_NO_CREATE, err);
		if (fd < 0)
			return -1;
		snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
		if (mount(NULL, p, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC, NULL) < 0) {
			close(fd);
			return berr_make(err, errno, "make `%s` read-only", readonly_paths[i]);
		}
		close(fd);
	}
	return 0;
}

static int setup_root(const struct rt_config *c, struct berr **err)
{
	int rootfd, ret = -1;

	/* Nothing mounted from here on may propagate back to the host. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return berr_make(err, errno, "make mounts private");
	if (c->overlay_opts && mount("overlay", c->rootfs, "overlay", 0, c->overlay_opts) < 0) {
		/* `volatile` is Linux 5.10: an older overlayfs refuses it, and syncs. */
		size_t n = strlen(c->overlay_opts), v = strlen(OVERLAY_VOLATILE);
		char *plain;
		if (errno != EINVAL || n < v || strcmp(c->overlay_opts + n - v, OVERLAY_VOLATILE) != 0)
			return berr_make(err, errno, "mount the container's overlay on `%s`", c->rootfs);
		plain = strndup(c->overlay_opts, n - v);
		if (plain == NULL || mount("overlay", c->rootfs, "overlay", 0, plain) < 0) {
			berr_make(err, plain ? errno : ENOMEM, "mount the container's overlay on `%s`", c->rootfs);
			free(plain);
			return -1;
		}
		free(plain);
	}
	/* pivot_root wants the new root to be a mount point of this namespace: the overlay just
	 * mounted is one; a root given as a directory is bound onto itself. */
	if (!c->overlay_opts && mount(c->rootfs, c->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
		return berr_make(err, errno, "bind the root `%s`", c->rootfs);
	rootfd = open(c->rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return berr_make(err, errno, "open the root `%s`", c->rootfs);
	if (mount_in_root(rootfd, "/proc", RESOLVE_CREATE_DIR, "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
			  NULL, err) < 0 ||
	    setup_dev(rootfd, c, err) < 0 ||
	    mount_in_root(rootfd, "/sys", RESOLVE_CREATE_DIR, "sysfs", "sysfs",
			  MS_NOSUID | MS_NODEV | MS_NOEXEC | (c->privileged ? 0 : MS_RDONLY), NULL, err) < 0)
		goto out;
	if ((c->hosts_file && bind_in_root(rootfd, c->hosts_file, "/etc/hosts", false, err) < 0) ||
	    (c->resolv_file && bind_in_root(rootfd, c->resolv_file, "/etc/resolv.conf", false, err) < 0) ||
	    (c->hostname_file && bind_in_root(rootfd, c->hostname_file, "/etc/hostname", false, err) < 0))
		goto out;
	for (size_t i = 0; i < c->n_mounts; i++) {
		const struct rt_mount *m = &c->mounts[i];
		if (m->kind == RT_MOUNT_TMPFS) {
			if (mount_in_root(rootfd, m->target, RESOLVE_CREATE_DIR, "tmpfs", "tmpfs",
					  MS_NOSUID | MS_NODEV | (m->readonly ? MS_RDONLY : 0),
					  m->options ? m->options : "mode=1777", err) < 0)
				goto out;
		} else if (bind_in_root(rootfd, m->source, m->target, m->readonly, err) < 0) {
			goto out;
		}
	}
	/* After the mounts, as a container sees its paths; before the masks and pivot_root. */
	for (size_t i = 0; i < c->n_devices; i++)
		if (dev_create_in_root(rootfd, &c->devices[i], err) < 0)
			goto out;
	if (c->cwd) {
		struct stat st;
		int fd = resolve_in_root(rootfd, c->cwd, RESOLVE_CREATE_DIR, err);
		if (fd < 0) {
			berr_wrap(err, "working directory");
			goto out;
		}
		if (fstat(fd, &st) == 0 && !S_ISDIR(st.st_mode)) {
			close(fd);
			berr_make(err, 0, "working directory `%s` is not a directory", c->cwd);
			goto out;
		}
		close(fd);
	}
	if (!c->privileged && mask_paths(rootfd, err) < 0)
		goto out;
	if (c->readonly_rootfs &&
	    mount(NULL, c->rootfs, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL) < 0) {
		berr_make(err, errno, "make the root read-only");
		goto out;
	}
	/* pivot_root(".", ".") stacks the old root under the new one; detaching it leaves the
	 * container with nothing of the host's file system. */
	if (fchdir(rootfd) < 0) {
		berr_make(err, errno, "enter `%s`", c->rootfs);
		goto out;
	}
	if (syscall(SYS_pivot_root, ".", ".") == 0) {
		if (umount2(".", MNT_DETACH) < 0 || chdir("/") < 0) {
			berr_make(err, errno, "detach the old root");
			goto out;
		}
	} else if (errno == EINVAL && mount(".", "/", NULL, MS_MOVE, NULL) == 0 && chroot(".") == 0 &&
		   chdir("/") == 0) {
		/* The host runs from its initramfs (berth as PID 1 before a switch_root), which
		 * pivot_root refuses: move the root over "/" instead. The old root is then out of
		 * reach through the mount table; the mount namespace still holds it. */
	} else {
		berr_make(err, errno, "pivot_root into `%s`", c->rootfs);
		goto out;
	}
	if (c->cwd && chdir(c->cwd) < 0) {
		berr_make(err, errno, "chdir `%s`", c->cwd);
		goto out;
	}
	ret = 0;
out:
	close(rootfd);
	return ret;
}

/* The supervisor shields itself from the OOM killer (oom_score_adj -1000) and children inherit
 * that: an app at its memory cap that the kernel may not kill stays stuck instead. Back to 0,
 * as Docker starts containers; raising it needs no privilege. */
static void reset_oom_score_adj(void)
{
	char buf[16] = "";
	int fd = open("/proc/self/oom_score_adj", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return;
	if (read(fd, buf, sizeof(buf) - 1) > 0 && atoi(buf) < 0 && lseek(fd, 0, SEEK_SET) == 0 &&
	    write(fd, "0", 1) < 0) {
		/* the app keeps the supervisor's protection; nothing better to do here */
	}
	close(fd);
}

static void reset_signals(void)
{
	sigset_t all;

	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			signal(s, SIG_DFL);
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
}

/* --init: fork once. This process stays as the container's PID 1 and reaps (init.c); the
 * child returns to go on to the exec step, in a process group of its own that has the
 * terminal (so ^C reaches the command, not the reaper). */
static void start_init(void)
{
	struct berr *err = NULL;
	sigset_t old;
	pid_t pid;

	/* Blocked before the fork, so nothing sent in between is lost. */
	init_block_signals(&old);
	pid = fork();
	if (pid < 0) {
		berr_make(&err, errno, "fork the init");
		rt_child_fail(125, err);
	}
	if (pid > 0) {
		if (init_drop_privileges(&err) < 0) {
			kill(pid, SIGKILL);
			rt_child_fail(125, err);
		}
		/* The command's exec closes its copy of the sync socket; ours goes now. */
		close(child_sync_fd);
		child_sync_fd = -1;
		init_run(pid);
	}
	if (setpgid(0, 0) == 0 && isatty(0)) {
		sigset_t ttou;

		sigemptyset(&ttou);
		sigaddset(&ttou, SIGTTOU); /* a background group may take the terminal so */
		sigprocmask(SIG_BLOCK, &ttou, NULL);
		if (tcsetpgrp(0, getpid()) < 0) {
			/* job control is a nicety */
		}
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
}

static void __attribute__((noreturn)) child_main(const struct rt_config *c, int sync_fd)
{
	struct berr *err = NULL;
	int status = 125;

	child_sync_fd = sync_fd;
	reset_signals();
	reset_oom_score_adj();
	if (setsid() < 0) {
		berr_make(&err, errno, "setsid");
		rt_child_fail(125, err);
	}
	for (int i = 0; i < 3; i++)
		if (c->stdio[i] >= 0 && c->stdio[i] != i && dup2(c->stdio[i], i) < 0) {
			berr_make(&err, errno, "set up stdio");
			rt_child_fail(125, err);
		}
	if (c->console_fd >= 0 && ioctl(c->console_fd, TIOCSCTTY, 0) < 0) {
		berr_make(&err, errno, "make the pty the controlling terminal");
		rt_child_fail(125, err);
	}
	if (setup_root(c, &err) < 0)
		rt_child_fail(125, err);
	if (c->hostname && sethostname(c->hostname, strlen(c->hostname)) < 0) {
		berr_make(&err, errno, "set hostname `%s`", c->hostname);
		rt_child_fail(125, err);
	}
	/* In its cgroup (joined first thing, in child_start): the container sees it as the root
	 * of its cgroup namespace. */
	if (unshare(CLONE_NEWCGROUP) < 0) {
		berr_make(&err, errno, "new cgroup namespace (`berth check`)");
		rt_child_fail(125, err);
	}
	if (c->init)
		start_init();
	(c->exec_fn ? c->exec_fn : rt_exec_plain)(c, c->exec_data, &status, &err);
	rt_child_fail(status, err);
}

/* ---- exec ---- */

static const char *env_get(char *const *envp, const char *name)
{
	size_t n = strlen(name);

	for (; envp && *envp; envp++)
		if (strncmp(*envp, name, n) == 0 && (*envp)[n] == '=')
			return *envp + n + 1;
	return NULL;
}

int rt_exec_plain(const struct rt_config *c, void *data, int *status, struct berr **err)
{
	const char *path, *p;
	char buf[PATH_MAX];
	int saved = ENOENT;

	(void) data;
	if (c->argv == NULL || c->argv[0] == NULL || c->argv[0][0] == '\0') {
		*status = 125;
		return berr_make(err, 0, "no command specified");
	}
	if (strchr(c->argv[0], '/')) {
		execve(c->argv[0], c->argv, c->envp);
		saved = errno;
	} else {
		/* PATH as the container's environment has it, looked up in the container. */
		path = env_get(c->envp, "PATH");
		if (path == NULL)
			path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
		for (p = path;; p++) {
			const char *end = strchr(p, ':');
			size_t len = end ? (size_t) (end - p) : strlen(p);
			if (len > 0 && len + strlen(c->argv[0]) + 2 <= sizeof(buf)) {
				memcpy(buf, p, len);
				buf[len] = '/';
				strcpy(buf + len + 1, c->argv[0]);
				execve(buf, c->argv, c->envp);
				if (errno == EACCES || (errno != ENOENT && errno != ENOTDIR))
					saved = errno; /* found but not runnable: remember why */
			}
			if (end == NULL)
				break;
			p = end;
		}
	}
	/* Docker's statuses: 127 not found, 126 found but cannot be run. */
	if (saved == ENOENT || saved == ENOTDIR) {
		*status = 127;
		if (strchr(c->argv[0], '/'))
			return berr_make(err, 0, "exec `%s`: no such file or directory", c->argv[0]);
		return berr_make(err, 0, "exec `%s`: executable file not found in $PATH", c->argv[0]);
	}
	*status = 126;
	return berr_make(err, saved, "exec `%s`", c->argv[0]);
}

/* ---- the parent ---- */

/* What the child is handed: clone() passes one pointer. */
struct child_start {
	const struct rt_config *c;
	int sync_fd;
	bool in_cgroup;            /* born there (clone3 CLONE_INTO_CGROUP) */
};

static int __attribute__((noreturn)) child_start(void *arg)
{
	const struct child_start *cs = arg;
	int r;

	/* Before anything else, so that all it does counts against its limits. */
	if (!cs->in_cgroup && cs->c->join && (r = cg_join_self(cs->c->join)) < 0) {
		struct berr *err = NULL;
		child_sync_fd = cs->sync_fd;
		berr_make(&err, -r, "join cgroup `%s`", cs->c->cgroup_name ? cs->c->cgroup_name : "?");
		rt_child_fail(125, err);
	}
	child_main(cs->c, cs->sync_fd);
}

/* The child's stack while it shares our memory: only the pages it touches are made, and a
 * guard page below catches an overflow. */
#define CHILD_STACK (1u << 20)

static char *child_stack(struct berr **err)
{
	char *stack = mmap(NULL, CHILD_STACK, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);

	if (stack == MAP_FAILED) {
		berr_make(err, errno, "the container's start stack");
		return NULL;
	}
	if (mprotect(stack, (size_t) sysconf(_SC_PAGESIZE), PROT_NONE) < 0) {
		berr_make(err, errno, "the container's start stack");
		munmap(stack, CHILD_STACK);
		return NULL;
	}
	return stack;
}

int rt_spawn(const struct rt_config *c, struct rt_child *out, struct berr **err)
{
	unsigned long flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC;
	struct child_start cs = { c, -1, false };
	sigset_t all, old_mask;
	char *stack = NULL;
	int sv[2], saved;
	pid_t pid = -1;

	if (c->new_net)
		flags |= CLONE_NEWNET;
	/* vfork, but for --init: no copy of our page tables to make, and no page of ours copied
	 * on write by either side afterwards (about 55 page faults fewer, an eighth of a start
	 * on a VM). The child runs on a stack of its own until its exec, while we wait. It
	 * shares our heap: it frees what it allocates before the exec, and changes nothing else
	 * of ours that we use after. A process killed in the middle of a malloc could leave the
	 * heap inconsistent; berth kills a container only once it is recorded running, after
	 * this. --init's reaper stays as PID 1 and never execs: its child is a copy. */
	if (!c->init && (stack = child_stack(err)) == NULL)
		return -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		saved = errno;
		if (stack)
			munmap(stack, CHILD_STACK);
		return berr_make(err, saved, "sync socket");
	}
	cs.sync_fd = sv[1];
	fflush(NULL);
	/* Until the child has reset them, a signal must not run one of berth's handlers in it,
	 * in memory it may share with berth: all blocked across the clone (the child unblocks
	 * them in reset_signals, ours come back after). */
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old_mask);
	if (stack) {
		pid = clone(child_start, stack + CHILD_STACK, (int) (flags | CLONE_VM | CLONE_VFORK | SIGCHLD), &cs);
	} else {
		if (c->join && c->join->dir_fd >= 0) {
			/* Born in its cgroup: no migration. Any failure (ENOSYS, E2BIG before Linux
			 * 5.7) takes the plain way below, where the child joins it itself. */
			struct clone3_args ca = { .flags = flags | CLONE_INTO_CGROUP, .exit_signal = SIGCHLD,
						  .cgroup = (uint64_t) c->join->dir_fd };
			cs.in_cgroup = true;
			pid = (pid_t) syscall(SYS_clone3, &ca, sizeof(ca));
			if (pid < 0)
				cs.in_cgroup = false;
		}
		/* clone(2) without a new stack behaves like fork, but the child starts as PID 1 of
		 * its own PID namespace and stays berth's direct child (no intermediate process). */
		if (pid < 0)
			pid = (pid_t) syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, NULL);
		if (pid == 0) {
			close(sv[0]);
			child_start(&cs);
		}
	}
	saved = errno;
	sigprocmask(SIG_SETMASK, &old_mask, NULL);
	if (stack)
		munmap(stack, CHILD_STACK);
	close(sv[1]);
	if (pid < 0) {
		close(sv[0]);
		return berr_make(err, saved, "clone the container (namespaces: `berth check`)");
	}
	out->pid = pid;
	out->sync_fd = sv[0];
	out->pty_master = -1;
	return 0;
}

void rt_abort(struct rt_child *ch)
{
	if (ch->pid > 0) {
		kill(ch->pid, SIGKILL);
		while (waitpid(ch->pid, NULL, 0) < 0 && errno == EINTR)
			;
		ch->pid = -1;
	}
	if (ch->sync_fd >= 0) {
		close(ch->sync_fd);
		ch->sync_fd = -1;
	}
	if (ch->pty_master >= 0) {
		close(ch->pty_master);
		ch->pty_master = -1;
	}
}

/* One message from the child; a passed fd lands in *fd (else -1). */
static ssize_t sync_recv(int sock, char *buf, size_t size, int *fd)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct iovec iov = { buf, size };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			    .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *cm;
	ssize_t n;

	*fd = -1;
	do
		n = recvmsg(sock, &m, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	for (cm = n >= 0 ? CMSG_FIRSTHDR(&m) : NULL; cm; cm = CMSG_NXTHDR(&m, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
		    cm->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(fd, CMSG_DATA(cm), sizeof(int));
	return n;
}

int rt_release(struct rt_child *ch, int *status, struct berr **err)
{
	char msg[SYNC_MSG_MAX + 1];
	ssize_t n;
	char *sp;

	/* The child's end closes on exec (CLOEXEC): EOF means it is running the command. Before
	 * that, with -t, the pty master arrives; a failure sends its message instead. */
	for (;;) {
		int fd;

		n = sync_recv(ch->sync_fd, msg, SYNC_MSG_MAX, &fd);
		if (n == 1 && msg[0] == SYNC_PTY && fd >= 0 && ch->pty_master < 0) {
			ch->pty_master = fd;
			continue;
		}
		if (fd >= 0)
			close(fd);
		break;
	}
	close(ch->sync_fd);
	ch->sync_fd = -1;
	/* EOF: it exec'd (or was killed before it could say anything: its wait status tells). */
	if (n == 0)
		return 0;
	if (n < 0) {
		int saved = errno;
		rt_abort(ch);
		*status = 125;
		return berr_make(err, saved, "read from the container");
	}
	msg[n] = '\0';
	*status = (int) strtol(msg, &sp, 10);
	if (*status <= 0 || *status > 255)
		*status = 125;
	while (waitpid(ch->pid, NULL, 0) < 0 && errno == EINTR)
		;
	ch->pid = -1;
	rt_abort(ch); /* the pty master, if any */
	return berr_make(err, 0, "%s", *sp == ' ' ? sp + 1 : sp);
}
