/* Resolution inside a root. The walk keeps a stack of open directory fds from the root down;
 * ".." pops (never past the root), a symlink's target is spliced into the remaining path
 * (absolute targets restart at the root), and every step opens with O_NOFOLLOW. */
#include "runtime/resolve.h"
#include "base/err.h"
#include "base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_openat2
#define SYS_openat2 437
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

/* Make one missing component in the current directory. */
static int create_at(int dfd, const char *name, bool dir)
{
	int fd;

	if (dir)
		return mkdirat(dfd, name, 0755) < 0 && errno != EEXIST ? -1 : 0;
	fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return errno == EEXIST ? 0 : -1;
	close(fd);
	return 0;
}

static int walk_resolve(int rootfd, const char *path, enum resolve_create create, struct berr **err)
{
	struct walk w = { .depth = 0 };
	char *rest = NULL, *p;
	int links = 0, ret = -1;

	w.fds[0] = rootfd;
	rest = strdup(path);
	if (rest == NULL)
		return berr_make(err, ENOMEM, "resolve `%s`", path);
	p = rest;
	for (;;) {
		char name[NAME_MAX + 1], target[PATH_MAX];
		size_t len;
		struct stat st;
		bool last;
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
		last = p[strspn(p, "/")] == '\0';
		if (strcmp(name, ".") == 0)
			continue;
		if (strcmp(name, "..") == 0) {
			walk_pop(&w); /* at the root, ".." is the root */
			continue;
		}
		fd = openat(w.fds[w.depth], name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 && errno == ENOENT && create != RESOLVE_NO_CREATE) {
			if (create_at(w.fds[w.depth], name, !last || create == RESOLVE_CREATE_DIR) < 0) {
				berr_make(err, errno, "create `%s` in `%s`", name, path);
				goto out;
			}
			fd = openat(w.fds[w.depth], name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		}
		if (fd < 0) {
			berr_make(err, errno, "resolve `%s`", path);
			goto out;
		}
		if (fstat(fd, &st) < 0) {
			close(fd);
			berr_make(err, errno, "resolve `%s`", path);
			goto out;
		}
		if (S_ISLNK(st.st_mode)) {
			ssize_t n = readlinkat(fd, "", target, sizeof(target) - 1);
			char *joined;
			close(fd);
			if (n < 0 || ++links > RESOLVE_MAX_LINKS) {
				berr_make(err, n < 0 ? errno : ELOOP, "resolve `%s`", path);
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
		if (!last && !S_ISDIR(st.st_mode)) {
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
	/* The result: the last fd on the stack, or the root itself. */
	if (w.depth == 0)
		ret = openat(rootfd, ".", O_PATH | O_CLOEXEC);
	else
		ret = fcntl(w.fds[w.depth], F_DUPFD_CLOEXEC, 0);
	if (ret < 0)
		berr_make(err, errno, "resolve `%s`", path);
out:
	walk_free(&w);
	free(rest);
	return ret;
}

static int openat2_in_root(int rootfd, const char *path)
{
	struct open_how how = {
		.flags = O_PATH | O_CLOEXEC,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	const char *rel = path;

	while (*rel == '/')
		rel++;
	if (*rel == '\0')
		rel = ".";
	return (int) syscall(SYS_openat2, rootfd, rel, &how, sizeof(how));
}

int resolve_in_root(int rootfd, const char *path, enum resolve_create create, struct berr **err)
{
	if (!resolve_force_walk) {
		int fd = openat2_in_root(rootfd, path);
		if (fd >= 0)
			return fd;
		/* Missing pieces are made by the walk; a kernel without openat2 walks too. */
		if (errno != ENOSYS && errno != EPERM && !(errno == ENOENT && create != RESOLVE_NO_CREATE))
			return berr_make(err, errno, "resolve `%s`", path);
	}
	return walk_resolve(rootfd, path, create, err);
}
