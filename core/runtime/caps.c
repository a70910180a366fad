/* Capability names and sets, Docker's rules for --cap-add/--cap-drop/--privileged, and the
 * capset(2)/prctl(2) sequence that applies them in the container's child, with raw syscalls. */
#include "runtime/caps.h"
#include "runtime/user.h"
#include "base/err.h"
#include "base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_RAISE 2
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif

/* Index = capability number (capabilities(7)). */
static const char *const cap_names[] = {
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
	"CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
	"CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW",
	"CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
	"CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
	"CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
	"CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE",
	"CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
	"CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
};
#define CAP_KNOWN_LAST ((int) ARRAY_SIZE(cap_names) - 1)

uint64_t caps_default(void)
{
	static const int defaults[] = {
		CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FSETID, CAP_FOWNER, CAP_MKNOD, CAP_NET_RAW,
		CAP_SETGID, CAP_SETUID, CAP_SETFCAP, CAP_SETPCAP, CAP_NET_BIND_SERVICE,
		CAP_SYS_CHROOT, CAP_KILL, CAP_AUDIT_WRITE,
	};
	uint64_t m = 0;

	for (size_t i = 0; i < ARRAY_SIZE(defaults); i++)
		m |= CAPS_BIT(defaults[i]);
	return m;
}

int caps_from_name(const char *name)
{
	if (name == NULL)
		return -1;
	if (strncasecmp(name, "CAP_", 4) == 0)
		name += 4;
	for (int i = 0; i <= CAP_KNOWN_LAST; i++)
		if (strcasecmp(name, cap_names[i] + 4) == 0)
			return i;
	return -1;
}

const char *caps_name(int cap)
{
	if (cap < 0 || cap > CAP_KNOWN_LAST)
		return NULL;
	return cap_names[cap];
}

int caps_kernel_last(void)
{
	/* The kernel's answer never changes while it runs; a start asks some sixty times. */
	static int cached = -1;
	char buf[16] = { 0 };
	int fd, last = -1;

	if (cached >= 0)
		return cached;
	fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n > 0) {
			char *end;
			long v = strtol(buf, &end, 10);
			if (end != buf && v >= 0 && v < CAPS_MAX)
				last = (int) v;
		}
	}
	if (last < 0) {
		/* Without /proc (early in PID 1): the bounding set answers EINVAL past the end. */
		last = 0;
		while (last + 1 < CAPS_MAX && prctl(PR_CAPBSET_READ, last + 1, 0, 0, 0) >= 0)
			last++;
	}
	cached = last > CAP_KNOWN_LAST ? CAP_KNOWN_LAST : last;
	return cached;
}

uint64_t caps_all(int last_cap)
{
	if (last_cap < 0)
		return 0;
	if (last_cap >= CAPS_MAX - 1)
		return UINT64_MAX;
	return (CAPS_BIT(last_cap + 1)) - 1;
}

static bool is_all(const char *s)
{
	return strcasecmp(s, "ALL") == 0 || strcasecmp(s, "CAP_ALL") == 0;
}

/* Parse one list; `*all` tells whether ALL was named. */
static int parse_list(char *const *names, size_t n, const char *flag, int last_cap,
		      uint64_t *mask, bool *all, struct berr **err)
{
	*mask = 0;
	*all = false;
	for (size_t i = 0; i < n; i++) {
		int cap;

		if (is_all(names[i])) {
			*all = true;
			continue;
		}
		cap = caps_from_name(names[i]);
		if (cap < 0)
			return berr_usage(err, "%s: unknown capability `%s` (names as in "
					  "capabilities(7), e.g. NET_ADMIN or CAP_NET_ADMIN, or ALL)",
					  flag, names[i]);
		if (cap > last_cap)
			return berr_usage(err, "%s: capability `%s` is not supported by this "
					  "kernel", flag, caps_name(cap));
		*mask |= CAPS_BIT(cap);
	}
	return 0;
}

int caps_compute(const struct caps_opts *o, int last_cap, uint64_t *out, struct berr **err)
{
	uint64_t add, drop, all = caps_all(last_cap);
	bool add_all, drop_all;

	*out = 0;
	if (parse_list(o->add, o->n_add, "--cap-add", last_cap, &add, &add_all, err) < 0 ||
	    parse_list(o->drop, o->n_drop, "--cap-drop", last_cap, &drop, &drop_all, err) < 0)
		return -1;
	/* Docker run reference, "Runtime privilege and Linux capabilities". */
	if (o->privileged)
		*out = all;
	else if (add_all)
		*out = all & ~drop;
	else if (drop_all)
		*out = add;
	else
		*out = ((caps_default() & all) & ~drop) | add;
	return 0;
}

