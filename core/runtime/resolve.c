/* Resolution inside a root. The walk keeps a stack of open directory fds from the root down;
 * ".." pops (never past the root), a symlink's target is spliced into the remaining path
 * (absolute targets restart at the root), and every step opens with O_NOFOLLOW. It stops at
 * the last component and hands back its directory and name, so each caller opens, creates or
 * checks that name itself without following anything. */
#include "runtime/resolve.h"
#include "base/err.h"
#include "base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_openat2
#define SYS_openat2 437 /* the same number on every architecture */
#endif

bool resolve_force_walk;

#define DEPTH_MAX 256

struct walk {
	int fds[DEPTH_MAX]; /* fds[0] is the root (not owned) */
	int depth;
};

static void walk_pop(struct walk *w)
{
	if (w->depth > 0)
		close(w->fds[w->depth--]);
}

static void walk_free(struct walk *w)
{
	while (w->depth > 0)
		walk_pop(w);
}

/* Resolve every component of `path` but the last. On success *dirfd is an O_PATH fd of the
 * directory that holds the last component and `last` its name: never a symlink (a symlink
 * there is followed), possibly missing, "." when the path ends at a directory (the root, or
 * after "." or ".."). Missing directories on the way are an error, or made with `mode` when
 * `mkdirs`. */
