/* Filesystem helpers: the one atomic write, mkdir -p, and a recursive remove that cannot be
 * tricked by symlinks into deleting outside the tree it was given. */
#include "fs.h"
#include "err.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>
#if defined(__has_include)
#if __has_include(<linux/openat2.h>)
#include <linux/openat2.h>
#endif
#endif

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t) n;
	}
	return 0;
}

int fs_fsync_dir(const char *dir, struct berr **err)
{
	_cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return berr_make(err, errno, "open directory `%s`", dir);
	if (fsync(fd) < 0 && errno != EINVAL) /* some file systems cannot fsync a directory */
		return berr_make(err, errno, "fsync directory `%s`", dir);
	return 0;
}

int fs_fsync_parent(const char *path, struct berr **err)
{
	char dir[PATH_MAX];
	char *slash;

	if (str_copy(dir, sizeof(dir), path) < 0)
		return berr_make(err, ENAMETOOLONG, "path `%.64s...`", path);
	slash = strrchr(dir, '/');
	if (slash == NULL)
		return fs_fsync_dir(".", err);
	if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	return fs_fsync_dir(dir, err);
}

enum { WRITE_SYNC = 1, WRITE_RENAME = 2 };

static int write_file(const char *path, const void *data, size_t len, mode_t mode, unsigned how,
		      struct berr **err)
{
	char tmp[PATH_MAX];
	const char *name = path;
	int fd, n;

	if (how & WRITE_RENAME) {
		n = snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int) getpid());
		if (n < 0 || (size_t) n >= sizeof(tmp))
			return berr_make(err, ENAMETOOLONG, "write `%s`", path);
		name = tmp;
	}
	fd = open(name, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | (how & WRITE_RENAME ? O_TRUNC : O_EXCL),
		  mode);
	if (fd < 0)
		return berr_make(err, errno, "create `%s`", name);
	if (write_all(fd, data, len) < 0) {
		berr_make(err, errno, "write `%s`", name);
		goto fail;
	}
	/* open() applied the umask; the caller asked for exactly `mode`. */
	if (fchmod(fd, mode) < 0) {
		berr_make(err, errno, "chmod `%s`", name);
		goto fail;
	}
	if ((how & WRITE_SYNC) && fsync(fd) < 0) {
		berr_make(err, errno, "fsync `%s`", name);
		goto fail;
	}
	if (close(fd) < 0) {
		fd = -1;
		berr_make(err, errno, "close `%s`", name);
		goto fail;
	}
	fd = -1;
	if ((how & WRITE_RENAME) && rename(tmp, path) < 0) {
		berr_make(err, errno, "rename `%s` to `%s`", tmp, path);
		goto fail;
	}
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	unlink(name);
	return -1;
}

int fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode, struct berr **err)
{
	if (write_file(path, data, len, mode, WRITE_SYNC | WRITE_RENAME, err) < 0)
		return -1;
	return fs_fsync_parent(path, err);
}

int fs_write_replace(const char *path, const void *data, size_t len, mode_t mode, struct berr **err)
{
	return write_file(path, data, len, mode, WRITE_RENAME, err);
}

int fs_write_new(const char *path, const void *data, size_t len, mode_t mode, struct berr **err)
{
	return write_file(path, data, len, mode, WRITE_SYNC, err);
}

int fs_write_new_nosync(const char *path, const void *data, size_t len, mode_t mode, struct berr **err)
{
	return write_file(path, data, len, mode, 0, err);
}

int fs_mkdir_p(const char *path, mode_t mode, struct berr **err)
{
	char buf[PATH_MAX];
	struct stat st;
	char *p;

	if (path[0] == '\0')
		return berr_usage(err, "mkdir: empty path");
	if (str_copy(buf, sizeof(buf), path) < 0)
		return berr_make(err, ENAMETOOLONG, "mkdir `%.64s...`", path);
	/* Most calls find the parents there (the data root's dirs): try the leaf first. */
	if (mkdir(buf, mode) == 0)
		return 0;
	if (errno == EEXIST) {
		if (stat(buf, &st) < 0)
			return berr_make(err, errno, "stat `%s`", buf);
		if (!S_ISDIR(st.st_mode))
			return berr_make(err, ENOTDIR, "mkdir `%s`", buf);
		return 0;
	}
	/* Otherwise the walk makes what is missing, or names the part that is in the way. */
	if (errno != ENOENT && errno != ENOTDIR)
		return berr_make(err, errno, "mkdir `%s`", buf);
	for (p = buf + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;
		*p = '\0';
		if (mkdir(buf, mode) < 0) {
			if (errno != EEXIST)
				return berr_make(err, errno, "mkdir `%s`", buf);
			if (stat(buf, &st) < 0)
				return berr_make(err, errno, "stat `%s`", buf);
			if (!S_ISDIR(st.st_mode))
				return berr_make(err, ENOTDIR, "mkdir `%s`", buf);
		}
		*p = c;
		if (c == '\0')
			break;
		while (p[1] == '/')
			p++;
		if (p[1] == '\0')
			break;
	}
	return 0;
}

