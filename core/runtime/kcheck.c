/* `berth check` probes: kernel version and config, namespaces, no_new_privs, seccomp, overlay,
 * squashfs, loop and network links. cgroups, storage and rtnetlink have their own files. */
#include "runtime/kcheck.h"
#include "base/err.h"
#include "base/fs.h"
#include "base/paths.h"
#include "base/util.h"
#include "config.h"

#include <archive.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#define KCONFIG_MAX (4u << 20)
#define MODLIST_MAX (8u << 20)

/* ---- the result list ---- */

void kcheck_add(struct kcheck_list *l, const char *name, bool required, enum kcheck_status st,
		const char *fmt, ...)
{
	struct kcheck_item *it;
	va_list ap;

	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 32;
		l->items = xrealloc(l->items, l->cap * sizeof(*l->items));
	}
	it = &l->items[l->n++];
	memset(it, 0, sizeof(*it));
	snprintf(it->name, sizeof(it->name), "%s", name);
	it->required = required;
	it->status = (st == KCHECK_MISSING && !required) ? KCHECK_WARN : st;
	va_start(ap, fmt);
	vsnprintf(it->detail, sizeof(it->detail), fmt, ap);
	va_end(ap);
}

void kcheck_list_free(struct kcheck_list *l)
{
	free(l->items);
	l->items = NULL;
	l->n = l->cap = 0;
}

const char *kcheck_status_name(enum kcheck_status st)
{
	switch (st) {
	case KCHECK_OK:
		return "ok";
	case KCHECK_WARN:
		return "warn";
	case KCHECK_MISSING:
		return "MISSING";
	}
	return "?";
}

bool kcheck_list_ok(const struct kcheck_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->items[i].status == KCHECK_MISSING)
			return false;
	return true;
}

int kcheck_in_child(int (*fn)(const void *arg), const void *arg)
{
	int status;
	pid_t pid, r;

	pid = fork();
	if (pid < 0)
		return errno;
	if (pid == 0) {
		int e;
		/* A probe must never hang the console: the default SIGALRM action ends the child. */
		alarm(5);
		e = fn(arg);
		_exit(e < 0 || e > 255 ? EPROTO : e);
	}
	do
		r = waitpid(pid, &status, 0);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return errno;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM ? KCHECK_E_HUNG : KCHECK_E_DIED;
}

const char *kcheck_strerror(int e)
{
	if (e == KCHECK_E_HUNG)
		return "probe hung";
	if (e == KCHECK_E_DIED)
		return "probe killed by a signal";
	return strerror(e);
}

/* ---- pure parsers ---- */

static const char *next_line(const char *p)
{
	const char *nl = strchr(p, '\n');
	return nl ? nl + 1 : p + strlen(p);
}

char kcheck_kconfig_get(const char *text, const char *opt)
{
	size_t len = strlen(opt);

	for (const char *line = text; *line; line = next_line(line)) {
		if (strncmp(line, opt, len) == 0 && line[len] == '=') {
			char v = line[len + 1];
			return v == 'm' ? 'm' : v == 'n' ? 'n' : 'y';
		}
		if (strncmp(line, "# ", 2) == 0 && strncmp(line + 2, opt, len) == 0 &&
		    strncmp(line + 2 + len, " is not set", 11) == 0)
			return 'n';
	}
	return 'n';
}

int kcheck_parse_kernel_version(const char *release, unsigned *major, unsigned *minor,
				unsigned *patch)
{
	unsigned a, b, c = 0;

	if (sscanf(release, "%u.%u.%u", &a, &b, &c) < 2)
		return -1;
	*major = a;
	*minor = b;
	*patch = c;
	return 0;
}

bool kcheck_filesystems_has(const char *text, const char *fs)
{
	size_t len = strlen(fs);

	for (const char *line = text; *line; line = next_line(line)) {
		const char *name = strchr(line, '\t');
		const char *end = next_line(line);

		name = (name && name < end) ? name + 1 : line;
		while (*name == ' ' || *name == '\t')
			name++;
		if (strncmp(name, fs, len) == 0 && (name[len] == '\n' || name[len] == '\0' ||
						    name[len] == ' ' || name[len] == '\r'))
			return true;
	}
	return false;
}

