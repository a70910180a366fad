/* PID 1's early steps, as an ordered table of {name, fn, may_fail}: the kernel file systems,
 * cgroups, the board's sysinit program, the data partition, hostname, loopback, watchdog. */
#include "init.h"
#include "base/config.h"
#include "base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* How long the data partition's device may take to show up (USB, MMC and virtio probe
 * asynchronously). */
#define DATA_DEVICE_WAIT_MS 10000

/* The kernel's console_loglevel: records below it reach the console through kmsg already. */
static int console_loglevel(void)
{
	char buf[32] = "";
	int fd = open("/proc/sys/kernel/printk", O_RDONLY | O_CLOEXEC), level = -1;

	if (fd < 0)
		return -1;
	if (read(fd, buf, sizeof(buf) - 1) > 0)
		level = atoi(buf);
	close(fd);
	return level;
}

void init_report(bool error, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n, m, fd, prio = error ? 3 : 5;
	bool on_console = false;

	n = snprintf(buf, sizeof(buf), "<%d>berth init: ", prio);
	va_start(ap, fmt);
	m = vsnprintf(buf + n, sizeof(buf) - (size_t) n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		m = 0;
	n += m;
	if (n > (int) sizeof(buf) - 2)
		n = (int) sizeof(buf) - 2;
	buf[n++] = '\n';
	fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC | O_NOCTTY);
	if (fd >= 0) {
		on_console = write(fd, buf, (size_t) n) == n && prio < console_loglevel();
		close(fd);
	}
	/* Otherwise the console gets the line itself, without the kmsg priority. */
	if (!on_console && write(STDERR_FILENO, buf + 3, (size_t) n - 3) < 0) {
		/* nowhere left to report it */
	}
}

/* Is `path` a mount point? Its device differs from its parent's (or it is "/"). Works before
 * /proc is mounted. */
static bool is_mount_point(const char *path)
{
	char parent[4096];
	struct stat a, b;

	if (snprintf(parent, sizeof(parent), "%s/..", path) >= (int) sizeof(parent))
		return false;
	if (stat(path, &a) < 0 || stat(parent, &b) < 0)
		return false;
	return a.st_dev != b.st_dev || a.st_ino == b.st_ino;
}

/* mkdir -p with mode 0755, for mount points; an existing directory is fine. */
static int make_dir(const char *path)
{
	char buf[4096];

	if (str_copy(buf, sizeof(buf), path) < 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(buf, 0755) < 0 && errno != EEXIST)
		return -1;
	return 0;
}

/* Mount unless something is mounted there already (the kernel may have mounted devtmpfs). */
static int mount_once(const char *src, const char *target, const char *type, unsigned long flags,
		      const char *data)
{
	if (make_dir(target) < 0) {
		init_report(true, "cannot create mount point `%s`: %s", target, strerror(errno));
		return -1;
	}
	if (is_mount_point(target))
		return 0;
	if (mount(src, target, type, flags, data) < 0) {
		init_report(true, "cannot mount %s on `%s`: %s", type, target, strerror(errno));
		return -1;
	}
	return 0;
}

static const unsigned long NODEV_NOSUID_NOEXEC = MS_NODEV | MS_NOSUID | MS_NOEXEC;

static int step_proc(const struct berth_config *cfg)
{
	return mount_once("proc", "/proc", "proc", NODEV_NOSUID_NOEXEC, NULL);
}

static int step_sys(const struct berth_config *cfg)
{
	return mount_once("sysfs", "/sys", "sysfs", NODEV_NOSUID_NOEXEC, NULL);
}

/* fds 0-2 on the console: the kernel opens /dev/console for init only if the root file
 * system has the node, which a minimal initramfs may lack. */
