/* Squashfs writer, entry side: paths into a tree of nodes (tar semantics: any order, last entry
 * wins, implicit parents), attributes, and file data streamed block by block into the pipeline
 * of squashfs_data.c. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "base/err.h"
#include "base/util.h"
#include "image/squashfs.h"
#include "image/squashfs_int.h"

/* ---- paths and nodes ---- */

static uint64_t name_hash(const struct sqfs_node *parent, const char *name, size_t len)
{
	uintptr_t p = (uintptr_t) parent;

	return sqfs_hash(name, len, (uint64_t) p * 0x9e3779b97f4a7c15ull);
}

static struct sqfs_node *child_find(struct sqfs_writer *w, struct sqfs_node *dir,
				    const char *name, size_t len)
{
	uint64_t h = name_hash(dir, name, len);

	for (struct sqfs_hnode *n = sqfs_htab_first(&w->names, h); n != NULL; n = n->next) {
		struct sqfs_node *c = (struct sqfs_node *) n;

		if (n->hash == h && c->parent == dir && c->name_len == len &&
		    memcmp(c->name, name, len) == 0)
			return c;
	}
	return NULL;
}

/* Inodes and names come from 64 KiB chunks that the writer frees together: no allocator
 * header or rounding per entry, which is most of what a layer of many small files costs. */
#define ARENA_CHUNK (64u << 10)

struct sqfs_arena {
	struct sqfs_arena *next;
	size_t used, cap;
	_Alignas(16) unsigned char data[];
};

void *sqfs_arena_zalloc(struct sqfs_writer *w, size_t n)
{
	struct sqfs_arena *a = w->arena;
	void *p;

	n = (n + 7) & ~(size_t) 7;
	if (a == NULL || a->cap - a->used < n) {
		size_t cap = n > ARENA_CHUNK - sizeof(*a) ? n : ARENA_CHUNK - sizeof(*a);

		a = xmalloc(sizeof(*a) + cap);
		a->cap = cap;
		a->used = 0;
		a->next = w->arena;
		w->arena = a;
	}
	p = a->data + a->used;
	a->used += n;
	memset(p, 0, n);
	return p;
}

static struct sqfs_inode *inode_new(struct sqfs_writer *w, uint16_t mode)
{
	struct sqfs_inode *ino = sqfs_arena_zalloc(w, sizeof(*ino));

	ino->mode = mode;
	ino->all_next = w->inodes;
	w->inodes = ino;
	return ino;
}

static struct sqfs_node *child_add(struct sqfs_writer *w, struct sqfs_node *dir, const char *name,
				   size_t len, struct sqfs_inode *ino)
{
	struct sqfs_node *c = sqfs_arena_zalloc(w, sizeof(*c) + len + 1);

	memcpy(c->name, name, len);
	c->name_len = (uint16_t) len;
	c->parent = dir;
	c->ino = ino;
	ino->links++;
	c->h.hash = name_hash(dir, name, len);
	sqfs_htab_insert(&w->names, &c->h);
	c->next = dir->children;
	if (dir->children != NULL)
		dir->children->prev = c;
	dir->children = c;
	dir->nchildren++;
	return c;
}

static void node_unlink(struct sqfs_writer *w, struct sqfs_node *c)
{
	struct sqfs_node *dir = c->parent;

	sqfs_htab_remove(&w->names, &c->h);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		dir->children = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	dir->nchildren--;
	c->ino->links--; /* the node itself is the arena's */
}

/* Remove every descendant of `dir` (not `dir` itself), without recursion. */
static void subtree_clear(struct sqfs_writer *w, struct sqfs_node *dir)
{
	struct sqfs_node *n = dir;

	while (n != NULL) {
		if (n->children != NULL) {
			n = n->children;
		} else if (n == dir) {
			break;
		} else {
			struct sqfs_node *up = n->parent;

			node_unlink(w, n);
			n = up;
		}
	}
}