/* Module names treat '-' and '_' alike (modprobe(8)). */
static bool modname_eq(const char *a, size_t alen, const char *b)
{
	if (alen != strlen(b))
		return false;
	for (size_t i = 0; i < alen; i++) {
		char x = a[i] == '-' ? '_' : a[i], y = b[i] == '-' ? '_' : b[i];
		if (x != y)
			return false;
	}
	return true;
}

bool kcheck_modlist_has(const char *text, const char *mod)
{
	for (const char *line = text; *line; line = next_line(line)) {
		size_t n = strcspn(line, ":\n");
		const char *base = line, *ko;

		for (const char *p = line; p < line + n; p++)
			if (*p == '/')
				base = p + 1;
		/* "overlay.ko", "overlay.ko.xz", "overlay.ko.zst" */
		for (ko = base; ko + 3 <= line + n && strncmp(ko, ".ko", 3) != 0; ko++)
			;
		if (ko + 3 > line + n)
			continue;
		if (modname_eq(base, (size_t) (ko - base), mod))
			return true;
	}
	return false;
}

/* ---- helpers for the probes ---- */

struct probe {
	struct kcheck_list *l;
	const struct kcheck_opts *opts;
	struct utsname uts;
	unsigned kmajor, kminor, kpatch;
	bool is_root;
	char *kconfig;          /* kernel config text, NULL if not readable */
	char kconfig_src[128];
	char *builtin;          /* modules.builtin, NULL if not readable */
	char *moddep;           /* modules.dep, NULL if not readable */
	char *filesystems;      /* /proc/filesystems, "" if not readable */
};

static char *read_text(const char *path, size_t max)
{
	struct berr *err = NULL;
	char *text = NULL;

	if (fs_read_file(path, max, &text, NULL, &err) < 0) {
		berr_free(err);
		return NULL;
	}
	return text;
}

static bool path_exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

