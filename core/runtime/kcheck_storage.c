/* `berth check` storage probe: is the data root on a writable, persistent file system that
 * can hold overlay upper dirs, and how much room is there. */
#include "runtime/kcheck.h"
#include "base/util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/vfs.h>

/* statfs(2) f_type values (include/uapi/linux/magic.h), so no kernel header is needed. */
static const struct {
	uint64_t magic;
	const char *name;
} fs_magics[] = {
	{ 0xEF53, "ext4" }, /* ext2, ext3 and ext4 share it */
	{ 0xF2F52010, "f2fs" },
	{ 0x24051905, "ubifs" },
	{ 0x72b6, "jffs2" },
	{ 0x9123683E, "btrfs" },
	{ 0x58465342, "xfs" },
	{ 0x01021994, "tmpfs" },
	{ 0x858458f6, "ramfs" },
	{ 0x794c7630, "overlay" },
	{ 0x73717368, "squashfs" },
	{ 0xE0F5E1E2, "erofs" },
	{ 0x28cd3d45, "cramfs" },
	{ 0x6969, "nfs" },
	{ 0xFF534D42, "cifs" },
	{ 0x4d44, "vfat" },
	{ 0x2011BAB0, "exfat" },
	{ 0x5346544e, "ntfs" },
	{ 0x65735546, "fuse" },
	{ 0x9fa0, "proc" },
	{ 0x62656572, "sysfs" },
};

const char *kcheck_fs_type_name(uint64_t magic)
{
	for (size_t i = 0; i < ARRAY_SIZE(fs_magics); i++)
		if (fs_magics[i].magic == (magic & 0xffffffffu))
			return fs_magics[i].name;
	return NULL;
}

void kcheck_format_size(char *buf, size_t size, uint64_t bytes)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	double v = (double) bytes;
	size_t u = 0;

	while (v >= 1024 && u + 1 < ARRAY_SIZE(units)) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, size, "%llu B", (unsigned long long) bytes);
	else if (v >= 99.95)
		snprintf(buf, size, "%.0f %s", v, units[u]);
	else
		snprintf(buf, size, "%.1f %s", v, units[u]);
}

/* Keep the tail of a long path, which is the part that tells paths apart: ".../lib/berth". */
void kcheck_shorten_path(char *out, size_t size, const char *path, int max)
{
	size_t len = strlen(path), keep = max < 12 ? 12 : (size_t) max;

	if (len <= keep)
		snprintf(out, size, "%s", path);
	else
		snprintf(out, size, "...%s", path + len - (keep - 3));
}

void kcheck_storage_run(struct kcheck_list *l, const char *root)
{
	const char *name = "storage.root";
	char dir[4096], type[24], freebuf[24], total[24], shown[64];
	const char *tname;
	struct statfs sf;
	struct statvfs sv;
	uint64_t avail;
	bool exists = true;
	int fixed;

	if (str_copy(dir, sizeof(dir), root) < 0) {
		kcheck_add(l, name, true, KCHECK_MISSING, "data root path too long");
		return;
	}
	/* A missing data root is made on first use: judge the file system it will be made on. */
	while (statfs(dir, &sf) < 0 || statvfs(dir, &sv) < 0) {
		char *slash = strrchr(dir, '/');
		if (errno != ENOENT || slash == NULL || (slash == dir && dir[1] == '\0')) {
			kcheck_add(l, name, true, KCHECK_MISSING, "statfs `%.32s`: %s", dir, strerror(errno));
			return;
		}
		if (slash == dir)
			dir[1] = '\0';
		else
			*slash = '\0';
		exists = false;
	}
	tname = kcheck_fs_type_name((uint64_t) sf.f_type);
	if (tname)
		snprintf(type, sizeof(type), "%s", tname);
	else
		snprintf(type, sizeof(type), "fs 0x%llx", (unsigned long long) sf.f_type);
	avail = (uint64_t) sv.f_bavail * sv.f_frsize;
	kcheck_format_size(freebuf, sizeof(freebuf), avail);
	kcheck_format_size(total, sizeof(total), (uint64_t) sv.f_blocks * sv.f_frsize);

	if (sv.f_flag & ST_RDONLY) {
		kcheck_add(l, name, true, KCHECK_MISSING, "read-only (%s): use a writable file system", type);
	} else if (strcmp(type, "overlay") == 0) {
		kcheck_add(l, name, true, KCHECK_MISSING, "on overlayfs: upper dirs need a real file system");
	} else if (strcmp(type, "vfat") == 0 || strcmp(type, "exfat") == 0) {
		kcheck_add(l, name, true, KCHECK_MISSING, "%s has no symlinks or xattrs: use ext4 or f2fs",
			   type);
	} else if (strcmp(type, "tmpfs") == 0 || strcmp(type, "ramfs") == 0) {
		kcheck_add(l, name, true, KCHECK_WARN, "not persistent: images are lost at reboot (%s)", type);
	} else if (avail < (256ull << 20)) {
		fixed = snprintf(NULL, 0, "only %s free at ", freebuf);
		kcheck_shorten_path(shown, sizeof(shown), dir, KCHECK_DETAIL_COLS - fixed);
		kcheck_add(l, name, true, KCHECK_WARN, "only %s free at %s", freebuf, shown);
	} else if (exists) {
		fixed = snprintf(NULL, 0, "%s, %s free of %s at ", type, freebuf, total);
		kcheck_shorten_path(shown, sizeof(shown), dir, KCHECK_DETAIL_COLS - fixed);
		kcheck_add(l, name, true, KCHECK_OK, "%s, %s free of %s at %s", type, freebuf, total, shown);
	} else {
		fixed = snprintf(NULL, 0, "to be made in : %s, %s free", type, freebuf);
		kcheck_shorten_path(shown, sizeof(shown), dir, KCHECK_DETAIL_COLS - fixed);
		kcheck_add(l, name, true, KCHECK_OK, "to be made in %s: %s, %s free", shown, type, freebuf);
	}
}
