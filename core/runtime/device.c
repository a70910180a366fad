/* `--device`: parse the option as Docker does, read the host node, make it in the container
 * and say which cgroup rule allows it. */
#include "runtime/device.h"
#include "runtime/cgroup.h"
#include "runtime/resolve.h"
#include "base/err.h"
#include "base/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* Docker's validDeviceMode: one to three of r, w, m, none twice. */
static bool valid_perms(const char *s)
{
	bool seen[3] = { false, false, false };

	if (*s == '\0' || strlen(s) > 3)
		return false;
	for (; *s; s++) {
		const char *at = strchr("rwm", *s);
		if (at == NULL || seen[at - "rwm"])
			return false;
		seen[at - "rwm"] = true;
	}
	return true;
}

/* A lexically clean absolute path: no empty, "." or ".." components (".." above the root
 * stays at the root), no trailing slash. The result is no longer than the input. */
static void clean_path(const char *in, char *out)
{
	size_t len = 0;

	out[len++] = '/';
	while (*in) {
		size_t n;

		while (*in == '/')
			in++;
		n = strcspn(in, "/");
		if (n == 0 || (n == 1 && in[0] == '.')) {
			/* nothing */
		} else if (n == 2 && in[0] == '.' && in[1] == '.') {
			while (len > 1 && out[len - 1] != '/')
				len--;
			if (len > 1)
				len--;
		} else {
			if (len > 1)
				out[len++] = '/';
			memcpy(out + len, in, n);
			len += n;
		}
		in += n;
	}
	out[len] = '\0';
}

static void perms_canonical(const char *in, char out[4])
{
	size_t n = 0;

	for (const char *p = "rwm"; *p; p++)
		if (strchr(in, *p))
			out[n++] = *p;
	out[n] = '\0';
}

int dev_parse(const char *spec, struct dev_node *d, struct berr **err)
{
	char *copy, *parts[3] = { NULL, NULL, NULL }, *p;
	const char *host, *path = NULL, *perms = "rwm";
	size_t np = 0;
	int ret = -1;

	memset(d, 0, sizeof(*d));
	if (strlen(spec) > DEV_PATH_MAX * 2)
		return berr_usage(err, "--device `%.64s...`: too long", spec);
	copy = xstrdup(spec);
	for (p = copy; p && np < 3; np++) {
		parts[np] = p;
		p = strchr(p, ':');
		if (p)
			*p++ = '\0';
	}
	if (p) {
		berr_usage(err, "--device `%s`: use HOST[:CONTAINER][:PERMISSIONS]", spec);
		goto out;
	}
	host = parts[0];
	if (np == 3) {
		path = parts[1];
		perms = parts[2];
		if (!valid_perms(perms)) {
			berr_usage(err, "--device `%s`: bad permissions `%s`: use r, w and m, "
				   "each at most once", spec, perms);
			goto out;
		}
	} else if (np == 2) {
		if (valid_perms(parts[1]))
			perms = parts[1];
		else
			path = parts[1];
	}
	if (host[0] != '/') {
		berr_usage(err, "--device `%s`: the host path `%s` must be absolute", spec, host);
		goto out;
	}
	if (path == NULL)
		path = host;
	if (path[0] != '/') {
		berr_usage(err, "--device `%s`: the container path `%s` must be absolute "
			   "(or give permissions from r, w and m)", spec, path);
		goto out;
	}
	d->host = xstrdup(host);
	d->path = xmalloc(strlen(path) + 2);
	clean_path(path, d->path);
	if (strcmp(d->path, "/") == 0) {
		berr_usage(err, "--device `%s`: the container path cannot be /", spec);
		dev_free(d);
		goto out;
	}
	perms_canonical(perms, d->perms);
	ret = 0;
out:
	free(copy);
	return ret;
}

int dev_stat(struct dev_node *d, struct berr **err)
{
	struct stat st;

	if (stat(d->host, &st) < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return berr_make(err, 0, "--device `%s`: no such device on this host", d->host);
		return berr_make(err, errno, "--device `%s`", d->host);
	}
	if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode))
		return berr_make(err, 0, "--device `%s`: not a device node (give a character or "
				 "block device, such as /dev/ttyUSB0 or /dev/sda)", d->host);
	d->mode = st.st_mode & (S_IFMT | 07777);
	d->rdev = st.st_rdev;
	d->uid = st.st_uid;
	d->gid = st.st_gid;
	return 0;
}

int dev_from_spec(const char *spec, struct dev_node *d, struct berr **err)
{
	if (dev_parse(spec, d, err) < 0)
		return -1;
	if (dev_stat(d, err) < 0) {
		dev_free(d);
		return -1;
	}
	return 0;
}

void dev_free(struct dev_node *d)
{
	free(d->host);
	free(d->path);
	d->host = d->path = NULL;
}