/* /proc/config.gz is gzip with no archive format around it: libarchive's raw format reads it. */
static char *read_config_gz(const char *path)
{
	struct archive *a = archive_read_new();
	struct archive_entry *entry;
	size_t cap = 64 << 10, n = 0;
	char *buf = NULL;

	if (a == NULL)
		return NULL;
	archive_read_support_filter_gzip(a);
	archive_read_support_format_raw(a);
	if (archive_read_open_filename(a, path, 16384) != ARCHIVE_OK ||
	    archive_read_next_header(a, &entry) != ARCHIVE_OK)
		goto fail;
	buf = xmalloc(cap);
	for (;;) {
		la_ssize_t r;
		if (n + 1 >= cap) {
			if (cap >= KCONFIG_MAX)
				goto fail;
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
		r = archive_read_data(a, buf + n, cap - n - 1);
		if (r < 0)
			goto fail;
		if (r == 0)
			break;
		n += (size_t) r;
	}
	buf[n] = '\0';
	archive_read_free(a);
	return buf;
fail:
	free(buf);
	archive_read_free(a);
	return NULL;
}

static void load_kernel_config(struct probe *p)
{
	char path[128];

	p->kconfig = read_config_gz("/proc/config.gz");
	if (p->kconfig) {
		snprintf(p->kconfig_src, sizeof(p->kconfig_src), "/proc/config.gz");
		return;
	}
	snprintf(path, sizeof(path), "/boot/config-%s", p->uts.release);
	p->kconfig = read_text(path, KCONFIG_MAX);
	if (p->kconfig)
		snprintf(p->kconfig_src, sizeof(p->kconfig_src), "%s", path);
}

/* 'y', 'm', 'n', or '?' when there is no kernel config to ask. */
static char kconf(const struct probe *p, const char *opt)
{
	return p->kconfig ? kcheck_kconfig_get(p->kconfig, opt) : '?';
}

/* MOD_UNINSTALLED: the kernel config says module, but no .ko is on this root file system. */
enum mod_state { MOD_LOADED, MOD_BUILTIN, MOD_AVAILABLE, MOD_UNINSTALLED, MOD_ABSENT, MOD_UNKNOWN };

/* Where a driver stands: loaded, built in, installable as a module, or not there. */
static enum mod_state module_state(const struct probe *p, const char *mod, const char *kopt,
				   const char *ko_dir)
{
	static const char *const exts[] = { "", ".xz", ".zst", ".gz" };
	char path[512];
	char k = kconf(p, kopt);

	snprintf(path, sizeof(path), "/sys/module/%s", mod);
	if (path_exists(path))
		return MOD_LOADED;
	if ((p->builtin && kcheck_modlist_has(p->builtin, mod)) || k == 'y')
		return MOD_BUILTIN;
	if (p->moddep && kcheck_modlist_has(p->moddep, mod))
		return MOD_AVAILABLE;
	for (size_t i = 0; ko_dir && i < ARRAY_SIZE(exts); i++) {
		snprintf(path, sizeof(path), "/lib/modules/%s/kernel/%s/%s.ko%s", p->uts.release, ko_dir,
			 mod, exts[i]);
		if (path_exists(path))
			return MOD_AVAILABLE;
	}
	if (k == 'm')
		return MOD_UNINSTALLED;
	return (k == 'n' || p->moddep) ? MOD_ABSENT : MOD_UNKNOWN;
}

/* ---- kernel ---- */

enum kneed { K_REQ, K_OPT, K_SQFS, K_SECCOMP, K_BEFORE_4_7 };

static const struct {
	const char *opt;
	enum kneed need;
	const char *what;
} kconfig_opts[] = {
	{ "CONFIG_NAMESPACES", K_REQ, "namespaces" },
	{ "CONFIG_UTS_NS", K_REQ, "uts namespace" },
	{ "CONFIG_IPC_NS", K_REQ, "ipc namespace" },
	{ "CONFIG_PID_NS", K_REQ, "pid namespace" },
	{ "CONFIG_NET_NS", K_REQ, "net namespace" },
	{ "CONFIG_USER_NS", K_OPT, "user namespace" },
	{ "CONFIG_CGROUPS", K_REQ, "cgroups" },
	{ "CONFIG_MEMCG", K_REQ, "memory limits" },
	{ "CONFIG_CGROUP_PIDS", K_REQ, "pids limits" },
	{ "CONFIG_CPUSETS", K_OPT, "cpuset" },
	{ "CONFIG_CGROUP_SCHED", K_REQ, "cpu controller" },
	{ "CONFIG_CFS_BANDWIDTH", K_OPT, "cpu quotas" },
	{ "CONFIG_BLK_CGROUP", K_OPT, "io controller" },
	{ "CONFIG_OVERLAY_FS", K_REQ, "overlayfs" },
	{ "CONFIG_SQUASHFS", K_SQFS, "squashfs layers" },
	{ "CONFIG_SQUASHFS_XATTR", K_SQFS, "xattrs in layers" },
	{ "CONFIG_SQUASHFS_ZLIB", K_OPT, "gzip layers" },
	{ "CONFIG_SQUASHFS_ZSTD", K_OPT, "zstd layers" },
	{ "CONFIG_SQUASHFS_XZ", K_OPT, "xz layers" },
	{ "CONFIG_BLK_DEV_LOOP", K_SQFS, "loop devices" },
	{ "CONFIG_SECCOMP", K_SECCOMP, "seccomp" },
	{ "CONFIG_SECCOMP_FILTER", K_SECCOMP, "seccomp filters" },
	{ "CONFIG_VETH", K_OPT, "veth networking" },
	{ "CONFIG_BRIDGE", K_OPT, "bridge networking" },
	{ "CONFIG_POSIX_MQUEUE", K_OPT, "/dev/mqueue" },
	{ "CONFIG_DEVPTS_MULTIPLE_INSTANCES", K_BEFORE_4_7, "private /dev/pts" },
};

static void check_kernel_version(struct probe *p)
{
	const char *name = "kernel.version";

	if (kcheck_parse_kernel_version(p->uts.release, &p->kmajor, &p->kminor, &p->kpatch) < 0) {
		kcheck_add(p->l, name, true, KCHECK_WARN, "cannot parse `%.40s`", p->uts.release);
		return;
	}
	/* Cgroup namespaces came in 4.6; 4.19 is the oldest long-term kernel berth is tried on
	 * (overlay redirect_dir and index, squashfs zstd, the cgroup2 cpu controller). */
	if (p->kmajor < 4 || (p->kmajor == 4 && p->kminor < 6))
		kcheck_add(p->l, name, true, KCHECK_MISSING, "%u.%u.%u is too old: berth needs 4.6 or later",
			   p->kmajor, p->kminor, p->kpatch);
	else if (p->kmajor == 4 && p->kminor < 19)
		kcheck_add(p->l, name, true, KCHECK_WARN, "%u.%u.%u %s: older than 4.19, not tested",
			   p->kmajor, p->kminor, p->kpatch, p->uts.machine);
	else
		kcheck_add(p->l, name, true, KCHECK_OK, "%u.%u.%u %s", p->kmajor, p->kminor, p->kpatch,
			   p->uts.machine);
}

static void check_kernel_config(struct probe *p)
{
	const char *name = "kernel.config";
	bool old = p->kmajor < 4 || (p->kmajor == 4 && p->kminor < 7);
	unsigned checked = 0, problems = 0;
	char src[64];

	if (p->kconfig == NULL) {
		kcheck_add(p->l, name, false, KCHECK_WARN, "not readable: enable CONFIG_IKCONFIG_PROC");
		return;
	}
	for (size_t i = 0; i < ARRAY_SIZE(kconfig_opts); i++) {
		bool required;

		switch (kconfig_opts[i].need) {
		case K_REQ:
			required = true;
			break;
		case K_SQFS:
			required = ENABLE_SQUASHFS_WRITER;
			break;
		case K_SECCOMP:
			required = ENABLE_SECCOMP;
			break;
		case K_BEFORE_4_7:
			if (!old)
				continue;
			required = true;
			break;
		default:
			required = false;
			break;
		}
		checked++;
		if (kcheck_kconfig_get(p->kconfig, kconfig_opts[i].opt) != 'n')
			continue;
		problems++;
		kcheck_add(p->l, name, required, KCHECK_MISSING, "%s is not set (%s)", kconfig_opts[i].opt,
			   kconfig_opts[i].what);
	}
	if (problems == 0) {
		kcheck_shorten_path(src, sizeof(src), p->kconfig_src, KCHECK_DETAIL_COLS - 25);
		kcheck_add(p->l, name, false, KCHECK_OK, "all %u options set in %s", checked, src);
	}
}

/* ---- namespaces ---- */

static const struct {
	const char *name;       /* check name suffix */
	const char *proc;       /* /proc/self/ns/<proc>, /proc/sys/user/max_<proc>_namespaces */
	int flag;
	const char *kconfig;
	bool required;
} namespaces[] = {
	{ "mount", "mnt", CLONE_NEWNS, NULL, true },
	{ "pid", "pid", CLONE_NEWPID, "CONFIG_PID_NS", true },
	{ "uts", "uts", CLONE_NEWUTS, "CONFIG_UTS_NS", true },
	{ "ipc", "ipc", CLONE_NEWIPC, "CONFIG_IPC_NS", true },
	{ "net", "net", CLONE_NEWNET, "CONFIG_NET_NS", true },
	{ "cgroup", "cgroup", CLONE_NEWCGROUP, "CONFIG_CGROUPS", true },
	{ "user", "user", CLONE_NEWUSER, "CONFIG_USER_NS", false },
};

static int unshare_child(const void *arg)
{
	return unshare(*(const int *) arg) < 0 ? errno : 0;
}

/* A /proc/sys integer, or -1 if it cannot be read. */
static long read_sysctl(const char *path)
{
	_cleanup_free_ char *text = read_text(path, 64);
	return text ? strtol(text, NULL, 10) : -1;
}

static void check_namespace(struct probe *p, size_t i)
{
	char name[KCHECK_NAME_MAX], path[128];
	bool req = namespaces[i].required;
	bool user = namespaces[i].flag == CLONE_NEWUSER;
	int e;

	snprintf(name, sizeof(name), "ns.%s", namespaces[i].name);
	snprintf(path, sizeof(path), "/proc/self/ns/%s", namespaces[i].proc);
	if (!path_exists(path)) {
		kcheck_add(p->l, name, req, KCHECK_MISSING, "not in this kernel%s%s",
			   namespaces[i].kconfig ? ": " : "", namespaces[i].kconfig ? namespaces[i].kconfig : "");
		return;
	}
	/* Only root may make most namespaces; a user namespace is worth trying as anyone. */
	if (!p->opts->probe || (!p->is_root && !user)) {
		kcheck_add(p->l, name, req, KCHECK_OK, "supported (not tried: not root)");
		return;
	}
	e = kcheck_in_child(unshare_child, &namespaces[i].flag);
	if (e == 0) {
		kcheck_add(p->l, name, req, KCHECK_OK, "works");
		return;
	}
	snprintf(path, sizeof(path), "/proc/sys/user/max_%s_namespaces", namespaces[i].proc);
	if (read_sysctl(path) == 0)
		kcheck_add(p->l, name, req, KCHECK_MISSING, "user.max_%s_namespaces is 0", namespaces[i].proc);
	else if (user && !p->is_root && read_sysctl("/proc/sys/kernel/unprivileged_userns_clone") == 0)
		kcheck_add(p->l, name, req, KCHECK_MISSING, "kernel.unprivileged_userns_clone is 0");
	else if (e == EINVAL && namespaces[i].kconfig)
		kcheck_add(p->l, name, req, KCHECK_MISSING, "not in this kernel: %s", namespaces[i].kconfig);
	else if (e == ENOSPC)
		kcheck_add(p->l, name, req, KCHECK_MISSING, "limit reached: user.max_%s_namespaces",
			   namespaces[i].proc);
	else
		kcheck_add(p->l, name, req, KCHECK_MISSING, "unshare: %s", kcheck_strerror(e));
}

/* ---- no_new_privs and seccomp ---- */

static int nnp_child(const void *arg)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return errno;
	return prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1 ? 0 : EPROTO;
}

