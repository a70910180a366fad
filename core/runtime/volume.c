/* Volumes: create, list, inspect, remove, prune, and the first mount's copy-up of the image's
 * content. Which containers use a volume comes from the container records (record.h), under
 * the same lock that creates and removes records. */
#include "runtime/volume.h"
#include "runtime/record.h"
#include "runtime/resolve.h"
#include "base/err.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/paths.h"
#include "base/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#define VOL_FORMAT_VERSION 1
#define COPY_DEPTH_MAX 128
#define XATTR_LIST_MAX_BYTES (64u << 10)
#define XATTR_VALUE_MAX_BYTES (64u << 10)

bool vol_name_valid(const char *name)
{
	size_t n = strlen(name);

	if (n < 2 || n > VOL_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
		if (!alnum && (i == 0 || (c != '_' && c != '.' && c != '-')))
			return false;
	}
	return true;
}

int vol_spec_parse(const char *spec, struct vol_spec *out, struct berr **err)
{
	_cleanup_free_ char *copy = strdup(spec);
	char *parts[3] = { NULL }, *p = copy;
	size_t np = 0;

	memset(out, 0, sizeof(*out));
	if (copy == NULL)
		return berr_make(err, ENOMEM, "--volume");
	while (np < 3 && p) {
		parts[np++] = p;
		p = strchr(p, ':');
		if (p)
			*p++ = '\0';
	}
	if (p != NULL || parts[0][0] == '\0')
		return berr_usage(err, "--volume `%s`: use NAME:/path, /host:/path or /path, with :ro or :rw",
				  spec);
	if (np == 1) {
		out->kind = VOL_SPEC_ANONYMOUS;
		out->destination = strdup(parts[0]);
	} else {
		if (np == 3 && strcmp(parts[2], "ro") != 0 && strcmp(parts[2], "rw") != 0)
			return berr_usage(err, "--volume `%s`: the mode must be ro or rw", spec);
		out->readonly = np == 3 && strcmp(parts[2], "ro") == 0;
		if (parts[0][0] == '/') {
			out->kind = VOL_SPEC_BIND;
		} else if (!vol_name_valid(parts[0])) {
			return berr_usage(err, "--volume `%s`: `%s` is not a valid volume name "
					  "(a host path must be absolute)", spec, parts[0]);
		} else {
			out->kind = VOL_SPEC_NAMED;
		}
		out->source = strdup(parts[0]);
		out->destination = strdup(parts[1]);
		if (out->source == NULL) {
			vol_spec_free(out);
			return berr_make(err, ENOMEM, "--volume");
		}
	}
	if (out->destination == NULL) {
		vol_spec_free(out);
		return berr_make(err, ENOMEM, "--volume");
	}
	if (out->destination[0] != '/') {
		vol_spec_free(out);
		return berr_usage(err, "--volume `%s`: the container path must be absolute", spec);
	}
	return 0;
}

void vol_spec_free(struct vol_spec *v)
{
	free(v->source);
	free(v->destination);
	memset(v, 0, sizeof(*v));
}

static int bad_name(struct berr **err, const char *name)
{
	return berr_usage(err, "`%s` includes invalid characters for a local volume name, only "
			  "[a-zA-Z0-9][a-zA-Z0-9_.-] are allowed (2 to %d characters)", name, VOL_NAME_MAX);
}

static int no_such(struct berr **err, const char *name)
{
	berr_make(err, 0, "No such volume: %s", name);
	if (err && *err)
		(*err)->status = EXIT_FAILED;
	return -1;
}

void vol_info_free(struct vol_info *v)
{
	for (size_t i = 0; i < v->n_labels; i++) {
		free(v->labels[i].key);
		free(v->labels[i].value);
	}
	free(v->labels);
	free(v->problem);
	memset(v, 0, sizeof(*v));
}

/* ---- meta.json ---- */

static char *meta_dump(const struct vol_info *v)
{
	json_t *o = json_object(), *labels = json_object();
	char created[48];
	char *s;

	rec_time_format(v->created, created, sizeof(created));
	json_object_set_new(o, "Version", json_integer(VOL_FORMAT_VERSION));
	json_object_set_new(o, "CreatedAt", json_string(created));
	json_object_set_new(o, "Anonymous", json_boolean(v->anonymous));
	json_object_set_new(o, "Populated", json_boolean(v->populated));
	for (size_t i = 0; i < v->n_labels; i++)
		json_object_set_new(labels, v->labels[i].key, json_string(v->labels[i].value));
	json_object_set_new(o, "Labels", labels);
	s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(o);
	return s;
}

