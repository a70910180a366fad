/* Loop devices, shared layer mounts and the overlay over them. */
#include "mount.h"
#include "base/err.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/mountinfo.h"
#include "base/paths.h"
#include "base/util.h"
#include "image/digest.h"
#include "image/image.h"
#include "runtime/record.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/loop.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#ifndef LOOP_CONFIGURE
#define LOOP_CONFIGURE 0x4C0A
#endif

/* Configure in one step where the kernel can (5.8+); otherwise set the fd, then the flags. */
static int loop_configure(int loop_fd, int file_fd, uint32_t flags)
{
	struct loop_config cfg;
	struct loop_info64 info;

	memset(&cfg, 0, sizeof(cfg));
	cfg.fd = (uint32_t) file_fd;
	cfg.info.lo_flags = flags;
	if (ioctl(loop_fd, LOOP_CONFIGURE, &cfg) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOTTY)
		return -1;
	if (ioctl(loop_fd, LOOP_SET_FD, file_fd) < 0)
		return -1;
	memset(&info, 0, sizeof(info));
	info.lo_flags = flags;
	if (ioctl(loop_fd, LOOP_SET_STATUS64, &info) < 0) {
		int saved = errno;
		ioctl(loop_fd, LOOP_CLR_FD, 0);
		errno = saved;
		return -1;
	}
	return 0;
}

int loop_attach_ro(const char *file, char *dev, size_t devsize, struct berr **err)
{
	_cleanup_close_ int ctl = -1, file_fd = -1;

	file_fd = open(file, O_RDONLY | O_CLOEXEC);
	if (file_fd < 0)
		return berr_make(err, errno, "open `%s`", file);
	ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl < 0)
		return berr_make(err, errno, "open `/dev/loop-control` (is the loop driver loaded? `berth check`)");
	/* Another process may take the free device between asking and attaching: retry. */
	for (int attempt = 0; attempt < 64; attempt++) {
		int nr = ioctl(ctl, LOOP_CTL_GET_FREE);
		int fd, n;

		if (nr < 0)
			return berr_make(err, errno, "find a free loop device");
		n = snprintf(dev, devsize, "/dev/loop%d", nr);
		if (n < 0 || (size_t) n >= devsize)
			return berr_make(err, ENAMETOOLONG, "loop device name");
		fd = open(dev, O_RDWR | O_CLOEXEC);
		if (fd < 0 && errno == ENOENT) {
			/* No devtmpfs node yet (a minimal /dev): make it. */
			if (mknod(dev, S_IFBLK | 0600, makedev(7, (unsigned) nr)) < 0 && errno != EEXIST)
				return berr_make(err, errno, "create `%s`", dev);
			fd = open(dev, O_RDWR | O_CLOEXEC);
		}
		if (fd < 0)
			return berr_make(err, errno, "open `%s`", dev);
		/* Direct I/O keeps the layer file out of the page cache twice (squashfs caches
		 * what it decompresses); not every backing file system allows it. */
		if (loop_configure(fd, file_fd, LO_FLAGS_READ_ONLY | LO_FLAGS_AUTOCLEAR | LO_FLAGS_DIRECT_IO) == 0 ||
		    (errno != EBUSY && loop_configure(fd, file_fd, LO_FLAGS_READ_ONLY | LO_FLAGS_AUTOCLEAR) == 0))
			return fd;
		if (errno != EBUSY) {
			int saved = errno;
			close(fd);
			return berr_make(err, saved, "attach `%s` to `%s`", file, dev);
		}
		close(fd);
	}
	return berr_make(err, EBUSY, "attach `%s`: no free loop device", file);
}

/* Held around every layer mount and release, so concurrent berth processes agree. */
static int lock_layers(struct berr **err)
{
	char dir[PATH_MAX], lock[PATH_MAX];
	int fd;

	if (snprintf(dir, sizeof(dir), "%s/layers", paths_run_dir()) >= (int) sizeof(dir) ||
	    snprintf(lock, sizeof(lock), "%s/.lock", dir) >= (int) sizeof(lock))
		return berr_make(err, ENAMETOOLONG, "run dir");
	if (fs_mkdir_p(dir, 0700, err) < 0)
		return -1;
	fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return berr_make(err, errno, "open `%s`", lock);
	if (flock(fd, LOCK_EX) < 0) {
		int saved = errno;
		close(fd);
		return berr_make(err, saved, "lock `%s`", lock);
	}
	return fd;
}

static bool is_mount_point(const char *path)
{
	struct stat st, parent;
	char up[PATH_MAX];

	if (stat(path, &st) < 0)
		return false;
	if (snprintf(up, sizeof(up), "%s/..", path) >= (int) sizeof(up) || stat(up, &parent) < 0)
		return false;
	return st.st_dev != parent.st_dev;
}