static int seccomp_child(const void *arg)
{
	struct sock_filter allow[] = { BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW) };
	struct sock_fprog prog = { .len = 1, .filter = allow };

	/* Unprivileged filters need no_new_privs; root could do without, berth sets it anyway. */
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0)
		return errno;
	return 0;
}

static void check_no_new_privs(struct probe *p)
{
	const char *name = "security.no_new_privs";
	int e;

	if (!p->opts->probe) {
		kcheck_add(p->l, name, true, KCHECK_OK, "not tried");
		return;
	}
	e = kcheck_in_child(nnp_child, NULL);
	if (e == 0)
		kcheck_add(p->l, name, true, KCHECK_OK, "works");
	else if (e == EINVAL)
		kcheck_add(p->l, name, true, KCHECK_MISSING, "not in this kernel (needs 3.5)");
	else
		kcheck_add(p->l, name, true, KCHECK_MISSING, "prctl: %s", kcheck_strerror(e));
}

static void check_seccomp(struct probe *p)
{
	_cleanup_free_ char *status = read_text("/proc/self/status", 64 << 10);
	const char *name = "seccomp";
	bool req = ENABLE_SECCOMP;
	int e;

	if (status && strstr(status, "\nSeccomp:") == NULL) {
		kcheck_add(p->l, name, req, KCHECK_MISSING, "not in this kernel: CONFIG_SECCOMP");
		return;
	}
	if (!p->opts->probe) {
		kcheck_add(p->l, name, req, KCHECK_OK, "supported (not tried)");
		return;
	}
	e = kcheck_in_child(seccomp_child, NULL);
	if (e == 0)
		kcheck_add(p->l, name, req, KCHECK_OK, "filter mode works");
	else if (e == EINVAL)
		kcheck_add(p->l, name, req, KCHECK_MISSING, "no filter mode: CONFIG_SECCOMP_FILTER");
	else
		kcheck_add(p->l, name, req, KCHECK_MISSING, "filter install: %s", kcheck_strerror(e));
}

