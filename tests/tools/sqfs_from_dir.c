/* Test driver for the squashfs writer: walks a directory (never following symlinks) and feeds
 * every entry to the writer, keeping hard links, xattrs, devices and holes (read with
 * SEEK_DATA/SEEK_HOLE, so a sparse file costs only its data).
 * Usage: sqfs_from_dir [-c gzip|zstd|xz] [-l LEVEL] [-b BLOCK] [-j THREADS] [-F] [-t TIME] [-R]
 *                      SRC_DIR OUT_IMAGE
 *   -F  no fragments   -t  superblock time   -R  feed entries in reverse walk order (children
 *   before their directories, as a tar stream may)   -l 0: the default, xz's preset 0 with -c xz */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "base/err.h"
#include "base/util.h"
#include "image/squashfs.h"

static char **paths;
static size_t npaths, cap;
static size_t src_len;

static int collect(const char *fpath, const struct stat *st, int flag, struct FTW *ftw)
{
	(void) st;
	(void) flag;
	(void) ftw;
	if (npaths == cap) {
		cap = cap ? 2 * cap : 1024;
		paths = xrealloc(paths, cap * sizeof(*paths));
	}
	paths[npaths++] = xstrdup(fpath);
	return 0;
}

struct link_key {
	dev_t dev;
	ino_t ino;
	char *path;
};

static int link_cmp(const void *a, const void *b)
{
	const struct link_key *x = a, *y = b;

	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	if (x->ino != y->ino)
		return x->ino < y->ino ? -1 : 1;
	return 0;
}

static int read_xattrs(const char *path, struct sqfs_xattr **out, size_t *n, struct berr **err)
{
	char names[65536];
	ssize_t len = llistxattr(path, names, sizeof(names));
	size_t k = 0;

	*out = NULL;
	*n = 0;
	if (len < 0) {
		if (errno == ENOTSUP)
			return 0;
		return berr_make(err, errno, "llistxattr `%s`", path);
	}
	*out = xcalloc((size_t) len + 1, sizeof(**out));
	for (char *name = names; name < names + len; name += strlen(name) + 1) {
		ssize_t vlen = lgetxattr(path, name, NULL, 0);
		void *v;

		if (vlen < 0)
			return berr_make(err, errno, "lgetxattr `%s` `%s`", path, name);
		v = xmalloc((size_t) vlen + 1);
		vlen = lgetxattr(path, name, v, (size_t) vlen);
		if (vlen < 0)
			return berr_make(err, errno, "lgetxattr `%s` `%s`", path, name);
		(*out)[k++] = (struct sqfs_xattr){ xstrdup(name), v, (size_t) vlen };
	}
	*n = k;
	return 0;
}