static void console_fds(void)
{
	int fd;

	if (fcntl(STDIN_FILENO, F_GETFD) >= 0 && fcntl(STDERR_FILENO, F_GETFD) >= 0)
		return;
	fd = open("/dev/console", O_RDWR | O_NOCTTY);
	if (fd < 0)
		fd = open("/dev/null", O_RDWR);
	if (fd < 0)
		return;
	for (int i = 0; i < 3; i++)
		if (fcntl(i, F_GETFD) < 0)
			dup2(fd, i);
	if (fd > 2)
		close(fd);
}

static int step_dev(const struct berth_config *cfg)
{
	int ret = mount_once("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755");

	console_fds();
	return ret;
}

static int step_devpts(const struct berth_config *cfg)
{
	return mount_once("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
			  "gid=5,mode=0620,ptmxmode=0666");
}

static int step_shm(const struct berth_config *cfg)
{
	return mount_once("shm", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
}

static int step_run(const struct berth_config *cfg)
{
	return mount_once("run", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755");
}

/* A read-only root file system has no writable /tmp otherwise. */
static int step_tmp(const struct berth_config *cfg)
{
	return mount_once("tmp", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
}

/* Does /proc/filesystems list `fs`? */
static bool kernel_has_fs(const char *fs)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/filesystems", "re");
	char line[128];

	if (f == NULL)
		return false;
	while (fgets(line, sizeof(line), f)) {
		char *name = strrchr(line, '\t');

		name = name ? name + 1 : line;
		name[strcspn(name, "\n")] = '\0';
		if (strcmp(name, fs) == 0)
			return true;
	}
	return false;
}

/* v1: a tmpfs at /sys/fs/cgroup and one hierarchy per enabled controller from /proc/cgroups,
 * with cpu+cpuacct and net_cls+net_prio co-mounted as distributions do (symlinks keep the
 * single names working). */
static int mount_cgroup_v1(void)
{
	static const char *const pairs[][2] = { { "cpu", "cpuacct" }, { "net_cls", "net_prio" } };
	_cleanup_fclose_ FILE *f = NULL;
	char line[256], name[64], dir[200], opts[140];
	int hier, num, enabled, ret = 0, mounted = 0;

	if (mount_once("cgroup", "/sys/fs/cgroup", "tmpfs", NODEV_NOSUID_NOEXEC, "mode=0755") < 0)
		return -1;
	f = fopen("/proc/cgroups", "re");
	if (f == NULL) {
		init_report(true, "cannot read /proc/cgroups: %s", strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		const char *partner = NULL;
		bool second = false;

		if (line[0] == '#' || sscanf(line, "%63s %d %d %d", name, &hier, &num, &enabled) != 4 || !enabled)
			continue;
		for (size_t i = 0; i < ARRAY_SIZE(pairs); i++) {
			if (strcmp(name, pairs[i][0]) == 0)
				partner = pairs[i][1];
			else if (strcmp(name, pairs[i][1]) == 0)
				second = true;
		}
		if (second)
			continue; /* mounted with its partner */
		if (partner) {
			snprintf(opts, sizeof(opts), "%s,%s", name, partner);
			snprintf(dir, sizeof(dir), "/sys/fs/cgroup/%s", opts);
		} else {
			snprintf(opts, sizeof(opts), "%s", name);
			snprintf(dir, sizeof(dir), "/sys/fs/cgroup/%s", name);
		}
		if (mount_once("cgroup", dir, "cgroup", NODEV_NOSUID_NOEXEC, opts) < 0) {
			if (partner == NULL) {
				ret = -1;
				continue;
			}
			/* The partner may be compiled out: the controller alone. */
			rmdir(dir);
			snprintf(dir, sizeof(dir), "/sys/fs/cgroup/%s", name);
			if (mount_once("cgroup", dir, "cgroup", NODEV_NOSUID_NOEXEC, name) < 0) {
				ret = -1;
				continue;
			}
			partner = NULL;
		}
		mounted++;
		if (partner) {
			char link[200];

			snprintf(link, sizeof(link), "/sys/fs/cgroup/%s", name);
			if (symlink(opts, link) < 0 && errno != EEXIST)
				ret = -1;
			snprintf(link, sizeof(link), "/sys/fs/cgroup/%s", partner);
			if (symlink(opts, link) < 0 && errno != EEXIST)
				ret = -1;
		}
	}
	if (mounted == 0) {
		init_report(true, "no cgroup v1 controller is enabled in this kernel");
		return -1;
	}
	return ret;
}

static int step_cgroup(const struct berth_config *cfg)
{
	const char *want = cfg->init.cgroup ? cfg->init.cgroup : "auto";
	bool v2 = strcmp(want, "v2") == 0 || (strcmp(want, "auto") == 0 && kernel_has_fs("cgroup2"));

	if (v2)
		return mount_once("cgroup2", "/sys/fs/cgroup", "cgroup2", NODEV_NOSUID_NOEXEC, NULL);
	if (!kernel_has_fs("cgroup")) {
		init_report(true, "this kernel has no cgroup file system: apps cannot get memory or "
			    "CPU limits (enable CONFIG_CGROUPS)");
		return -1;
	}
	return mount_cgroup_v1();
}

/* The board's own program (module loading, network setup, ...), run to completion, as
 * BusyBox init's ::sysinit: line. Its exit status is reported, boot goes on either way. */
static int step_sysinit(const struct berth_config *cfg)
{
	const char *prog = cfg->init.sysinit;
	sigset_t all;
	pid_t pid;
	int ws;

	if (prog == NULL)
		return 0;
	pid = fork();
	if (pid < 0) {
		init_report(true, "sysinit `%s`: fork: %s", prog, strerror(errno));
		return -1;
	}
	if (pid == 0) {
		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		setsid();
		execl(prog, prog, (char *) NULL);
		init_report(true, "sysinit: cannot run `%s`: %s", prog, strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &ws, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (WIFEXITED(ws) && WEXITSTATUS(ws) == 0)
		return 0;
	if (WIFSIGNALED(ws))
		init_report(true, "sysinit `%s` was killed by signal %d", prog, WTERMSIG(ws));
	else
		init_report(true, "sysinit `%s` exited with status %d", prog, WEXITSTATUS(ws));
	return -1;
}

int init_mount_options(const char *opts, unsigned long *flags, char *data, size_t size)
{
	static const struct {
		const char *name;
		unsigned long set, clear;
	} known[] = {
		{ "defaults", 0, 0 },
		{ "ro", MS_RDONLY, 0 },
		{ "rw", 0, MS_RDONLY },
		{ "noatime", MS_NOATIME, MS_RELATIME | MS_STRICTATIME },
		{ "relatime", MS_RELATIME, MS_NOATIME | MS_STRICTATIME },
		{ "strictatime", MS_STRICTATIME, MS_NOATIME | MS_RELATIME },
		{ "nodiratime", MS_NODIRATIME, 0 },
		{ "lazytime", MS_LAZYTIME, 0 },
		{ "nosuid", MS_NOSUID, 0 },
		{ "suid", 0, MS_NOSUID },
		{ "nodev", MS_NODEV, 0 },
		{ "dev", 0, MS_NODEV },
		{ "noexec", MS_NOEXEC, 0 },
		{ "exec", 0, MS_NOEXEC },
		{ "sync", MS_SYNCHRONOUS, 0 },
		{ "async", 0, MS_SYNCHRONOUS },
		{ "dirsync", MS_DIRSYNC, 0 },
	};
	size_t used = 0;
	const char *p = opts ? opts : "";

	*flags = 0;
	if (size == 0)
		return -1;
	data[0] = '\0';
	while (*p) {
		size_t len = strcspn(p, ",");
		bool found = false;

		for (size_t i = 0; len && i < ARRAY_SIZE(known); i++) {
			if (strlen(known[i].name) == len && strncmp(p, known[i].name, len) == 0) {
				*flags = (*flags & ~known[i].clear) | known[i].set;
				found = true;
				break;
			}
		}
		if (len && !found) {
			if (used + (used ? 1 : 0) + len + 1 > size)
				return -1;
			if (used)
				data[used++] = ',';
			memcpy(data + used, p, len);
			used += len;
			data[used] = '\0';
		}
		p += len;
		if (*p == ',')
			p++;
	}
	return 0;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int step_data(const struct berth_config *cfg)
{
	const struct cfg_init *c = &cfg->init;
	unsigned long flags;
	char data[1024];
	int waited = 0;

	if (c->data_device == NULL)
		return 0; /* the data root lives on the root file system */
	if (init_mount_options(c->data_options, &flags, data, sizeof(data)) < 0) {
		init_report(true, "[init] data-options `%s` is too long", c->data_options);
		return -1;
	}
	while (access(c->data_device, F_OK) < 0 && waited < DATA_DEVICE_WAIT_MS) {
		sleep_ms(100);
		waited += 100;
	}
	if (make_dir(c->data_mount) < 0) {
		init_report(true, "cannot create the data mount point `%s`: %s", c->data_mount, strerror(errno));
		return -1;
	}
	if (is_mount_point(c->data_mount))
		return 0;
	if (mount(c->data_device, c->data_mount, c->data_fstype, flags, data[0] ? data : NULL) < 0) {
		int e = errno;

		init_report(true, "cannot mount the data partition `%s` (%s) on `%s`: %s%s", c->data_device,
			    c->data_fstype, c->data_mount, strerror(e),
			    e == ENOENT || e == ENXIO ? " (no such device after 10 s)" : "");
		init_report(true, "apps will not start: check [init] data-device, data-fstype and "
			    "data-options in the config, and that the kernel has the driver");
		return -1;
	}
	return 0;
}

/* First line of /etc/hostname when [init] hostname is unset. */
static int step_hostname(const struct berth_config *cfg)
{
	char buf[HOST_NAME_MAX + 2] = "";
	const char *name = cfg->init.hostname;

	if (name == NULL) {
		_cleanup_fclose_ FILE *f = fopen("/etc/hostname", "re");

		if (f == NULL || fgets(buf, sizeof(buf), f) == NULL)
			return 0;
		buf[strcspn(buf, "\r\n \t")] = '\0';
		if (buf[0] == '\0')
			return 0;
		name = buf;
	}
	if (sethostname(name, strlen(name)) < 0) {
		init_report(true, "cannot set the hostname to `%s`: %s", name, strerror(errno));
		return -1;
	}
	return 0;
}

static int step_loopback(const struct berth_config *cfg)
{
	_cleanup_close_ int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) {
		init_report(true, "loopback: %s", strerror(errno));
		return -1;
	}
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0) {
		init_report(true, "cannot bring loopback up: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static int step_watchdog(const struct berth_config *cfg)
{
	return init_watchdog_open(cfg);
}

static const struct init_step {
	const char *name;
	int (*fn)(const struct berth_config *cfg);
	bool may_fail;
} steps[] = {
	{ "mount /proc", step_proc, false },
	{ "mount /sys", step_sys, false },
	{ "mount /dev", step_dev, false },
	{ "mount /dev/pts", step_devpts, false },
	{ "mount /dev/shm", step_shm, true },
	{ "mount /run", step_run, false },
	{ "mount /tmp", step_tmp, true },
	{ "mount cgroups", step_cgroup, true },
	{ "sysinit", step_sysinit, true },
	{ "mount the data partition", step_data, false },
	{ "hostname", step_hostname, true },
	{ "loopback", step_loopback, true },
	{ "watchdog", step_watchdog, true },
};

int init_early(const struct berth_config *cfg)
{
	int ret = 0;

	for (size_t i = 0; i < ARRAY_SIZE(steps); i++) {
		if (steps[i].fn(cfg) == 0)
			continue;
		if (steps[i].may_fail) {
			init_report(false, "step `%s` failed; going on", steps[i].name);
		} else {
			init_report(true, "step `%s` failed", steps[i].name);
			ret = -1;
		}
	}
	return ret;
}