/* ---- file systems and loop ---- */

static void check_filesystem(struct probe *p, const char *fs, const char *kopt, const char *ko_dir,
			     bool req)
{
	char name[KCHECK_NAME_MAX];

	snprintf(name, sizeof(name), "fs.%s", fs);
	if (kcheck_filesystems_has(p->filesystems, fs)) {
		kcheck_add(p->l, name, req, KCHECK_OK, "supported");
		return;
	}
	switch (module_state(p, fs, kopt, ko_dir)) {
	case MOD_AVAILABLE:
		kcheck_add(p->l, name, req, KCHECK_MISSING, "module not loaded: modprobe %s", fs);
		break;
	case MOD_UNINSTALLED:
		kcheck_add(p->l, name, req, KCHECK_MISSING, "module %s.ko not installed", fs);
		break;
	case MOD_LOADED:
	case MOD_BUILTIN:
		kcheck_add(p->l, name, req, KCHECK_MISSING, "driver present, not in /proc/filesystems");
		break;
	default:
		kcheck_add(p->l, name, req, KCHECK_MISSING, "not in this kernel: %s", kopt);
		break;
	}
}

static void check_squashfs(struct probe *p)
{
	static const struct {
		const char *opt, *name;
	} comps[] = {
		{ "CONFIG_SQUASHFS_ZLIB", "gzip" }, { "CONFIG_SQUASHFS_XZ", "xz" },
		{ "CONFIG_SQUASHFS_ZSTD", "zstd" }, { "CONFIG_SQUASHFS_LZ4", "lz4" },
		{ "CONFIG_SQUASHFS_LZO", "lzo" },
	};
	bool req = ENABLE_SQUASHFS_WRITER;
	char list[64] = "";

	if (!kcheck_filesystems_has(p->filesystems, "squashfs") || p->kconfig == NULL) {
		check_filesystem(p, "squashfs", "CONFIG_SQUASHFS", "fs/squashfs", req);
		return;
	}
	for (size_t i = 0; i < ARRAY_SIZE(comps); i++)
		if (kcheck_kconfig_get(p->kconfig, comps[i].opt) != 'n')
			snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", list[0] ? " " : "",
				 comps[i].name);
	/* berth writes layers with [store] compression: a kernel without it cannot mount them. */
	for (size_t i = 0; i < ARRAY_SIZE(comps); i++) {
		if (p->opts->compression == NULL || strcmp(p->opts->compression, comps[i].name) != 0 ||
		    kcheck_kconfig_get(p->kconfig, comps[i].opt) != 'n')
			continue;
		kcheck_add(p->l, "fs.squashfs", false, KCHECK_WARN, "no %s (has %s): %s", comps[i].name,
			   list[0] ? list : "none", comps[i].opt);
		return;
	}
	kcheck_add(p->l, "fs.squashfs", req, KCHECK_OK, "supported (%s)", list[0] ? list : "no compressor");
}