void dev_cg_rule(const struct dev_node *d, struct cg_device *out)
{
	out->type = S_ISBLK(d->mode) ? 'b' : 'c';
	out->major = major(d->rdev);
	out->minor = minor(d->rdev);
	snprintf(out->access, sizeof(out->access), "%s", d->perms);
}

int dev_create_in_root(int rootfd, const struct dev_node *d, struct berr **err)
{
	char parent[DEV_PATH_MAX + 2], *slash;
	const char *name;
	struct stat st;
	int dirfd, ret = -1;

	/* d->path is clean and absolute, and not "/": its last component is a real name. */
	if (str_copy(parent, sizeof(parent), d->path) < 0)
		return berr_make(err, ENAMETOOLONG, "device `%s`", d->path);
	slash = strrchr(parent, '/');
	name = d->path + (slash - parent) + 1;
	slash[slash == parent ? 1 : 0] = '\0';
	if (resolve_mkdir_p(rootfd, parent, 0755, err) < 0)
		return berr_wrap(err, "device `%s`: make its directory", d->path);
	dirfd = resolve_open(rootfd, parent, O_RDONLY | O_DIRECTORY, err);
	if (dirfd < 0)
		return berr_wrap(err, "device `%s`: open its directory", d->path);
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode)) {
			berr_make(err, 0, "device `%s`: something that is not a device node is "
				  "there in the container; give another container path", d->path);
			goto out;
		}
		if (unlinkat(dirfd, name, 0) < 0) {
			berr_make(err, errno, "device `%s`: replace the node there", d->path);
			goto out;
		}
	}
	if (mknodat(dirfd, name, d->mode, d->rdev) < 0) {
		berr_make(err, errno, "make device `%s` (%u:%u) in the container", d->path,
			  major(d->rdev), minor(d->rdev));
		goto out;
	}
	/* As the host has it: the umask took bits at mknod. */
	if (fchownat(dirfd, name, d->uid, d->gid, AT_SYMLINK_NOFOLLOW) < 0 ||
	    fchmodat(dirfd, name, d->mode & 07777, 0) < 0) {
		berr_make(err, errno, "device `%s`: owner and mode", d->path);
		goto out;
	}
	ret = 0;
out:
	close(dirfd);
	return ret;
}

/* Append one node to *v. */
static int dev_append(struct dev_node **v, size_t *n, size_t max, const struct dev_node *d,
		      const char *spec, struct berr **err)
{
	if (*n >= max)
		return berr_usage(err, "--device `%s`: more than %zu devices in all", spec, max);
	*v = xrealloc(*v, (*n + 1) * sizeof(**v));
	(*v)[(*n)++] = *d;
	return 0;
}

#define DEV_WALK_DEPTH 8

/* The device nodes under host directory `dir` (symlinks inside not followed), each at the
 * same place under `path` in the container. */
static int dev_walk(const char *dir, const char *path, const char *perms, int depth, const char *spec,
		    struct dev_node **v, size_t *n, size_t max, struct berr **err)
{
	DIR *dh;
	struct dirent *de;
	int ret = 0;

	if (depth > DEV_WALK_DEPTH)
		return 0;
	dh = opendir(dir);
	if (dh == NULL)
		return berr_make(err, errno, "--device `%s`: read `%s`", spec, dir);
	while (ret == 0 && (de = readdir(dh)) != NULL) {
		char *h, *c;
		struct stat st;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		h = xasprintf("%s/%s", dir, de->d_name);
		c = xasprintf("%s/%s", strcmp(path, "/") == 0 ? "" : path, de->d_name);
		if (lstat(h, &st) == 0 && S_ISDIR(st.st_mode)) {
			ret = dev_walk(h, c, perms, depth + 1, spec, v, n, max, err);
		} else if (lstat(h, &st) == 0 && (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))) {
			struct dev_node d = { .host = h, .path = c, .mode = st.st_mode & (S_IFMT | 07777),
					      .rdev = st.st_rdev, .uid = st.st_uid, .gid = st.st_gid };
			snprintf(d.perms, sizeof(d.perms), "%s", perms);
			if ((ret = dev_append(v, n, max, &d, spec, err)) == 0)
				h = c = NULL; /* now the list's */
		}
		free(h);
		free(c);
	}
	closedir(dh);
	return ret;
}

int dev_expand(const char *spec, struct dev_node **v, size_t *n, size_t max, struct berr **err)
{
	struct dev_node d;
	struct stat st;
	size_t before = *n;
	int ret;

	if (dev_parse(spec, &d, err) < 0)
		return -1;
	if (stat(d.host, &st) == 0 && S_ISDIR(st.st_mode)) {
		ret = dev_walk(d.host, d.path, d.perms, 0, spec, v, n, max, err);
		if (ret == 0 && *n == before)
			ret = berr_make(err, 0, "--device `%s`: no device nodes in that directory", spec);
		dev_free(&d);
		return ret;
	}
	if (dev_stat(&d, err) < 0 || dev_append(v, n, max, &d, spec, err) < 0) {
		dev_free(&d);
		return -1;
	}
	return 0;
}