void caps_sets_for_user(uint64_t caps, uint32_t uid, struct caps_sets *out)
{
	memset(out, 0, sizeof(*out));
	out->bounding = caps;
	if (uid == 0) {
		out->effective = caps;
		out->permitted = caps;
	}
}

char *caps_format(uint64_t caps, char *buf, size_t size)
{
	size_t len = 0;

	if (size == 0)
		return buf;
	buf[0] = '\0';
	for (int c = 0; c < CAPS_MAX; c++) {
		char num[16];
		const char *name;
		size_t need;

		if (!(caps & CAPS_BIT(c)))
			continue;
		name = caps_name(c);
		if (name == NULL) {
			snprintf(num, sizeof(num), "%d", c);
			name = num;
		}
		need = strlen(name) + (len ? 1 : 0);
		if (len + need + 1 > size) {
			if (size >= 4) {
				size_t at = len + 4 > size ? size - 4 : len;
				memcpy(buf + at, "...", 4);
			}
			return buf;
		}
		if (len)
			buf[len++] = ',';
		memcpy(buf + len, name, strlen(name) + 1);
		len += strlen(name);
	}
	return buf;
}

static int capset_sets(const struct caps_sets *s)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];

	memset(data, 0, sizeof(data));
	for (int i = 0; i < 2; i++) {
		data[i].effective = (uint32_t) (s->effective >> (32 * i));
		data[i].permitted = (uint32_t) (s->permitted >> (32 * i));
		data[i].inheritable = (uint32_t) (s->inheritable >> (32 * i));
	}
	return (int) syscall(SYS_capset, &hdr, data);
}

/* 32-bit ids: the *32 calls where the architecture also has 16-bit ones (arm, i386). */
#ifdef SYS_setgroups32
#define SYS_SETGROUPS SYS_setgroups32
#define SYS_SETGID SYS_setgid32
#define SYS_SETUID SYS_setuid32
#else
#define SYS_SETGROUPS SYS_setgroups
#define SYS_SETGID SYS_setgid
#define SYS_SETUID SYS_setuid
#endif

int caps_apply(const struct caps_sets *s, const struct user_ids *id, struct berr **err)
{
	int last = caps_kernel_last();

	for (int c = 0; c <= last; c++) {
		if (s->bounding & CAPS_BIT(c))
			continue;
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
			return berr_make_errno(err, "drop %s from the bounding set", caps_name(c));
	}
	if (id != NULL) {
		/* Keep the permitted set across setuid; capset below trims it to what is asked. */
		if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
			return berr_make_errno(err, "prctl(PR_SET_KEEPCAPS)");
		/* The system calls themselves: they change this task alone. The C library's
		 * wrappers change every thread of the process, which a child that shares berth's
		 * memory until its exec (rt_spawn) would reach into berth's. */
		if (syscall(SYS_SETGROUPS, id->n_groups, id->n_groups ? id->groups : NULL) < 0)
			return berr_make_errno(err, "setgroups (%zu groups)", id->n_groups);
		if (syscall(SYS_SETGID, id->gid) < 0)
			return berr_make_errno(err, "setgid %u", id->gid);
		if (syscall(SYS_SETUID, id->uid) < 0)
			return berr_make_errno(err, "setuid %u", id->uid);
		if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
			return berr_make_errno(err, "prctl(PR_SET_KEEPCAPS)");
	}
	if (capset_sets(s) < 0)
		return berr_make_errno(err, "capset");
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && s->ambient != 0)
		return berr_make_errno(err, "clear the ambient capabilities (Linux 4.3 or later "
				       "is needed for ambient capabilities)");
	for (int c = 0; c <= last; c++) {
		if (!(s->ambient & CAPS_BIT(c)))
			continue;
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0)
			return berr_make_errno(err, "raise ambient %s", caps_name(c));
	}
	return 0;
}

int caps_set_no_new_privs(struct berr **err)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return berr_make_errno(err, "prctl(PR_SET_NO_NEW_PRIVS)");
	return 0;
}