static void check_loop(struct probe *p)
{
	const char *name = "dev.loop";
	bool req = ENABLE_SQUASHFS_WRITER; /* without squashfs layers nothing is loop-mounted */
	struct stat st;

	if (stat("/dev/loop-control", &st) == 0 && S_ISCHR(st.st_mode)) {
		kcheck_add(p->l, name, req, KCHECK_OK, "/dev/loop-control");
		return;
	}
	switch (module_state(p, "loop", "CONFIG_BLK_DEV_LOOP", "drivers/block")) {
	case MOD_LOADED:
	case MOD_BUILTIN:
		kcheck_add(p->l, name, req, KCHECK_MISSING, "no /dev/loop-control: mount devtmpfs on /dev");
		break;
	case MOD_AVAILABLE:
		kcheck_add(p->l, name, req, KCHECK_MISSING, "module not loaded: modprobe loop");
		break;
	case MOD_UNINSTALLED:
		kcheck_add(p->l, name, req, KCHECK_MISSING, "module loop.ko not installed");
		break;
	default:
		kcheck_add(p->l, name, req, KCHECK_MISSING, "not in this kernel: CONFIG_BLK_DEV_LOOP");
		break;
	}
}

/* ---- network ---- */

static void check_net_link(struct probe *p, const char *kind, const char *kopt, const char *ko_dir)
{
	char name[KCHECK_NAME_MAX];
	enum mod_state ms;
	int e;

	snprintf(name, sizeof(name), "net.%s", kind);
	ms = module_state(p, kind, kopt, ko_dir);
	if (p->opts->probe && p->is_root) {
		e = kcheck_net_try_link(kind);
		if (e == 0) {
			kcheck_add(p->l, name, false, KCHECK_OK, "works (tried in a scratch net namespace)");
			return;
		}
		/* EOPNOTSUPP: the kernel knows no such link kind, even after trying to load it. */
		if (e == EOPNOTSUPP) {
			if (ms == MOD_AVAILABLE)
				kcheck_add(p->l, name, false, KCHECK_WARN, "module did not load: modprobe %s", kind);
			else if (ms == MOD_UNINSTALLED)
				kcheck_add(p->l, name, false, KCHECK_WARN, "module %s.ko not installed", kind);
			else
				kcheck_add(p->l, name, false, KCHECK_WARN, "not in this kernel: %s", kopt);
			return;
		}
		/* EPERM: not allowed to make a namespace here (a locked-down container); judge the
		 * driver from what the kernel shows instead. */
		if (e != EPERM) {
			kcheck_add(p->l, name, false, KCHECK_WARN, "test link failed: %s", kcheck_strerror(e));
			return;
		}
	}
	switch (ms) {
	case MOD_LOADED:
		kcheck_add(p->l, name, false, KCHECK_OK, "loaded");
		break;
	case MOD_BUILTIN:
		kcheck_add(p->l, name, false, KCHECK_OK, "built in");
		break;
	case MOD_AVAILABLE:
		kcheck_add(p->l, name, false, KCHECK_WARN, "module not loaded: modprobe %s", kind);
		break;
	case MOD_UNINSTALLED:
		kcheck_add(p->l, name, false, KCHECK_WARN, "module %s.ko not installed", kind);
		break;
	case MOD_ABSENT:
		kcheck_add(p->l, name, false, KCHECK_WARN, "not in this kernel: %s", kopt);
		break;
	case MOD_UNKNOWN:
		kcheck_add(p->l, name, false, KCHECK_WARN, "no module found, no kernel config to ask");
		break;
	}
}