static bool node_is_dir(const struct sqfs_node *n)
{
	return S_ISDIR(n->ino->mode);
}

/* Check a path's shape: relative, '/'-separated, no empty, "." or ".." components. */
static int path_check(const char *path, struct berr **err)
{
	size_t len;
	const char *c;

	if (path == NULL || path[0] == '\0')
		return berr_usage(err, "squashfs: empty path");
	len = strlen(path);
	if (len >= SQFS_PATH_MAX)
		return berr_usage(err, "squashfs: path of %zu bytes, at most %u", len,
				  SQFS_PATH_MAX - 1);
	if (strcmp(path, ".") == 0)
		return 0;
	if (path[0] == '/')
		return berr_usage(err, "squashfs: `%s`: path must be relative to the root", path);
	for (c = path;;) {
		const char *end = strchr(c, '/');
		size_t n = end != NULL ? (size_t) (end - c) : strlen(c);

		if (n == 0)
			return berr_usage(err, "squashfs: `%s`: empty path component", path);
		if ((n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return berr_usage(err, "squashfs: `%s`: `.` and `..` components are not "
					  "allowed", path);
		if (n > SQFS_NAME_MAX)
			return berr_usage(err, "squashfs: `%s`: a name longer than %u bytes", path,
					  SQFS_NAME_MAX);
		if (end == NULL)
			return 0;
		c = end + 1;
	}
}

/* Find the node at `path`; *parent (if asked) gets the directory that holds it. Walking into
 * a non-directory is ENOTDIR; a missing component is ENOENT (with *parent NULL if it is not the
 * last one). */
static struct sqfs_node *path_lookup(struct sqfs_writer *w, const char *path,
				     struct sqfs_node **parent, const char **last)
{
	struct sqfs_node *dir = w->root;
	const char *c = path;

	if (strcmp(path, ".") == 0) {
		if (parent != NULL)
			*parent = NULL;
		return w->root;
	}
	for (;;) {
		const char *end = strchr(c, '/');
		size_t n = end != NULL ? (size_t) (end - c) : strlen(c);
		struct sqfs_node *child = child_find(w, dir, c, n);

		if (end == NULL) {
			if (parent != NULL)
				*parent = dir;
			if (last != NULL)
				*last = c;
			return child;
		}
		if (child == NULL || !node_is_dir(child)) {
			errno = child == NULL ? ENOENT : ENOTDIR;
			if (parent != NULL)
				*parent = NULL;
			return NULL;
		}
		dir = child;
		c = end + 1;
	}
}

/* The directory that will hold `path`, made with implicit parents where missing. An existing
 * non-directory on the way is an error, found before anything is created. */
static int parent_dir(struct sqfs_writer *w, const char *path, struct sqfs_node **out,
		      const char **last, struct berr **err)
{
	struct sqfs_node *dir = w->root;
	const char *c;

	/* First pass: find the deepest existing ancestor and check it is a directory. */
	for (c = path;;) {
		const char *end = strchr(c, '/');
		struct sqfs_node *child;

		if (end == NULL)
			break;
		child = child_find(w, dir, c, (size_t) (end - c));
		if (child == NULL)
			break;
		if (!node_is_dir(child))
			return berr_usage(err, "squashfs: `%s`: `%.*s` is not a directory", path,
					  (int) (end - path), path);
		dir = child;
		c = end + 1;
	}
	/* Second pass: create the rest, as 0755 root-owned directories with mtime 0. */
	for (;;) {
		const char *end = strchr(c, '/');
		struct sqfs_inode *ino;

		if (end == NULL)
			break;
		ino = inode_new(w, S_IFDIR | 0755);
		ino->uid = ino->gid = sqfs_id_intern(w, 0);
		dir = child_add(w, dir, c, (size_t) (end - c), ino);
		c = end + 1;
	}
	*out = dir;
	*last = c;
	return 0;
}

static uint32_t clamp_mtime(int64_t t)
{
	if (t < 0)
		return 0;
	if (t > (int64_t) UINT32_MAX)
		return UINT32_MAX;
	return (uint32_t) t;
}

/* Check `a` for an entry of the given type and fill `ino`'s attributes from it. */
static int attr_apply(struct sqfs_writer *w, const char *path, const struct sqfs_attr *a,
		      struct sqfs_inode *ino, struct berr **err)
{
	struct sqfs_xset *base, *xs;

	if (sqfs_xset_intern(w, path, a->xattrs, a->n_xattrs, &base, err) < 0 ||
	    sqfs_xset_merge(w, path, base, ino->x ? ino->x->xadded : NULL, &xs, err) < 0)
		return -1;
	if (ino->x == NULL && (base != NULL || xs != NULL))
		ino->x = sqfs_arena_zalloc(w, sizeof(*ino->x));
	if (ino->x != NULL) {
		ino->x->xbase = base;
		ino->x->xattrs = xs;
	}
	ino->mode = (uint16_t) (a->mode & (S_IFMT | 07777));
	ino->uid = sqfs_id_intern(w, a->uid);
	ino->gid = sqfs_id_intern(w, a->gid);
	ino->mtime = clamp_mtime(a->mtime);
	return 0;
}

static int attr_check(const char *path, const struct sqfs_attr *a, struct berr **err)
{
	mode_t t = a->mode & S_IFMT;

	if (t == S_IFLNK) {
		size_t n = a->link_target != NULL ? strlen(a->link_target) : 0;

		if (n == 0 || n > SQFS_SYMLINK_MAX)
			return berr_usage(err, "squashfs: `%s`: symlink target must have 1 to %u "
					  "bytes", path, SQFS_SYMLINK_MAX);
	} else if (t == S_IFCHR || t == S_IFBLK) {
		/* The format keeps the kernel's 32-bit encoding: 12-bit major, 20-bit minor. */
		if (major(a->rdev) >= (1u << 12) || minor(a->rdev) >= (1u << 20))
			return berr_usage(err, "squashfs: `%s`: device %u:%u does not fit", path,
					  major(a->rdev), minor(a->rdev));
	} else if (t != S_IFDIR && t != S_IFIFO && t != S_IFSOCK) {
		return berr_usage(err, "squashfs: `%s`: unsupported file type 0%o", path,
				  (unsigned) t);
	}
	return 0;
}

static int usable(struct sqfs_writer *w, const char *what, struct berr **err)
{
	if (w->broken)
		return berr_make(err, 0, "squashfs: %s: the image is unusable after an earlier "
				 "error", what);
	if (w->finished)
		return berr_make(err, 0, "squashfs: %s: the image is already finished", what);
	if (w->file != NULL)
		return berr_make(err, 0, "squashfs: %s: a regular file is still open", what);
	return 0;
}

/* Put a new non-directory inode (or a fresh directory) at `path`, replacing what was there. */
static int entry_place(struct sqfs_writer *w, const char *path, struct sqfs_inode *ino,
		       struct berr **err)
{
	struct sqfs_node *dir, *old;
	const char *last;

	if (strcmp(path, ".") == 0)
		return berr_usage(err, "squashfs: `.`: the root can only be a directory");
	if (parent_dir(w, path, &dir, &last, err) < 0)
		return -1;
	old = child_find(w, dir, last, strlen(last));
	if (old != NULL) {
		subtree_clear(w, old);
		node_unlink(w, old);
	}
	child_add(w, dir, last, strlen(last), ino);
	return 0;
}

int sqfs_writer_add(struct sqfs_writer *w, const char *path, const struct sqfs_attr *a,
		    struct berr **err)
{
	struct sqfs_inode *ino;

	if (usable(w, path != NULL ? path : "(null)", err) < 0 || path_check(path, err) < 0 ||
	    attr_check(path, a, err) < 0)
		return -1;
	if (S_ISDIR(a->mode)) {
		struct sqfs_node *old = path_lookup(w, path, NULL, NULL);

		/* A directory over a directory keeps its children and takes the new attributes. */
		if (old != NULL && node_is_dir(old))
			return attr_apply(w, path, a, old->ino, err);
	} else if (strcmp(path, ".") == 0) {
		return berr_usage(err, "squashfs: `.`: the root can only be a directory");
	}
	ino = inode_new(w, 0);
	if (attr_apply(w, path, a, ino, err) < 0)
		return -1;
	if (S_ISLNK(a->mode)) {
		ino->link.len = (uint32_t) strlen(a->link_target);
		ino->link.target = xstrdup(a->link_target);
	} else if (S_ISCHR(a->mode) || S_ISBLK(a->mode)) {
		unsigned ma = major(a->rdev), mi = minor(a->rdev);

		ino->rdev = (mi & 0xff) | (ma << 8) | ((mi & ~0xffu) << 12);
	}
	return entry_place(w, path, ino, err);
}

int sqfs_writer_add_hardlink(struct sqfs_writer *w, const char *path, const char *target,
			     struct berr **err)
{
	struct sqfs_node *t, *dir, *old;
	struct sqfs_inode *ino;
	const char *last;

	if (usable(w, path != NULL ? path : "(null)", err) < 0 || path_check(path, err) < 0)
		return -1;
	if (path_check(target, err) < 0)
		return berr_wrap(err, "hard link `%s`", path);
	t = path_lookup(w, target, NULL, NULL);
	if (t == NULL)
		return berr_usage(err, "squashfs: hard link `%s`: target `%s` does not exist", path,
				  target);
	if (node_is_dir(t))
		return berr_usage(err, "squashfs: hard link `%s`: target `%s` is a directory",
				  path, target);
	if (strcmp(path, ".") == 0)
		return berr_usage(err, "squashfs: `.`: the root can only be a directory");
	if (parent_dir(w, path, &dir, &last, err) < 0)
		return -1;
	old = child_find(w, dir, last, strlen(last));
	if (old == t)
		return 0; /* a link to itself changes nothing */
	/* The target may sit in the subtree being replaced: keep its inode (inodes live until
	 * the writer is freed), not its node. */
	ino = t->ino;
	if (old != NULL) {
		subtree_clear(w, old);
		node_unlink(w, old);
	}
	child_add(w, dir, last, strlen(last), ino);
	return 0;
}

int sqfs_writer_add_xattr(struct sqfs_writer *w, const char *path, const struct sqfs_xattr *x,
			  struct berr **err)
{
	struct sqfs_node *n;
	struct sqfs_xset *one, *added, *xs;

	if (usable(w, path != NULL ? path : "(null)", err) < 0 || path_check(path, err) < 0 ||
	    sqfs_xset_intern(w, path, x, 1, &one, err) < 0)
		return -1;
	n = path_lookup(w, path, NULL, NULL);
	if (n == NULL) {
		struct sqfs_node *dir;
		const char *last;
		struct sqfs_inode *ino;

		if (parent_dir(w, path, &dir, &last, err) < 0)
			return -1;
		ino = inode_new(w, S_IFDIR | 0755);
		ino->uid = ino->gid = sqfs_id_intern(w, 0);
		n = child_add(w, dir, last, strlen(last), ino);
	}
	if (n->ino->x == NULL)
		n->ino->x = sqfs_arena_zalloc(w, sizeof(*n->ino->x));
	if (sqfs_xset_merge(w, path, n->ino->x->xadded, one, &added, err) < 0 ||
	    sqfs_xset_merge(w, path, n->ino->x->xbase, added, &xs, err) < 0)
		return -1;
	n->ino->x->xadded = added;
	n->ino->x->xattrs = xs;
	return 0;
}

/* ---- regular files ---- */

static int block_add(struct sqfs_writer *w, const uint8_t *data, uint32_t len, struct berr **err)
{
	struct sqfs_inode *f = w->file;
	uint32_t i;
	int r;

	if (f->reg.nblocks == UINT32_MAX)
		return berr_usage(err, "squashfs: file too large");
	if (f->reg.nblocks == f->reg.cap) {
		f->reg.cap = f->reg.cap ? f->reg.cap * 2 : 8;
		f->reg.blocks = xrealloc(f->reg.blocks, f->reg.cap * sizeof(*f->reg.blocks));
	}
	i = f->reg.nblocks++;
	/* An all-zero block is a hole: size 0, nothing stored. */
	if (data != NULL && data[0] == 0 && memcmp(data, data + 1, len - 1) == 0)
		data = NULL;
	if (data == NULL) {
		f->reg.blocks[i] = 0;
		f->reg.sparse += len;
	}
	r = sqfs_dup_block(w, i, data, len, err);
	if (r != 0 || data == NULL)
		return r < 0 ? -1 : 0;
	return sqfs_block_submit(w, data, len, f, i, err);
}

/* Account for the file's bytes up to `to` as a hole. Whole holed blocks cost nothing. */
static int hole_fill(struct sqfs_writer *w, uint64_t to, struct berr **err)
{
	while (w->fpos < to) {
		uint64_t gap = to - w->fpos;

		if (w->cur_len == 0 && gap >= w->block_size) {
			if (block_add(w, NULL, w->block_size, err) < 0)
				return -1;
			w->fpos += w->block_size;
			continue;
		}
		uint32_t n = w->block_size - w->cur_len;

		if (n > gap)
			n = (uint32_t) gap;
		memset(w->cur + w->cur_len, 0, n);
		w->cur_len += n;
		w->fpos += n;
		if (w->cur_len == w->block_size) {
			w->cur_len = 0;
			if (block_add(w, w->cur, w->block_size, err) < 0)
				return -1;
		}
	}
	return 0;
}

int sqfs_file_begin(struct sqfs_writer *w, const char *path, const struct sqfs_attr *a,
		    struct berr **err)
{
	struct sqfs_attr ra;
	struct sqfs_inode *ino;

	if (usable(w, path != NULL ? path : "(null)", err) < 0 || path_check(path, err) < 0)
		return -1;
	if ((a->mode & S_IFMT) != 0 && !S_ISREG(a->mode))
		return berr_usage(err, "squashfs: `%s`: sqfs_file_begin takes regular files only",
				  path);
	ra = *a;
	ra.mode = S_IFREG | (a->mode & 07777);
	ino = inode_new(w, 0);
	if (attr_apply(w, path, &ra, ino, err) < 0)
		return -1;
	ino->reg.frag = SQFS_NONE32;
	if (entry_place(w, path, ino, err) < 0)
		return -1;
	w->file = ino;
	w->fpos = 0;
	w->cur_len = 0;
	w->dup = NULL;
	w->dup_held = 0;
	return 0;
}

int sqfs_file_write(struct sqfs_writer *w, uint64_t offset, const void *buf, size_t len,
		    struct berr **err)
{
	const uint8_t *p = buf;

	if (w->file == NULL)
		return berr_make(err, 0, "squashfs: write without an open file");
	if (w->broken)
		return berr_make(err, 0, "squashfs: the image is unusable after an earlier error");
	if (offset < w->fpos)
		return berr_usage(err, "squashfs: write at offset %llu before the end of the "
				  "previous write (%llu)", (unsigned long long) offset,
				  (unsigned long long) w->fpos);
	if (offset + len < offset)
		return berr_usage(err, "squashfs: write beyond the largest file size");
	if (hole_fill(w, offset, err) < 0)
		return -1;
	while (len > 0) {
		uint32_t n = w->block_size - w->cur_len;

		if (n > len)
			n = (uint32_t) len;
		if (w->cur_len == 0 && n == w->block_size) {
			/* A whole block straight from the caller's buffer. */
			if (block_add(w, p, n, err) < 0)
				return -1;
		} else {
			memcpy(w->cur + w->cur_len, p, n);
			w->cur_len += n;
			if (w->cur_len == w->block_size) {
				w->cur_len = 0;
				if (block_add(w, w->cur, w->block_size, err) < 0)
					return -1;
			}
		}
		p += n;
		len -= n;
		w->fpos += n;
	}
	return 0;
}

/* Send the fragment block being filled to the pipeline. */
int sqfs_frag_flush(struct sqfs_writer *w, struct berr **err)
{
	uint32_t i;

	if (w->frag_fill == 0)
		return 0;
	if (w->nfrags == w->frags_cap) {
		w->frags_cap = w->frags_cap ? w->frags_cap * 2 : 64;
		w->frags = xrealloc(w->frags, w->frags_cap * sizeof(*w->frags));
	}
	i = w->nfrags++;
	w->frags[i].start = 0;
	w->frags[i].size = 0;
	if (sqfs_block_submit(w, w->frag, w->frag_fill, NULL, i, err) < 0)
		return -1;
	w->frags[i].seq_end = w->seq_sub;
	w->frag_fill = 0;
	return 0;
}

int sqfs_file_end(struct sqfs_writer *w, uint64_t file_size, struct berr **err)
{
	struct sqfs_inode *f = w->file;
	uint32_t tail;
	int r;

	if (f == NULL)
		return berr_make(err, 0, "squashfs: end without an open file");
	if (w->broken)
		return berr_make(err, 0, "squashfs: the image is unusable after an earlier error");
	if (file_size < w->fpos)
		return berr_usage(err, "squashfs: file size %llu is below the %llu bytes written",
				  (unsigned long long) file_size, (unsigned long long) w->fpos);
	if (hole_fill(w, file_size, err) < 0)
		return -1;
	f->reg.size = file_size;
	tail = w->cur_len;
	if (tail > 0 && w->no_fragments) {
		if (block_add(w, w->cur, tail, err) < 0)
			return -1;
		tail = 0;
	}
	if (sqfs_dup_file_end(w, err) < 0)
		return -1;
	f->reg.seq_end = w->seq_sub;
	if (tail == 0)
		goto done;
	r = sqfs_dup_tail(w, w->cur, tail, err);
	if (r < 0)
		return -1;
	if (r == 1)
		goto done;
	if (w->frag_fill + tail > w->block_size && sqfs_frag_flush(w, err) < 0)
		return -1;
	memcpy(w->frag + w->frag_fill, w->cur, tail);
	f->reg.frag = w->nfrags;
	f->reg.frag_off = w->frag_fill;
	sqfs_dup_tail_packed(w, w->nfrags, w->frag_fill, tail);
	w->frag_fill += tail;
done:
	w->cur_len = 0;
	w->file = NULL;
	return 0;
}

/* ---- the writer ---- */

int sqfs_writer_new(struct sqfs_writer **wp, int out_fd, const struct sqfs_options *opt,
		    struct berr **err)
{
	struct sqfs_options o = { 0 };
	struct sqfs_writer *w;
	struct sqfs_inode *root;
	long ncpu;
	int flags;

	*wp = NULL;
	if (opt != NULL)
		o = *opt;
	if (o.comp == 0)
		o.comp = SQFS_COMP_GZIP;
	if (o.block_size == 0)
		o.block_size = 128 * 1024;
	if (o.block_size < 4096 || o.block_size > (1u << 20) ||
	    (o.block_size & (o.block_size - 1)) != 0)
		return berr_usage(err, "squashfs: block size %u is not a power of 2 from 4096 to "
				  "1048576", o.block_size);
	if (sqfs_level_check(o.comp, &o.level, err) < 0)
		return -1;
	if (o.threads < 0 || o.threads > 256)
		return berr_usage(err, "squashfs: %d threads: use 0 (one per CPU) to 256",
				  o.threads);
	if (o.threads == 0) {
		ncpu = sysconf(_SC_NPROCESSORS_ONLN);
		o.threads = ncpu < 1 ? 1 : ncpu > 64 ? 64 : (int) ncpu;
	}

	w = xcalloc(1, sizeof(*w));
	w->fd = out_fd;
	w->comp = o.comp;
	w->level = o.level;
	w->block_size = o.block_size;
	while ((1u << w->block_log) < w->block_size)
		w->block_log++;
	w->no_fragments = o.no_fragments;
	w->mkfs_time = o.mkfs_time;
	w->threads = o.threads;
	w->pos = 96; /* the superblock goes first, written at finish */
	sqfs_htab_init(&w->names);
	sqfs_htab_init(&w->ids);
	sqfs_htab_init(&w->xsets);
	w->cur = xmalloc(w->block_size);
	w->frag = xmalloc(w->block_size);
	w->cbuf = xmalloc(SQFS_COMPRESS_BOUND(w->block_size));
	/* Duplicates are confirmed by reading the image back, which needs a readable fd. */
	flags = fcntl(out_fd, F_GETFL);
	if (flags >= 0 && (flags & O_ACCMODE) == O_RDWR) {
		w->dedup = true;
		sqfs_htab_init(&w->heads);
		sqfs_htab_init(&w->tails);
		w->dbuf = xmalloc(w->block_size);
	}

	root = inode_new(w, S_IFDIR | 0755);
	root->uid = root->gid = sqfs_id_intern(w, 0);
	root->links = 1;
	w->root = xcalloc(1, sizeof(*w->root));
	w->root->ino = root;

	if (sqfs_cctx_new(&w->cctx, w->comp, w->level, w->block_size, err) < 0 ||
	    sqfs_pipe_start(w, err) < 0) {
		sqfs_writer_free(w);
		return -1;
	}
	*wp = w;
	return 0;
}

int sqfs_writer_finish(struct sqfs_writer *w, struct berr **err)
{
	if (usable(w, "finish", err) < 0)
		return -1;
	if (sqfs_frag_flush(w, err) < 0 || sqfs_pipe_drain(w, err) < 0)
		goto fail;
	sqfs_pipe_stop(w);
	if (sqfs_write_tables(w, err) < 0)
		goto fail;
	w->finished = true;
	return 0;
fail:
	w->broken = true;
	return -1;
}

uint64_t sqfs_writer_image_size(const struct sqfs_writer *w)
{
	return w->finished ? w->image_size : 0;
}

void sqfs_writer_free(struct sqfs_writer *w)
{
	struct sqfs_inode *ino, *next;

	if (w == NULL)
		return;
	sqfs_pipe_stop(w);
	sqfs_cctx_free(w->cctx);
	sqfs_dup_free(w);
	if (w->root != NULL) {
		subtree_clear(w, w->root);
		free(w->root);
	}
	for (ino = w->inodes; ino != NULL; ino = next) {
		next = ino->all_next;
		if (S_ISREG(ino->mode))
			free(ino->reg.blocks);
		else if (S_ISLNK(ino->mode))
			free(ino->link.target);
	}
	while (w->arena != NULL) {
		struct sqfs_arena *a = w->arena;

		w->arena = a->next;
		free(a);
	}
	for (size_t i = 0; i < w->ids.nb; i++) {
		struct sqfs_hnode *n, *nx;

		for (n = w->ids.b[i]; n != NULL; n = nx) {
			nx = n->next;
			free(n);
		}
	}
	for (size_t i = 0; i < w->xsets.nb; i++) {
		struct sqfs_hnode *n, *nx;

		for (n = w->xsets.b[i]; n != NULL; n = nx) {
			nx = n->next;
			free(n);
		}
	}
	sqfs_htab_free(&w->names);
	sqfs_htab_free(&w->ids);
	sqfs_htab_free(&w->xsets);
	free(w->frags);
	free(w->cur);
	free(w->frag);
	free(w->cbuf);
	free(w);
}