static int add_file(struct sqfs_writer *w, const char *src, const char *rel,
		    const struct sqfs_attr *a, off_t size, struct berr **err)
{
	_cleanup_close_ int fd = open(src, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	static char buf[1 << 20];
	off_t data = 0;

	if (fd < 0)
		return berr_make(err, errno, "open `%s`", src);
	if (sqfs_file_begin(w, rel, a, err) < 0)
		return -1;
	while (data < size) {
		off_t hole;

		data = lseek(fd, data, SEEK_DATA);
		if (data < 0 && errno == ENXIO)
			break;
		if (data < 0)
			return berr_make(err, errno, "seek `%s`", src);
		hole = lseek(fd, data, SEEK_HOLE);
		if (hole < 0)
			return berr_make(err, errno, "seek `%s`", src);
		while (data < hole) {
			size_t want = (size_t) (hole - data) < sizeof(buf) ? (size_t) (hole - data)
									    : sizeof(buf);
			ssize_t n = pread(fd, buf, want, data);

			if (n < 0)
				return berr_make(err, errno, "read `%s`", src);
			if (n == 0)
				break;
			if (sqfs_file_write(w, (uint64_t) data, buf, (size_t) n, err) < 0)
				return -1;
			data += n;
		}
	}
	return sqfs_file_end(w, (uint64_t) size, err);
}

static int add_one(struct sqfs_writer *w, const char *src, void **links, struct berr **err)
{
	const char *rel = src[src_len] == '\0' ? "." : src + src_len + 1;
	struct sqfs_xattr *xs = NULL;
	struct sqfs_attr a = { 0 };
	char target[4097];
	struct stat st;
	size_t nx = 0;
	int r;

	if (lstat(src, &st) < 0)
		return berr_make(err, errno, "lstat `%s`", src);
	if (!S_ISDIR(st.st_mode) && st.st_nlink > 1) {
		struct link_key *k = xcalloc(1, sizeof(*k)), **found;

		k->dev = st.st_dev;
		k->ino = st.st_ino;
		found = tsearch(k, links, link_cmp);
		if (*found != k) {
			free(k);
			return sqfs_writer_add_hardlink(w, rel, (*found)->path, err);
		}
		k->path = xstrdup(rel);
	}
	if (read_xattrs(src, &xs, &nx, err) < 0)
		return -1;
	a.mode = st.st_mode;
	a.uid = st.st_uid;
	a.gid = st.st_gid;
	a.mtime = st.st_mtime;
	a.rdev = st.st_rdev;
	a.xattrs = xs;
	a.n_xattrs = nx;
	if (S_ISLNK(st.st_mode)) {
		ssize_t n = readlink(src, target, sizeof(target) - 1);

		if (n < 0)
			return berr_make(err, errno, "readlink `%s`", src);
		target[n] = '\0';
		a.link_target = target;
	}
	if (S_ISREG(st.st_mode))
		r = add_file(w, src, rel, &a, st.st_size, err);
	else
		r = sqfs_writer_add(w, rel, &a, err);
	for (size_t i = 0; i < nx; i++) {
		free((void *) xs[i].name);
		free((void *) xs[i].value);
	}
	free(xs);
	return r;
}

int main(int argc, char **argv)
{
	struct sqfs_options o = { .comp = SQFS_COMP_GZIP };
	struct sqfs_writer *w = NULL;
	struct berr *err = NULL;
	void *links = NULL;
	bool reverse = false, level_set = false;
	int c, fd;

	while ((c = getopt(argc, argv, "c:l:b:j:Ft:R")) != -1) {
		switch (c) {
		case 'c':
			o.comp = sqfs_comp_named(optarg);
			if (o.comp == 0) {
				fprintf(stderr, "sqfs_from_dir: unknown compressor `%s`\n", optarg);
				return 2;
			}
			break;
		case 'l': o.level = atoi(optarg); level_set = true; break;
		case 'b': o.block_size = (uint32_t) strtoul(optarg, NULL, 0); break;
		case 'j': o.threads = atoi(optarg); break;
		case 'F': o.no_fragments = true; break;
		case 't': o.mkfs_time = (uint32_t) strtoul(optarg, NULL, 0); break;
		case 'R': reverse = true; break;
		default:
			fprintf(stderr, "usage: sqfs_from_dir [-c gzip|zstd|xz] [-l LEVEL] [-b BLOCK] "
					"[-j THREADS] [-F] [-t TIME] [-R] SRC_DIR OUT\n");
			return 2;
		}
	}
	if (argc - optind != 2) {
		fprintf(stderr, "usage: sqfs_from_dir [options] SRC_DIR OUT\n");
		return 2;
	}
	if (level_set)
		o.level = sqfs_level_given(o.comp, o.level);
	src_len = strlen(argv[optind]);
	while (src_len > 1 && argv[optind][src_len - 1] == '/')
		argv[optind][--src_len] = '\0';
	if (nftw(argv[optind], collect, 64, FTW_PHYS) < 0) {
		perror("sqfs_from_dir: walk");
		return 1;
	}
	fd = open(argv[optind + 1], O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		perror("sqfs_from_dir: open output");
		return 1;
	}
	if (sqfs_writer_new(&w, fd, &o, &err) < 0)
		return berr_report(err);
	for (size_t i = 0; i < npaths; i++) {
		const char *p = paths[reverse ? npaths - 1 - i : i];

		if (add_one(w, p, &links, &err) < 0)
			break;
	}
	if (err == NULL)
		sqfs_writer_finish(w, &err);
	sqfs_writer_free(w);
	if (close(fd) < 0 && err == NULL)
		berr_make(&err, errno, "close output");
	if (err != NULL)
		return berr_report(err);
	return 0;
}