/* ---- all of it ---- */

int kcheck_run(struct kcheck_list *out, const struct kcheck_opts *opts, struct berr **err)
{
	struct probe p = { .l = out, .opts = opts };
	char path[256];

	if (uname(&p.uts) < 0)
		return berr_make(err, errno, "uname");
	p.is_root = geteuid() == 0;
	load_kernel_config(&p);
	snprintf(path, sizeof(path), "/lib/modules/%s/modules.builtin", p.uts.release);
	p.builtin = read_text(path, MODLIST_MAX);
	snprintf(path, sizeof(path), "/lib/modules/%s/modules.dep", p.uts.release);
	p.moddep = read_text(path, MODLIST_MAX);
	p.filesystems = read_text("/proc/filesystems", 64 << 10);
	if (p.filesystems == NULL)
		p.filesystems = xstrdup("");

	check_kernel_version(&p);
	check_kernel_config(&p);
	for (size_t i = 0; i < ARRAY_SIZE(namespaces); i++)
		check_namespace(&p, i);
	check_no_new_privs(&p);
	check_seccomp(&p);
	check_filesystem(&p, "overlay", "CONFIG_OVERLAY_FS", "fs/overlayfs", true);
	check_squashfs(&p);
	check_loop(&p);
	kcheck_cgroups_run(out, "/proc");
	check_net_link(&p, "veth", "CONFIG_VETH", "drivers/net");
	check_net_link(&p, "bridge", "CONFIG_BRIDGE", "net/bridge");
	kcheck_storage_run(out, opts->data_root ? opts->data_root : PATHS_DEFAULT_ROOT);

	free(p.kconfig);
	free(p.builtin);
	free(p.moddep);
	free(p.filesystems);
	return 0;
}