static int walk_to_last(int rootfd, const char *path, bool mkdirs, mode_t mode, int *dirfd,
			char last[NAME_MAX + 1], struct berr **err)
{
	struct walk w = { .depth = 0 };
	char *rest, *p;
	int links = 0, ret = -1;

	w.fds[0] = rootfd;
	rest = strdup(path);
	if (rest == NULL)
		return berr_make(err, ENOMEM, "resolve `%s`", path);
	p = rest;
	strcpy(last, ".");
	for (;;) {
		char name[NAME_MAX + 1], target[PATH_MAX];
		size_t len;
		struct stat st;
		bool is_last;
		int fd;

		while (*p == '/')
			p++;
		if (*p == '\0')
			break;
		len = strcspn(p, "/");
		if (len > NAME_MAX) {
			berr_make(err, ENAMETOOLONG, "resolve `%s`", path);
			goto out;
		}
		memcpy(name, p, len);
		name[len] = '\0';
		p += len;
		is_last = p[strspn(p, "/")] == '\0';
		strcpy(last, ".");
		if (strcmp(name, ".") == 0)
			continue;
		if (strcmp(name, "..") == 0) {
			walk_pop(&w); /* at the root, ".." is the root */
			continue;
		}
		fd = openat(w.fds[w.depth], name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 && errno == ENOENT && is_last) {
			strcpy(last, name);
			break;
		}
		if (fd < 0 && errno == ENOENT && mkdirs) {
			if (mkdirat(w.fds[w.depth], name, mode) < 0 && errno != EEXIST) {
				berr_make(err, errno, "create `%s` in `%s`", name, path);
				goto out;
			}
			fd = openat(w.fds[w.depth], name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		}
		if (fd < 0 || fstat(fd, &st) < 0) {
			berr_make(err, errno, "resolve `%s`", path);
			if (fd >= 0)
				close(fd);
			goto out;
		}
		if (S_ISLNK(st.st_mode)) {
			ssize_t n = readlinkat(fd, "", target, sizeof(target) - 1);
			char *joined;

			close(fd);
			if (n <= 0 || ++links > RESOLVE_MAX_LINKS) {
				berr_make(err, n < 0 ? errno : n == 0 ? ENOENT : ELOOP, "resolve `%s`", path);
				goto out;
			}
			target[n] = '\0';
			/* An absolute target starts again at the root. */
			if (target[0] == '/')
				walk_free(&w);
			if (asprintf(&joined, "%s/%s", target, p) < 0) {
				berr_make(err, ENOMEM, "resolve `%s`", path);
				goto out;
			}
			free(rest);
			rest = p = joined;
			continue;
		}
		if (is_last) {
			close(fd);
			strcpy(last, name);
			break;
		}
		if (!S_ISDIR(st.st_mode)) {
			close(fd);
			berr_make(err, ENOTDIR, "resolve `%s`: `%s` is not a directory", path, name);
			goto out;
		}
		if (w.depth + 1 >= DEPTH_MAX) {
			close(fd);
			berr_make(err, ENAMETOOLONG, "resolve `%s`: too deep", path);
			goto out;
		}
		w.fds[++w.depth] = fd;
	}
	if (w.depth > 0)
		ret = w.fds[w.depth--]; /* handed over, not closed */
	else
		ret = openat(rootfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (ret < 0)
		berr_make(err, errno, "resolve `%s`", path);
	else
		*dirfd = ret;
out:
	walk_free(&w);
	free(rest);
	return ret < 0 ? -1 : 0;
}

/* An fd, or -1 with errno; ENOSYS before Linux 5.6. */
static int openat2_in_root(int rootfd, const char *path, int flags, mode_t mode)
{
	struct open_how how = {
		.flags = (uint64_t) (flags | O_CLOEXEC),
		.mode = (flags & O_CREAT) ? mode : 0,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	const char *rel = path;

	while (*rel == '/')
		rel++;
	if (*rel == '\0')
		rel = ".";
	return (int) syscall(SYS_openat2, rootfd, rel, &how, sizeof(how));
}

/* openat2 errors that send us to the walk: no openat2 (ENOSYS), a seccomp filter that does
 * not know it (EPERM), a rename racing the lookup (EAGAIN). */
static bool walk_instead(int e)
{
	return e == ENOSYS || e == EPERM || e == EAGAIN;
}

int resolve_in_root(int rootfd, const char *path, enum resolve_create create, struct berr **err)
{
	char last[NAME_MAX + 1];
	int dfd, fd;

	if (!resolve_force_walk) {
		fd = openat2_in_root(rootfd, path, O_PATH, 0);
		if (fd >= 0)
			return fd;
		/* Missing pieces are made by the walk. */
		if (!walk_instead(errno) && !(errno == ENOENT && create != RESOLVE_NO_CREATE))
			return berr_make(err, errno, "resolve `%s`", path);
	}
	if (walk_to_last(rootfd, path, create != RESOLVE_NO_CREATE, 0755, &dfd, last, err) < 0)
		return -1;
	fd = openat(dfd, last, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && create != RESOLVE_NO_CREATE) {
		int r = create == RESOLVE_CREATE_DIR ? mkdirat(dfd, last, 0755)
						     : openat(dfd, last, O_WRONLY | O_CREAT | O_EXCL |
								       O_NOFOLLOW | O_CLOEXEC, 0644);
		if (r < 0 && errno != EEXIST) {
			close(dfd);
			return berr_make(err, errno, "create `%s` in `%s`", last, path);
		}
		if (r >= 0 && create == RESOLVE_CREATE_FILE)
			close(r);
		fd = openat(dfd, last, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd < 0)
		berr_make(err, errno, "resolve `%s`", path);
	close(dfd);
	return fd;
}

int resolve_open(int rootfd, const char *path, int flags, struct berr **err)
{
	char last[NAME_MAX + 1];
	int dfd, fd;

	flags |= O_CLOEXEC;
	if (!resolve_force_walk) {
		fd = openat2_in_root(rootfd, path, flags, 0644);
		if (fd >= 0)
			return fd;
		if (!walk_instead(errno))
			return berr_make(err, errno, "open `%s` in the root", path);
	}
	if (walk_to_last(rootfd, path, false, 0, &dfd, last, err) < 0)
		return -1;
	if (strcmp(last, ".") == 0)
		fd = openat(dfd, ".", flags & ~O_CREAT);
	else
		fd = openat(dfd, last, flags | O_NOFOLLOW, 0644);
	if (fd < 0)
		berr_make(err, errno, "open `%s` in the root", path);
	close(dfd);
	return fd;
}

int resolve_read(int rootfd, const char *path, size_t max, bool missing_ok, char **out,
		 size_t *len, struct berr **err)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	struct berr *e = NULL;
	struct stat st;
	size_t n = 0;

	*out = NULL;
	*len = 0;
	fd = resolve_open(rootfd, path, O_RDONLY | O_NOCTTY | O_NONBLOCK, &e);
	if (fd < 0) {
		if (missing_ok && e->errcode == ENOENT) {
			berr_free(e);
			return 0;
		}
		if (err && *err == NULL)
			*err = e;
		else
			berr_free(e);
		return -1;
	}
	if (fstat(fd, &st) < 0)
		return berr_make(err, errno, "`%s` in the root", path);
	if (!S_ISREG(st.st_mode))
		return berr_make(err, 0, "`%s` in the root is not a regular file", path);
	if ((uint64_t) st.st_size > max)
		return berr_make(err, EFBIG, "`%s` in the root: larger than %zu bytes", path, max);
	buf = malloc((size_t) st.st_size + 1);
	if (buf == NULL)
		return berr_make(err, ENOMEM, "`%s` in the root", path);
	/* Read what fstat said, no more: the file may grow meanwhile. */
	while (n < (size_t) st.st_size) {
		ssize_t r = read(fd, buf + n, (size_t) st.st_size - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return berr_make(err, errno, "read `%s` in the root", path);
		if (r == 0)
			break;
		n += (size_t) r;
	}
	buf[n] = '\0';
	*len = n;
	*out = steal_ptr(&buf);
	return 0;
}

int resolve_mkdir_p(int rootfd, const char *path, mode_t mode, struct berr **err)
{
	char last[NAME_MAX + 1];
	struct stat st;
	int dfd, r = 0;

	if (walk_to_last(rootfd, path, true, mode, &dfd, last, err) < 0)
		return -1;
	if (strcmp(last, ".") != 0 && mkdirat(dfd, last, mode) < 0 && errno != EEXIST)
		r = -errno;
	else if (fstatat(dfd, last, &st, AT_SYMLINK_NOFOLLOW) < 0)
		r = -errno;
	else if (!S_ISDIR(st.st_mode))
		r = -ENOTDIR;
	close(dfd);
	if (r < 0)
		return berr_make(err, -r, "create `%s` in the root", path);
	return 0;
}