static int meta_parse(const char *data, size_t len, const char *what, struct vol_info *v,
		      struct berr **err)
{
	json_error_t jerr;
	json_t *root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr), *x, *labels;
	const char *k;
	json_t *lv;

	if (root == NULL)
		return berr_make(err, 0, "`%s` is corrupt (line %d: %s)", what, jerr.line, jerr.text);
	if (!json_is_object(root))
		goto bad;
	x = json_object_get(root, "CreatedAt");
	if (!json_is_string(x) || rec_time_parse(json_string_value(x), &v->created) < 0)
		goto bad;
	x = json_object_get(root, "Anonymous");
	if (x && !json_is_boolean(x))
		goto bad;
	v->anonymous = json_is_true(x);
	x = json_object_get(root, "Populated");
	if (x && !json_is_boolean(x))
		goto bad;
	v->populated = json_is_true(x);
	labels = json_object_get(root, "Labels");
	if (labels && !json_is_null(labels)) {
		if (!json_is_object(labels) || json_object_size(labels) > VOL_LABELS_MAX)
			goto bad;
		v->labels = xcalloc(json_object_size(labels) + 1, sizeof(*v->labels));
		json_object_foreach(labels, k, lv) {
			if (!json_is_string(lv))
				goto bad;
			v->labels[v->n_labels].key = xstrdup(k);
			v->labels[v->n_labels].value = xstrdup(json_string_value(lv));
			v->n_labels++;
		}
	}
	json_decref(root);
	return 0;
bad:
	json_decref(root);
	for (size_t i = 0; i < v->n_labels; i++) {
		free(v->labels[i].key);
		free(v->labels[i].value);
	}
	free(v->labels);
	v->labels = NULL;
	v->n_labels = 0;
	return berr_make(err, 0, "`%s` is not a volume's meta.json", what);
}

static int meta_save(const struct vol_info *v, const char *path, struct berr **err)
{
	char *s = meta_dump(v);
	int ret;

	if (s == NULL)
		return berr_make(err, ENOMEM, "write `%s`", path);
	ret = fs_write_atomic(path, s, strlen(s), 0600, err);
	free(s);
	return ret;
}

/* Read volume `name`: 0, or -1 with "No such volume". A bad meta.json is not an error: the
 * volume is still there, with `problem` set and its directory's time as CreatedAt. */
static int load(const char *name, struct vol_info *out, struct berr **err)
{
	char dir[PATH_MAX], meta[PATH_MAX];
	_cleanup_free_ char *data = NULL;
	struct berr *e = NULL;
	struct stat sb;
	size_t len;

	memset(out, 0, sizeof(*out));
	if (!vol_name_valid(name))
		return no_such(err, name);
	if (paths_volume_dir(dir, sizeof(dir), name) < 0 ||
	    paths_volume_file(meta, sizeof(meta), name, "meta.json") < 0)
		return berr_make(err, errno, "volume path");
	if (lstat(dir, &sb) < 0 || !S_ISDIR(sb.st_mode))
		return no_such(err, name);
	memcpy(out->name, name, strlen(name) + 1);
	if (fs_read_file(meta, VOL_META_MAX, &data, &len, &e) < 0 ||
	    meta_parse(data, len, meta, out, &e) < 0) {
		out->problem = xstrdup(e->msg);
		out->created = (int64_t) sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec;
		berr_free(e);
	}
	return 0;
}

int vol_inspect(const char *name, struct vol_info *out, struct berr **err)
{
	return load(name, out, err);
}

int vol_path(const char *name, char *buf, size_t size, struct berr **err)
{
	struct vol_info v;

	if (load(name, &v, err) < 0)
		return -1;
	vol_info_free(&v);
	if (paths_volume(buf, size, name) < 0)
		return berr_make(err, errno, "volume path");
	return 0;
}

/* ---- create ---- */