/* The mount id of an open file, from /proc/self/fdinfo (Linux 3.15); -1 if unknown. */
static int mount_id(int fd)
{
	char path[64], line[128];
	int id = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "re");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "mnt_id: %d", &id) == 1)
			break;
	fclose(f);
	return id;
}

/* Open the directory `name` in `dirfd` without following a symlink; fail with EXDEV if a file
 * system is mounted on it. st_dev alone misses a bind mount from the same file system (a volume
 * bound into a container), so the mount itself is compared: openat2's RESOLVE_NO_XDEV
 * (Linux 5.6), else the mount ids in /proc/self/fdinfo. */
static int open_dir_no_xdev(int dirfd, const char *name)
{
	int fd;

#if defined(SYS_openat2) && defined(RESOLVE_NO_XDEV)
	struct open_how how = {
		.flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC,
		.resolve = RESOLVE_NO_XDEV,
	};
	fd = (int) syscall(SYS_openat2, dirfd, name, &how, sizeof(how));
	/* ENOSYS: an older kernel; EPERM: a seccomp filter that does not know openat2. */
	if (fd >= 0 || (errno != ENOSYS && errno != EPERM))
		return fd;
#endif
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0) {
		int parent_id = mount_id(dirfd), id = mount_id(fd);
		if (parent_id >= 0 && id >= 0 && parent_id != id) {
			close(fd);
			errno = EXDEV;
			return -1;
		}
	}
	return fd;
}

/* Remove everything inside the open directory `dfd`. Depth is bounded by the file descriptor
 * limit; every level holds one fd. */
static int rm_contents(int dfd, const char *what, struct berr **err)
{
	DIR *d;
	struct dirent *de;
	int ret = 0;

	d = fdopendir(dfd);
	if (d == NULL) {
		close(dfd);
		return berr_make(err, errno, "read directory `%s`", what);
	}
	while ((errno = 0, de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		/* The entry's type says most: a file goes in one unlink, an empty directory in
		 * one rmdir (which refuses a mount point, EBUSY). The rest takes the careful way. */
		if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN) {
			if (unlinkat(dirfd(d), de->d_name, 0) == 0 || errno == ENOENT)
				continue;
		} else if (de->d_type == DT_DIR && unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR) == 0) {
			continue;
		}
		if (fs_rm_rf_at(dirfd(d), de->d_name, err) < 0) {
			ret = berr_wrap(err, "in `%s`", what);
			break;
		}
	}
	if (ret == 0 && errno != 0)
		ret = berr_make(err, errno, "read directory `%s`", what);
	closedir(d);
	return ret;
}

int fs_rm_rf_at(int dirfd, const char *name, struct berr **err)
{
	struct stat st, parent;
	int fd;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return 0;
		return berr_make(err, errno, "stat `%s`", name);
	}
	if (!S_ISDIR(st.st_mode)) {
		if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
			return berr_make(err, errno, "remove `%s`", name);
		return 0;
	}
	/* Never descend into another file system: a bind or overlay mount left under a
	 * container directory must not have its contents wiped. */
	if (fstat(dirfd, &parent) == 0 && parent.st_dev != st.st_dev)
		return berr_make(err, EBUSY, "remove `%s`: a file system is mounted there", name);
	fd = open_dir_no_xdev(dirfd, name);
	if (fd < 0 && errno == EXDEV)
		return berr_make(err, EBUSY, "remove `%s`: a file system is mounted there", name);
	if (fd < 0)
		return berr_make(err, errno, "open `%s`", name);
	if (rm_contents(fd, name, err) < 0)
		return -1;
	if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		return berr_make(err, errno, "remove directory `%s`", name);
	return 0;
}