static int hex_ok(const char *hex)
{
	if (strlen(hex) != 64)
		return 0;
	for (const char *p = hex; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return 0;
	return 1;
}

int layer_mount(const char *hex, char *out, size_t size, struct berr **err)
{
	char file[PATH_MAX], dev[64];
	struct stat st;
	int lock, loop_fd, ret = 0;

	if (!hex_ok(hex))
		return berr_make(err, EINVAL, "layer id `%.80s` is not 64 hex digits", hex);
	/* The dir layer format needs no mount: the directory is the layer. */
	if (paths_layer_dir(file, sizeof(file), hex) == 0 && stat(file, &st) == 0 && S_ISDIR(st.st_mode))
		return str_copy(out, size, file) < 0 ? berr_make(err, ENAMETOOLONG, "layer path") : 0;
	if (paths_layer(file, sizeof(file), hex) < 0 || paths_layer_mount(out, size, hex) < 0)
		return berr_make(err, errno, "layer path for `%s`", hex);
	lock = lock_layers(err);
	if (lock < 0)
		return -1;
	if (is_mount_point(out))
		goto done;
	if (fs_mkdir_p(out, 0700, err) < 0) {
		ret = -1;
		goto done;
	}
	loop_fd = loop_attach_ro(file, dev, sizeof(dev), err);
	if (loop_fd < 0) {
		ret = berr_wrap(err, "mount layer `%.12s`", hex);
		goto done;
	}
	if (mount(dev, out, "squashfs", MS_RDONLY | MS_NODEV | MS_NOSUID, NULL) < 0)
		ret = berr_make(err, errno, "mount layer `%s` from `%s`", file, dev);
	/* Closing our fd leaves the mount as the loop device's only user (autoclear). */
	close(loop_fd);
	if (ret < 0)
		rmdir(out);
done:
	close(lock);
	return ret;
}

int layers_lookup(const char *const *hexes, size_t n, const char *const *names, size_t n_names,
		  struct stat *st, int *found, struct berr **err)
{
	char path[PATH_MAX], dir[PATH_MAX];
	size_t left = n_names;

	for (size_t k = 0; k < n_names; k++)
		found[k] = -1;
	for (size_t i = n; i-- > 0 && left > 0;) {
		if (layer_mount(hexes[i], dir, sizeof(dir), err) < 0)
			return -1;
		for (size_t k = 0; k < n_names; k++) {
			if (found[k] >= 0)
				continue;
			if (snprintf(path, sizeof(path), "%s/%s", dir, names[k]) >= (int) sizeof(path))
				return berr_make(err, ENAMETOOLONG, "`%s` in layer `%.12s`", names[k], hexes[i]);
			if (lstat(path, &st[k]) < 0) {
				if (errno == ENOENT)
					continue;
				return berr_make(err, errno, "look at `%s` in layer `%.12s`", names[k], hexes[i]);
			}
			/* A whiteout: what lower layers have there is deleted. */
			found[k] = !(S_ISCHR(st[k].st_mode) && st[k].st_rdev == makedev(0, 0));
			left--;
		}
	}
	for (size_t k = 0; k < n_names; k++)
		if (found[k] < 0)
			found[k] = 0;
	return 0;
}

struct usage_scan {
	const char *layers_dir;  /* <run>/layers */
	size_t dir_len;
	char (*mounts)[65];      /* layer mounts found */
	unsigned (*devs)[2];
	bool *used;
	size_t n, cap;
	int pass;                /* 0: collect layer mounts, 1: mark the ones in use */
};

static int scan_mount(const struct mountinfo_entry *e, void *data)
{
	struct usage_scan *s = data;
	const char *mp = e->mount_point;

	if (s->pass == 0) {
		if (strncmp(mp, s->layers_dir, s->dir_len) == 0 && mp[s->dir_len] == '/' &&
		    hex_ok(mp + s->dir_len + 1) && s->n < s->cap) {
			memcpy(s->mounts[s->n], mp + s->dir_len + 1, 65);
			s->devs[s->n][0] = e->major;
			s->devs[s->n][1] = e->minor;
			s->used[s->n] = false;
			s->n++;
		}
		return 0;
	}
	for (size_t i = 0; i < s->n; i++) {
		bool is_self = strncmp(mp, s->layers_dir, s->dir_len) == 0 && mp[s->dir_len] == '/' &&
			       strcmp(mp + s->dir_len + 1, s->mounts[i]) == 0;
		if (is_self)
			continue;
		/* An overlay names its lower dirs in its options; a bind mount shares the device. */
		if ((strcmp(e->fstype, "overlay") == 0 && strstr(e->super_opts, s->mounts[i]) != NULL) ||
		    (e->major == s->devs[i][0] && e->minor == s->devs[i][1]))
			s->used[i] = true;
	}
	return 0;
}

int layer_running_set(char (**hex)[65], size_t *n, struct berr **err)
{
	struct rec_list l = { 0 };
	size_t cap = 0;

	*hex = NULL;
	*n = 0;
	if (rec_list_load(&l, err) < 0)
		return -1;
	for (size_t i = 0; i < l.n; i++) {
		struct digest top;
		struct img img;
		struct berr *e = NULL;

		/* rec_list_load has marked those whose process is gone as exited. */
		if (l.v[i].st.status != REC_RUNNING || l.v[i].cfg.image_digest == NULL)
			continue;
		if (digest_parse(l.v[i].cfg.image_digest, "image digest", &top, &e) < 0 ||
		    img_open(&top, &img, &e) < 0) {
			berr_free(e); /* its image is gone: nothing of it can be released anyway */
			continue;
		}
		for (size_t k = 0; k < img.n_layers; k++) {
			if (*n == cap) {
				cap = cap ? cap * 2 : 16;
				*hex = xrealloc(*hex, cap * sizeof(**hex));
			}
			memcpy((*hex)[(*n)++], img.chain_ids[k].hex, 65);
		}
		img_close(&img);
	}
	rec_list_free(&l);
	return 0;
}

int layer_release_unused(struct berr **err)
{
	char dir[PATH_MAX], mp[PATH_MAX];
	char mounts[256][65];
	unsigned devs[256][2];
	bool used[256];
	struct usage_scan s = { .mounts = mounts, .devs = devs, .used = used, .cap = 256 };
	char (*running)[65] = NULL;
	size_t n_running = 0;
	int lock, released = 0;

	if (snprintf(dir, sizeof(dir), "%s/layers", paths_run_dir()) >= (int) sizeof(dir))
		return berr_make(err, ENAMETOOLONG, "run dir");
	s.layers_dir = dir;
	s.dir_len = strlen(dir);
	lock = lock_layers(err);
	if (lock < 0)
		return -1;
	if (mountinfo_each(NULL, scan_mount, &s, err) < 0 ||
	    (s.pass = 1, mountinfo_each(NULL, scan_mount, &s, err)) < 0 ||
	    layer_running_set(&running, &n_running, err) < 0) {
		close(lock);
		return -1;
	}
	/* A running container's overlay is in its own mount namespace, out of this table's
	 * sight: its record says which layers it stands on. */
	for (size_t i = 0; i < s.n; i++)
		for (size_t k = 0; k < n_running && !used[i]; k++)
			used[i] = strcmp(running[k], mounts[i]) == 0;
	free(running);
	for (size_t i = 0; i < s.n; i++) {
		if (used[i])
			continue;
		if (snprintf(mp, sizeof(mp), "%s/%s", dir, mounts[i]) >= (int) sizeof(mp))
			continue;
		if (umount2(mp, 0) < 0) {
			log_warn("release layer mount `%s`: %s", mp, strerror(errno));
			continue;
		}
		rmdir(mp);
		released++;
	}
	close(lock);
	return released;
}

int overlay_options(const char *const *hexes, size_t n, const char *top, const char *upper,
		    const char *work, char *opts, size_t size, struct berr **err)
{
	char lower[PATH_MAX];
	size_t used;
	int len;

	if (n == 0)
		return berr_make(err, EINVAL, "overlay over no layers");
	/* overlayfs lists lower dirs top first. The option string is bounded by a page, so
	 * many layers need short paths: these are absolute but as short as the layout allows. */
	len = snprintf(opts, size, "lowerdir=%s%s", top ? top : "", top ? ":" : "");
	if (len < 0 || (size_t) len >= size)
		return berr_make(err, E2BIG, "overlay options");
	used = (size_t) len;
	for (size_t i = n; i-- > 0;) {
		if (layer_mount(hexes[i], lower, sizeof(lower), err) < 0)
			return -1;
		len = snprintf(opts + used, size - used, "%s%s", i == n - 1 ? "" : ":", lower);
		if (len < 0 || (size_t) len >= size - used)
			return berr_make(err, E2BIG, "overlay over %zu layers: the option string exceeds a page", n);
		used += (size_t) len;
	}
	if (upper) {
		len = snprintf(opts + used, size - used, ",upperdir=%s,workdir=%s", upper, work);
		if (len < 0 || (size_t) len >= size - used)
			return berr_make(err, E2BIG, "overlay options too long");
	}
	return 0;
}

int overlay_mount(const char *const *hexes, size_t n, const char *upper, const char *work,
		  const char *target, struct berr **err)
{
	char lower[PATH_MAX], opts[OVERLAY_OPTS_MAX];

	if (n == 0)
		return berr_make(err, EINVAL, "overlay over no layers");
	if (upper == NULL && n == 1) {
		if (layer_mount(hexes[0], lower, sizeof(lower), err) < 0)
			return -1;
		if (mount(lower, target, NULL, MS_BIND, NULL) < 0)
			return berr_make(err, errno, "bind `%s` on `%s`", lower, target);
		if (mount(NULL, target, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NODEV | MS_NOSUID, NULL) < 0) {
			int saved = errno;
			umount2(target, MNT_DETACH);
			return berr_make(err, saved, "make `%s` read-only", target);
		}
		return 0;
	}
	if (overlay_options(hexes, n, NULL, upper, work, opts, sizeof(opts), err) < 0)
		return -1;
	if (mount("overlay", target, "overlay", upper ? 0 : MS_RDONLY, opts) < 0)
		return berr_make(err, errno, "mount overlay on `%s`", target);
	return 0;
}