static int join(char *buf, size_t size, const char *dir, const char *name)
{
	int n = snprintf(buf, size, "%s/%s", dir, name);

	if (n < 0 || (size_t) n >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

static int create(const char *name, bool anonymous, const struct vol_label *labels,
		  size_t n_labels, struct vol_info *out, bool *created, struct berr **err)
{
	struct vol_info v = { 0 };
	char tmp[PATH_MAX], tmpname[VOL_NAME_MAX + 16], path[PATH_MAX], dst[PATH_MAX], dirs[PATH_MAX];
	struct berr *e = NULL;

	if (created)
		*created = false;
	if (n_labels > VOL_LABELS_MAX)
		return berr_usage(err, "too many labels (at most %d)", VOL_LABELS_MAX);
	for (size_t i = 0; i < n_labels; i++)
		if (labels[i].key == NULL || labels[i].key[0] == '\0' || labels[i].value == NULL)
			return berr_usage(err, "a volume label needs a key");
	if (paths_volume_dir(dst, sizeof(dst), name) < 0 || paths_volumes_dir(dirs, sizeof(dirs)) < 0)
		return berr_make(err, errno, "volume path");
	/* An existing volume is reused as it is. */
	if (load(name, out ? out : &v, &e) == 0) {
		if (!out)
			vol_info_free(&v);
		return 0;
	}
	berr_free(e);
	snprintf(tmpname, sizeof(tmpname), "vol-%s.new", name);
	if (paths_tmp_file(tmp, sizeof(tmp), tmpname) < 0)
		return berr_make(err, errno, "volume path");
	if (fs_mkdir_p(dirs, 0700, err) < 0 || paths_tmp_dir(path, sizeof(path)) < 0 ||
	    fs_mkdir_p(path, 0700, err) < 0 || fs_rm_rf(tmp, err) < 0)
		return -1;
	memcpy(v.name, name, strlen(name) + 1);
	v.created = rec_now();
	v.anonymous = anonymous;
	v.labels = (struct vol_label *) labels; /* not owned: only dumped */
	v.n_labels = n_labels;
	/* Inside our own tmp/ directory, whose path paths.c gave. */
	if (join(path, sizeof(path), tmp, "_data") < 0 || mkdir(tmp, 0700) < 0 || mkdir(path, 0755) < 0) {
		berr_make(err, errno, "mkdir `%s`", path);
		goto fail;
	}
	if (join(path, sizeof(path), tmp, "meta.json") < 0 || meta_save(&v, path, err) < 0)
		goto fail;
	if (rename(tmp, dst) < 0) {
		int rerr = errno;
		if (fs_rm_rf(tmp, &e) < 0)
			berr_free(e);
		/* Another berth made it meanwhile: use that one. */
		if (rerr == EEXIST || rerr == ENOTEMPTY)
			return out ? load(name, out, err) : 0;
		return berr_make(err, rerr, "rename `%s` to `%s`", tmp, dst);
	}
	if (fs_fsync_dir(dirs, err) < 0)
		return -1;
	if (created)
		*created = true;
	return out ? load(name, out, err) : 0;
fail:
	if (fs_rm_rf(tmp, &e) < 0)
		berr_free(e);
	return -1;
}

int vol_create(const char *name, const struct vol_label *labels, size_t n_labels,
	       struct vol_info *out, bool *created, struct berr **err)
{
	char id[REC_ID_LEN + 1];

	if (name && name[0]) {
		if (!vol_name_valid(name))
			return bad_name(err, name);
		return create(name, false, labels, n_labels, out, created, err);
	}
	if (rec_id_new(id, err) < 0)
		return -1;
	return create(id, true, labels, n_labels, out, created, err);
}

int vol_ensure(const char *name, bool anonymous, struct berr **err)
{
	if (!vol_name_valid(name))
		return bad_name(err, name);
	return create(name, anonymous, NULL, 0, NULL, NULL, err);
}

/* ---- list ---- */

static int cmp_vol(const void *a, const void *b)
{
	return strcmp(((const struct vol_info *) a)->name, ((const struct vol_info *) b)->name);
}

int vol_list_load(struct vol_list *out, struct berr **err)
{
	char dir[PATH_MAX];
	struct dirent *de;
	size_t cap = 0;
	DIR *d;

	memset(out, 0, sizeof(*out));
	if (paths_volumes_dir(dir, sizeof(dir)) < 0)
		return berr_make(err, errno, "volumes path");
	d = opendir(dir);
	if (d == NULL)
		return errno == ENOENT ? 0 : berr_make(err, errno, "open `%s`", dir);
	while ((de = readdir(d)) != NULL) {
		struct berr *e = NULL;

		if (!vol_name_valid(de->d_name))
			continue;
		if (out->n == VOL_MAX) {
			log_warn("more than %d volumes: the rest are not listed", VOL_MAX);
			break;
		}
		if (out->n == cap) {
			cap = cap ? cap * 2 : 16;
			out->v = xrealloc(out->v, cap * sizeof(*out->v));
		}
		if (load(de->d_name, &out->v[out->n], &e) == 0)
			out->n++;
		berr_free(e);
	}
	closedir(d);
	if (out->n > 1)
		qsort(out->v, out->n, sizeof(*out->v), cmp_vol);
	return 0;
}

void vol_list_free(struct vol_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		vol_info_free(&l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* ---- users, remove, prune ---- */

/* Records in l that mount volume `name`: their count, and whether one is running. */
static size_t users_in(const struct rec_list *l, const char *name, bool *running, char ***ids)
{
	size_t n = 0;

	if (running)
		*running = false;
	for (size_t i = 0; i < l->n; i++) {
		const struct rec *r = &l->v[i];
		bool uses = false;

		for (size_t k = 0; k < r->cfg.n_mounts; k++)
			if (r->cfg.mounts[k].type == REC_MOUNT_VOLUME &&
			    strcmp(r->cfg.mounts[k].name, name) == 0)
				uses = true;
		if (!uses)
			continue;
		if (running && r->st.status == REC_RUNNING)
			*running = true;
		if (ids) {
			*ids = xrealloc(*ids, (n + 1) * sizeof(**ids));
			(*ids)[n] = xstrdup(r->cfg.id);
		}
		n++;
	}
	return n;
}

int vol_users(const char *name, char ***ids, size_t *n, struct berr **err)
{
	struct rec_list l;

	*ids = NULL;
	*n = 0;
	if (rec_list_load(&l, err) < 0)
		return -1;
	*n = users_in(&l, name, NULL, ids);
	rec_list_free(&l);
	return 0;
}

void vol_ids_free(char **ids, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
}

/* Move volumes/<name> into tmp/ in one rename (it is gone at once, whole), then delete it. */
static int remove_dir(const char *name, uint64_t *size, struct berr **err)
{
	char src[PATH_MAX], dst[PATH_MAX], tmpname[VOL_NAME_MAX + 16];
	struct berr *e = NULL;

	snprintf(tmpname, sizeof(tmpname), "vol-%s.rm", name);
	if (paths_volume_dir(src, sizeof(src), name) < 0 || paths_tmp_file(dst, sizeof(dst), tmpname) < 0)
		return berr_make(err, errno, "volume path");
	if (size) {
		/* The data, as Docker counts it: not our meta.json. */
		int fd = open(src, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		*size = fd >= 0 ? fs_tree_size_at(fd, "_data") : 0;
		if (fd >= 0)
			close(fd);
	}
	if (fs_move_aside(src, dst, err) < 0)
		return -1;
	if (fs_rm_rf(dst, &e) < 0) {
		log_warn("volume %s removed, but its files stay in tmp/ until the next prune: %s", name,
			 e->msg);
		berr_free(e);
	}
	return 0;
}

static int in_use(struct berr **err, const char *name, char **ids, size_t n, bool running)
{
	char list[4 * (REC_SHORT_ID_LEN + 2) + 8];
	size_t off = 0;

	list[0] = '\0';
	for (size_t i = 0; i < n && i < 4; i++)
		off += (size_t) snprintf(list + off, sizeof(list) - off, "%s%.12s", i ? ", " : "", ids[i]);
	if (n > 4)
		snprintf(list + off, sizeof(list) - off, ", ...");
	berr_make(err, 0, "remove %s: volume is in use by %s container%s [%s]%s", name,
		  running ? "a running" : "a", n == 1 ? "" : "s", list,
		  running ? "" : "; remove the container, or use -f");
	if (err && *err)
		(*err)->status = EXIT_FAILED;
	return -1;
}

int vol_remove(const char *name, bool force, uint64_t *size, struct berr **err)
{
	struct rec_list l = { 0 };
	struct vol_info v;
	struct berr *e = NULL;
	char **ids = NULL;
	size_t n = 0;
	bool running;
	int lock, ret = -1;

	if (size)
		*size = 0;
	lock = rec_lock(err);
	if (lock < 0)
		return -1;
	if (load(name, &v, &e) < 0) {
		if (force) {
			berr_free(e);
			ret = 0;
		} else if (err && *err == NULL) {
			*err = e;
		} else {
			berr_free(e);
		}
		goto out;
	}
	vol_info_free(&v);
	if (rec_list_load(&l, err) < 0)
		goto out;
	n = users_in(&l, name, &running, &ids);
	/* Even forced, never delete data from under a live process. */
	if (n > 0 && (!force || running)) {
		in_use(err, name, ids, n, running);
		goto out;
	}
	ret = remove_dir(name, size, err);
out:
	vol_ids_free(ids, n);
	rec_list_free(&l);
	rec_unlock(lock);
	return ret;
}

int vol_prune(bool all, void (*fn)(void *data, const char *name, uint64_t size), void *data,
	      uint64_t *reclaimed, struct berr **err)
{
	struct rec_list l = { 0 };
	struct vol_list vl = { 0 };
	int lock, ret = -1;

	*reclaimed = 0;
	lock = rec_lock(err);
	if (lock < 0)
		return -1;
	if (rec_list_load(&l, err) < 0 || vol_list_load(&vl, err) < 0)
		goto out;
	for (size_t i = 0; i < vl.n; i++) {
		const struct vol_info *v = &vl.v[i];
		uint64_t size = 0;

		/* A volume whose meta.json is unreadable may be named: only -a takes it. */
		if (!all && (!v->anonymous || v->problem))
			continue;
		if (users_in(&l, v->name, NULL, NULL) > 0)
			continue;
		if (remove_dir(v->name, &size, err) < 0)
			goto out;
		*reclaimed += size;
		if (fn)
			fn(data, v->name, size);
	}
	ret = 0;
out:
	vol_list_free(&vl);
	rec_list_free(&l);
	rec_unlock(lock);
	return ret;
}

/* ---- copy-up ---- */

struct hardlink {
	dev_t dev;
	ino_t ino;
	char *path; /* relative to the copy's root */
};

struct copy {
	int droot;             /* the copy's root directory */
	char path[PATH_MAX];   /* of the entry being copied, relative to droot */
	struct hardlink *links;
	size_t n_links;
	struct berr **err;
};

/* Copy extended attributes. `fd` >= 0 is used when the file is open; otherwise `path` (of a
 * symlink or a device, through /proc/self/fd) with the l* calls. */
static int copy_xattrs(int sfd, const char *spath, int dfd, const char *dpath, struct copy *c)
{
	_cleanup_free_ char *list = xmalloc(XATTR_LIST_MAX_BYTES), *val = xmalloc(XATTR_VALUE_MAX_BYTES);
	ssize_t n = sfd >= 0 ? flistxattr(sfd, list, XATTR_LIST_MAX_BYTES) :
			       llistxattr(spath, list, XATTR_LIST_MAX_BYTES);

	if (n < 0) {
		if (errno == ENOTSUP || errno == EOPNOTSUPP)
			return 0;
		return berr_make(c->err, errno, "list xattrs of `%s`", c->path);
	}
	for (char *k = list; k < list + n; k += strlen(k) + 1) {
		ssize_t vn = sfd >= 0 ? fgetxattr(sfd, k, val, XATTR_VALUE_MAX_BYTES) :
					lgetxattr(spath, k, val, XATTR_VALUE_MAX_BYTES);
		int r;

		if (vn < 0) {
			if (errno == ENODATA)
				continue;
			return berr_make(c->err, errno, "read xattr `%s` of `%s`", k, c->path);
		}
		r = dfd >= 0 ? fsetxattr(dfd, k, val, (size_t) vn, 0) :
			       lsetxattr(dpath, k, val, (size_t) vn, 0);
		if (r < 0 && errno != ENOTSUP && errno != EOPNOTSUPP)
			return berr_make(c->err, errno, "set xattr `%s` on `%s`", k, c->path);
	}
	return 0;
}

static int copy_data(int sfd, int dfd, struct copy *c)
{
	char buf[65536];

	for (;;) {
		ssize_t n = read(sfd, buf, sizeof(buf)), w;
		char *p = buf;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return berr_make(c->err, errno, "read `%s`", c->path);
		}
		if (n == 0)
			return 0;
		while (n > 0) {
			w = write(dfd, p, (size_t) n);
			if (w < 0) {
				if (errno == EINTR)
					continue;
				return berr_make(c->err, errno, "write `%s`", c->path);
			}
			p += w;
			n -= w;
		}
	}
}

/* Owner, then mode (chown clears set-id bits), xattrs, times: of an open file or dir. */
static int finish_fd(int sfd, int dfd, const struct stat *st, struct copy *c)
{
	struct timespec ts[2] = { st->st_atim, st->st_mtim };

	if (fchown(dfd, st->st_uid, st->st_gid) < 0)
		return berr_make(c->err, errno, "chown `%s`", c->path);
	if (fchmod(dfd, st->st_mode & 07777) < 0)
		return berr_make(c->err, errno, "chmod `%s`", c->path);
	if (copy_xattrs(sfd, NULL, dfd, NULL, c) < 0)
		return -1;
	if (futimens(dfd, ts) < 0)
		return berr_make(c->err, errno, "set times of `%s`", c->path);
	return 0;
}

/* The same for a symlink or a device node, by name. */
static int finish_at(int sdir, int ddir, const char *name, const struct stat *st, struct copy *c)
{
	struct timespec ts[2] = { st->st_atim, st->st_mtim };
	char sp[64 + NAME_MAX], dp[64 + NAME_MAX];

	if (fchownat(ddir, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0)
		return berr_make(c->err, errno, "chown `%s`", c->path);
	if (!S_ISLNK(st->st_mode) && fchmodat(ddir, name, st->st_mode & 07777, 0) < 0)
		return berr_make(c->err, errno, "chmod `%s`", c->path);
	snprintf(sp, sizeof(sp), "/proc/self/fd/%d/%s", sdir, name);
	snprintf(dp, sizeof(dp), "/proc/self/fd/%d/%s", ddir, name);
	if (copy_xattrs(-1, sp, -1, dp, c) < 0)
		return -1;
	if (utimensat(ddir, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
		return berr_make(c->err, errno, "set times of `%s`", c->path);
	return 0;
}

static int copy_tree(int sdir, int ddir, int depth, struct copy *c);

static int copy_entry(int sdir, int ddir, const char *name, int depth, struct copy *c)
{
	struct stat st;
	size_t plen = strlen(c->path);
	int ret = -1;

	if (plen + 1 + strlen(name) + 1 > sizeof(c->path))
		return berr_make(c->err, ENAMETOOLONG, "copy `%s/%s`", c->path, name);
	snprintf(c->path + plen, sizeof(c->path) - plen, "%s%s", plen ? "/" : "", name);
	if (fstatat(sdir, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		berr_make(c->err, errno, "stat `%s`", c->path);
		goto out;
	}
	if (!S_ISDIR(st.st_mode) && st.st_nlink > 1) {
		for (size_t i = 0; i < c->n_links; i++)
			if (c->links[i].dev == st.st_dev && c->links[i].ino == st.st_ino) {
				if (linkat(c->droot, c->links[i].path, ddir, name, 0) < 0)
					berr_make(c->err, errno, "link `%s`", c->path);
				else
					ret = 0;
				goto out;
			}
		c->links = xrealloc(c->links, (c->n_links + 1) * sizeof(*c->links));
		c->links[c->n_links++] = (struct hardlink){ st.st_dev, st.st_ino, xstrdup(c->path) };
	}
	if (S_ISDIR(st.st_mode)) {
		_cleanup_close_ int s = -1, d = -1;
		if (depth >= COPY_DEPTH_MAX) {
			berr_make(c->err, ELOOP, "copy `%s`: nested deeper than %d", c->path, COPY_DEPTH_MAX);
			goto out;
		}
		if (mkdirat(ddir, name, 0700) < 0) {
			berr_make(c->err, errno, "mkdir `%s`", c->path);
			goto out;
		}
		s = openat(sdir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		d = openat(ddir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (s < 0 || d < 0) {
			berr_make(c->err, errno, "open `%s`", c->path);
			goto out;
		}
		/* Times last: filling the directory changes its mtime. */
		if (copy_tree(s, d, depth + 1, c) < 0 || finish_fd(s, d, &st, c) < 0)
			goto out;
	} else if (S_ISREG(st.st_mode)) {
		_cleanup_close_ int s = openat(sdir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		_cleanup_close_ int d = -1;
		if (s < 0) {
			berr_make(c->err, errno, "open `%s`", c->path);
			goto out;
		}
		d = openat(ddir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (d < 0) {
			berr_make(c->err, errno, "create `%s`", c->path);
			goto out;
		}
		if (copy_data(s, d, c) < 0 || finish_fd(s, d, &st, c) < 0)
			goto out;
	} else if (S_ISLNK(st.st_mode)) {
		char target[PATH_MAX];
		ssize_t n = readlinkat(sdir, name, target, sizeof(target) - 1);
		if (n < 0) {
			berr_make(c->err, errno, "readlink `%s`", c->path);
			goto out;
		}
		target[n] = '\0';
		if (symlinkat(target, ddir, name) < 0) {
			berr_make(c->err, errno, "symlink `%s`", c->path);
			goto out;
		}
		if (finish_at(sdir, ddir, name, &st, c) < 0)
			goto out;
	} else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) || S_ISFIFO(st.st_mode)) {
		if (mknodat(ddir, name, st.st_mode & ~07777, st.st_rdev) < 0) {
			berr_make(c->err, errno, "mknod `%s`", c->path);
			goto out;
		}
		if (finish_at(sdir, ddir, name, &st, c) < 0)
			goto out;
	} else {
		log_debug("copy-up: `%s` skipped: a socket", c->path);
	}
	ret = 0;
out:
	c->path[plen] = '\0';
	return ret;
}

static int copy_tree(int sdir, int ddir, int depth, struct copy *c)
{
	struct dirent *de;
	DIR *d;
	int fd = dup(sdir), ret = 0;

	if (fd < 0 || (d = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		return berr_make(c->err, errno, "read directory `%s`", c->path[0] ? c->path : ".");
	}
	while ((errno = 0, de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (copy_entry(sdir, ddir, de->d_name, depth, c) < 0) {
			ret = -1;
			break;
		}
	}
	if (ret == 0 && errno != 0)
		ret = berr_make(c->err, errno, "read directory `%s`", c->path[0] ? c->path : ".");
	closedir(d);
	return ret;
}

static bool dir_empty(int dfd)
{
	int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct dirent *de;
	bool empty = true;
	DIR *d;

	if (fd < 0 || (d = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		return false;
	}
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
			empty = false;
			break;
		}
	closedir(d);
	return empty;
}

/* Open the directory `path` in the image root, or -1 (with *missing when there is no
 * directory there: nothing to copy). */
static int open_source(int root, const char *path, bool *missing, struct berr **err)
{
	struct berr *e = NULL;
	struct stat st;
	int p, fd;

	*missing = false;
	p = resolve_in_root(root, path, RESOLVE_NO_CREATE, &e);
	if (p < 0) {
		if (e && (e->errcode == ENOENT || e->errcode == ENOTDIR)) {
			berr_free(e);
			*missing = true;
			return -1;
		}
		if (err)
			*err = e;
		else
			berr_free(e);
		return -1;
	}
	if (fstat(p, &st) < 0 || !S_ISDIR(st.st_mode)) {
		close(p);
		*missing = true;
		return -1;
	}
	fd = openat(p, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	close(p);
	if (fd < 0)
		return berr_make(err, errno, "open `%s` in the image", path);
	return fd;
}

static int mark_populated(const char *name, struct vol_info *v, struct berr **err)
{
	char meta[PATH_MAX];

	if (paths_volume_file(meta, sizeof(meta), name, "meta.json") < 0)
		return berr_make(err, errno, "volume path");
	v->populated = true;
	return meta_save(v, meta, err);
}

int vol_populate(const char *name, int image_root_fd, const char *path, struct berr **err)
{
	struct copy c = { .err = err };
	char dir[PATH_MAX];
	_cleanup_close_ int vfd = -1, data = -1, src = -1, tmp = -1;
	struct vol_info v = { 0 };
	struct stat st;
	bool missing;
	int ret = -1;

	if (load(name, &v, err) < 0)
		return -1;
	if (paths_volume_dir(dir, sizeof(dir), name) < 0) {
		berr_make(err, errno, "volume path");
		goto out;
	}
	/* Two containers starting on a new volume at once: one copies, the other waits and
	 * then finds it done. */
	vfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (vfd < 0 || flock(vfd, LOCK_EX) < 0) {
		berr_make(err, errno, "lock `%s`", dir);
		goto out;
	}
	vol_info_free(&v);
	if (load(name, &v, err) < 0)
		goto out;
	if (v.populated) {
		ret = 0;
		goto out;
	}
	data = openat(vfd, "_data", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (data < 0) {
		berr_make(err, errno, "open `%s/_data`", dir);
		goto out;
	}
	/* Data already there (put in by an earlier container, or a copy that completed just
	 * before a power cut) is never touched. */
	if (!dir_empty(data)) {
		ret = mark_populated(name, &v, err);
		goto out;
	}
	src = open_source(image_root_fd, path, &missing, err);
	if (src < 0) {
		ret = missing ? mark_populated(name, &v, err) : -1;
		goto out;
	}
	if (fs_rm_rf_at(vfd, "_data.tmp", err) < 0)
		goto out;
	if (mkdirat(vfd, "_data.tmp", 0700) < 0 ||
	    (tmp = openat(vfd, "_data.tmp", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		berr_make(err, errno, "mkdir `%s/_data.tmp`", dir);
		goto out;
	}
	c.droot = tmp;
	if (copy_tree(src, tmp, 0, &c) < 0 || fstat(src, &st) < 0 || finish_fd(src, tmp, &st, &c) < 0)
		goto fail;
	/* Everything on flash before the rename makes it visible. */
	if (syncfs(tmp) < 0) {
		berr_make(err, errno, "sync `%s/_data.tmp`", dir);
		goto fail;
	}
	if (renameat(vfd, "_data.tmp", vfd, "_data") < 0) {
		berr_make(err, errno, "rename `%s/_data.tmp` over the empty `_data`", dir);
		goto fail;
	}
	if (fsync(vfd) < 0 && errno != EINVAL) {
		berr_make(err, errno, "fsync `%s`", dir);
		goto out;
	}
	ret = mark_populated(name, &v, err);
	goto out;
fail:
	{
		struct berr *e = NULL;
		if (fs_rm_rf_at(vfd, "_data.tmp", &e) < 0)
			berr_free(e);
	}
out:
	for (size_t i = 0; i < c.n_links; i++)
		free(c.links[i].path);
	free(c.links);
	vol_info_free(&v);
	if (ret < 0)
		berr_wrap(err, "copy `%s` from the image into volume %s", path, name);
	return ret;
}

int vol_repair(struct berr **err)
{
	char dir[PATH_MAX];
	struct dirent *de;
	DIR *d;

	if (paths_volumes_dir(dir, sizeof(dir)) < 0)
		return berr_make(err, errno, "volumes path");
	d = opendir(dir);
	if (d == NULL)
		return errno == ENOENT ? 0 : berr_make(err, errno, "open `%s`", dir);
	while ((de = readdir(d)) != NULL) {
		struct dirent *fe;
		DIR *vd;
		int fd;

		if (!vol_name_valid(de->d_name))
			continue;
		fd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 || (vd = fdopendir(fd)) == NULL) {
			if (fd >= 0)
				close(fd);
			continue;
		}
		while ((fe = readdir(vd)) != NULL) {
			struct berr *e = NULL;
			if (strcmp(fe->d_name, "_data.tmp") == 0 && fs_rm_rf_at(dirfd(vd), fe->d_name, &e) < 0) {
				log_warn("volume %s: %s", de->d_name, e->msg);
				berr_free(e);
			} else if (str_has_prefix(fe->d_name, "meta.json.tmp.")) {
				unlinkat(dirfd(vd), fe->d_name, 0);
			}
		}
		closedir(vd);
	}
	closedir(d);
	return 0;
}