int fs_rm_rf(const char *path, struct berr **err)
{
	char dir[PATH_MAX];
	const char *base;
	char *slash;
	int dfd, ret;

	if (str_copy(dir, sizeof(dir), path) < 0)
		return berr_make(err, ENAMETOOLONG, "remove `%.64s...`", path);
	/* Strip trailing slashes so the last component is a name, not "". */
	for (size_t n = strlen(dir); n > 1 && dir[n - 1] == '/'; n--)
		dir[n - 1] = '\0';
	slash = strrchr(dir, '/');
	if (slash == NULL) {
		base = dir;
		dfd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	} else {
		base = slash + 1;
		if (slash == dir)
			dfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		else {
			*slash = '\0';
			dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		}
	}
	if (*base == '\0' || strcmp(base, ".") == 0 || strcmp(base, "..") == 0) {
		if (dfd >= 0)
			close(dfd);
		return berr_usage(err, "refusing to remove `%s`", path);
	}
	if (dfd < 0) {
		if (errno == ENOENT)
			return 0;
		return berr_make(err, errno, "open parent of `%s`", path);
	}
	ret = fs_rm_rf_at(dfd, base, err);
	close(dfd);
	if (ret < 0)
		return berr_wrap(err, "remove `%s`", path);
	return 0;
}

int fs_read_file(const char *path, size_t max, char **out, size_t *len, struct berr **err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	_cleanup_free_ char *buf = NULL;
	size_t cap = 4096, n = 0;

	if (fd < 0)
		return berr_make(err, errno, "open `%s`", path);
	buf = malloc(cap);
	if (buf == NULL)
		return berr_make(err, ENOMEM, "read `%s`", path);
	for (;;) {
		ssize_t r;
		if (n + 1 >= cap) {
			char *nb;
			if (cap - 1 > max) /* not `cap > max + 1`: max may be SIZE_MAX */
				return berr_make(err, EFBIG, "read `%s`: larger than %zu bytes", path, max);
			cap *= 2;
			nb = realloc(buf, cap);
			if (nb == NULL)
				return berr_make(err, ENOMEM, "read `%s`", path);
			buf = nb;
		}
		r = read(fd, buf + n, cap - n - 1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return berr_make(err, errno, "read `%s`", path);
		}
		if (r == 0)
			break;
		n += (size_t) r;
		if (n > max)
			return berr_make(err, EFBIG, "read `%s`: larger than %zu bytes", path, max);
	}
	buf[n] = '\0';
	if (len)
		*len = n;
	*out = steal_ptr(&buf);
	return 0;
}

static uint64_t tree_size(int at, const char *name, int depth)
{
	struct stat st;
	uint64_t total = 0;
	struct dirent *de;
	DIR *d;
	int fd;

	if (fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return 0;
	if (!S_ISDIR(st.st_mode) || depth > 256)
		return S_ISREG(st.st_mode) ? (uint64_t) st.st_size : 0;
	fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || (d = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			total += tree_size(dirfd(d), de->d_name, depth + 1);
	closedir(d);
	return total;
}

uint64_t fs_tree_size_at(int dirfd, const char *name)
{
	return tree_size(dirfd, name, 0);
}

static int move_aside(const char *path, const char *trash, bool sync, struct berr **err)
{
	char parent[PATH_MAX];
	char *slash;

	if (str_copy(parent, sizeof(parent), trash) < 0)
		return berr_make(err, ENAMETOOLONG, "move `%s` aside", path);
	slash = strrchr(parent, '/');
	if (slash && slash != parent) {
		*slash = '\0';
		if (fs_mkdir_p(parent, 0700, err) < 0)
			return -1;
	}
	if (fs_rm_rf(trash, err) < 0)
		return -1;
	if (rename(path, trash) < 0)
		return berr_make(err, errno, "rename `%s` to `%s`", path, trash);
	return sync ? fs_fsync_parent(path, err) : 0;
}

int fs_move_aside(const char *path, const char *trash, struct berr **err)
{
	return move_aside(path, trash, true, err);
}

int fs_move_aside_nosync(const char *path, const char *trash, struct berr **err)
{
	return move_aside(path, trash, false, err);
}

/* statfs(2) f_type values (include/uapi/linux/magic.h) */
#define FS_TMPFS_MAGIC 0x01021994
#define FS_RAMFS_MAGIC 0x858458f6

bool fs_backed_by_storage(const char *path)
{
	struct statfs sf;

	return statfs(path, &sf) == 0 && sf.f_type != FS_TMPFS_MAGIC && sf.f_type != FS_RAMFS_MAGIC;
}
