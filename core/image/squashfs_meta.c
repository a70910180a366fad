/* Squashfs writer, metadata side: at finish, number the inodes, write the inode and directory
 * tables (directories sorted by name, with directory indexes), then the fragment, id and xattr
 * tables and the superblock. Table order follows what the kernel checks at mount
 * (fs/squashfs/super.c): inodes < directories < fragments < ids < xattrs, the xattr id index
 * ending the image. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "base/util.h"
#include "image/squashfs_int.h"

/* ---- metadata streams: 8 KiB blocks, each compressed with a 2-byte header ---- */

struct meta {
	struct sqfs_cctx *cctx;     /* not owned */
	uint8_t blk[SQFS_META_SIZE];
	uint8_t tmp[SQFS_COMPRESS_BOUND(SQFS_META_SIZE)];
	uint32_t fill;
	uint64_t upos;              /* uncompressed bytes so far */
	uint8_t *out;               /* the compressed stream */
	size_t len, cap;
	uint64_t *bstart;           /* bstart[k]: offset of block k in `out`, known once k starts */
	size_t nb, bcap;
};

static void meta_init(struct meta *m, struct sqfs_cctx *c)
{
	memset(m, 0, sizeof(*m));
	m->cctx = c;
	m->bcap = 16;
	m->bstart = xcalloc(m->bcap, sizeof(*m->bstart));
	m->nb = 1;
}

static void meta_free(struct meta *m)
{
	free(m->out);
	free(m->bstart);
}

static void out_append(struct meta *m, const void *p, size_t n)
{
	if (m->len + n > m->cap) {
		m->cap = m->cap ? m->cap * 2 : 16384;
		while (m->cap < m->len + n)
			m->cap *= 2;
		m->out = xrealloc(m->out, m->cap);
	}
	memcpy(m->out + m->len, p, n);
	m->len += n;
}

static int meta_flush(struct meta *m, struct berr **err)
{
	uint8_t hdr[2];
	size_t clen = 0;
	int r;

	if (m->fill == 0)
		return 0;
	r = sqfs_compress(m->cctx, m->blk, m->fill, m->tmp, &clen, err);
	if (r < 0)
		return -1;
	if (r == 1) {
		put16(hdr, (uint16_t) clen);
		out_append(m, hdr, 2);
		out_append(m, m->tmp, clen);
	} else {
		put16(hdr, (uint16_t) (m->fill | SQFS_META_RAW));
		out_append(m, hdr, 2);
		out_append(m, m->blk, m->fill);
	}
	m->fill = 0;
	if (m->nb == m->bcap) {
		m->bcap *= 2;
		m->bstart = xrealloc(m->bstart, m->bcap * sizeof(*m->bstart));
	}
	m->bstart[m->nb++] = m->len;
	return 0;
}

static int meta_append(struct meta *m, const void *data, size_t n, struct berr **err)
{
	const uint8_t *p = data;

	while (n > 0) {
		size_t k = SQFS_META_SIZE - m->fill;

		if (k > n)
			k = n;
		memcpy(m->blk + m->fill, p, k);
		m->fill += (uint32_t) k;
		m->upos += k;
		p += k;
		n -= k;
		if (m->fill == SQFS_META_SIZE && meta_flush(m, err) < 0)
			return -1;
	}
	return 0;
}

/* Reference to uncompressed position `upos`: block start << 16 | offset in the block. */
static uint64_t meta_ref(const struct meta *m, uint64_t upos)
{
	return m->bstart[upos / SQFS_META_SIZE] << 16 | (upos % SQFS_META_SIZE);
}

/* Write the stream at w->pos, then (if `index`) the table of its blocks' absolute positions;
 * *start gets where the stream begins, *index_at where the index begins. */
static int meta_emit(struct sqfs_writer *w, struct meta *m, bool index, uint64_t *start,
		     uint64_t *index_at, struct berr **err)
{
	size_t nblocks;

	if (meta_flush(m, err) < 0)
		return -1;
	*start = w->pos;
	if (sqfs_pwrite_all(w->fd, m->out, m->len, w->pos, err) < 0)
		return -1;
	w->pos += m->len;
	if (!index)
		return 0;
	nblocks = (size_t) ((m->upos + SQFS_META_SIZE - 1) / SQFS_META_SIZE);
	*index_at = w->pos;
	for (size_t k = 0; k < nblocks; k++) {
		uint8_t b[8];

		put64(b, *start + m->bstart[k]);
		if (sqfs_pwrite_all(w->fd, b, 8, w->pos, err) < 0)
			return -1;
		w->pos += 8;
	}
	return 0;
}

/* ---- inodes and directories ---- */

struct tables {
	struct sqfs_writer *w;
	struct meta inodes, dirs, ids, xids, xkv;
	uint32_t count;           /* inodes numbered */
	uint32_t *idv;            /* ids in table order */
	uint32_t nids, ids_cap;
	struct sqfs_xset **xsv;   /* xattr sets in id order; not owned */
	uint32_t nxsets, xs_cap;
	uint8_t *buf;             /* scratch for one inode or one directory listing */
	size_t cap;
};

static uint8_t *scratch(struct tables *t, size_t n)
{
	if (n > t->cap) {
		t->cap = n > 2 * t->cap ? n : 2 * t->cap;
		t->buf = xrealloc(t->buf, t->cap);
	}
	return t->buf;
}

static int node_cmp(const struct sqfs_node *x, const struct sqfs_node *y)
{
	size_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
	int r = memcmp(x->name, y->name, n);

	return r != 0 ? r : (int) x->name_len - (int) y->name_len;
}

/* Directories must list their entries sorted by name, byte by byte, for lookups. The list
 * of children is sorted in place, a bottom-up merge sort of the linked list: no array per
 * directory, and names in one directory are unique, so the order is the same as any sort's. */
static void children_sort(struct sqfs_node *dir)
{
	struct sqfs_node *list = dir->children, *p, *q, *e, *tail;
	size_t k = 1;

	if (list == NULL)
		return;
	for (;;) {
		size_t merges = 0;

		p = list;
		list = tail = NULL;
		while (p != NULL) {
			size_t ps = 0, qs = k;

			merges++;
			for (q = p; ps < k && q != NULL; q = q->next)
				ps++;
			while (ps > 0 || (qs > 0 && q != NULL)) {
				if (ps == 0 || (qs > 0 && q != NULL && node_cmp(q, p) < 0)) {
					e = q;
					q = q->next;
					qs--;
				} else {
					e = p;
					p = p->next;
					ps--;
				}
				if (tail != NULL)
					tail->next = e;
				else
					list = e;
				e->prev = tail;
				tail = e;
			}
			p = q;
		}
		tail->next = NULL;
		if (merges <= 1)
			break;
		k *= 2;
	}
	dir->children = list;
}

static int basic_type(uint16_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFDIR: return SQFS_T_DIR;
	case S_IFREG: return SQFS_T_REG;
	case S_IFLNK: return SQFS_T_SYMLINK;
	case S_IFBLK: return SQFS_T_BLKDEV;
	case S_IFCHR: return SQFS_T_CHRDEV;
	case S_IFIFO: return SQFS_T_FIFO;
	default: return SQFS_T_SOCKET;
	}
}

/* Ids and xattr sets get their table index when the first inode using them is written, so
 * the tables hold only what the image uses, in a fixed order. */
static uint16_t id_index(struct tables *t, struct sqfs_id *id)
{
	if (id->index < 0) {
		if (t->nids == t->ids_cap) {
			t->ids_cap = t->ids_cap ? 2 * t->ids_cap : 16;
			t->idv = xrealloc(t->idv, t->ids_cap * sizeof(*t->idv));
		}
		t->idv[t->nids] = id->id;
		id->index = (int32_t) t->nids++;
	}
	return (uint16_t) id->index;
}

static uint32_t xattr_index(struct tables *t, struct sqfs_xset *xs)
{
	if (xs == NULL)
		return SQFS_NONE32;
	if (xs->index < 0) {
		if (t->nxsets == t->xs_cap) {
			t->xs_cap = t->xs_cap ? 2 * t->xs_cap : 16;
			t->xsv = xrealloc(t->xsv, t->xs_cap * sizeof(*t->xsv));
		}
		t->xsv[t->nxsets] = xs;
		xs->index = t->nxsets++;
	}
	return (uint32_t) xs->index;
}

/* The 16 bytes every inode starts with. */
static void put_base(struct tables *t, uint8_t *p, const struct sqfs_inode *ino, int type)
{
	put16(p, (uint16_t) type);
	put16(p + 2, (uint16_t) (ino->mode & 07777)); /* the type is in the inode type */
	put16(p + 4, id_index(t, ino->uid));
	put16(p + 6, id_index(t, ino->gid));
	put32(p + 8, ino->mtime);
	put32(p + 12, ino->number);
}

static int inode_emit(struct tables *t, struct sqfs_inode *ino, const uint8_t *p, size_t n,
		      struct berr **err)
{
	ino->ref = meta_ref(&t->inodes, t->inodes.upos);
	ino->written = true;
	return meta_append(&t->inodes, p, n, err);
}

static int inode_write(struct tables *t, struct sqfs_inode *ino, struct berr **err)
{
	int type = basic_type(ino->mode);
	uint32_t xattr = xattr_index(t, sqfs_inode_xattrs(ino));
	bool ext = xattr != SQFS_NONE32;
	uint8_t *p;
	size_t n;

	if (type == SQFS_T_REG) {
		uint64_t start = ino->reg_started ? ino->reg.start : 0;
		size_t nb = ino->reg.nblocks;

		ext = ext || ino->links > 1 || ino->reg.sparse > 0 || ino->reg.size > UINT32_MAX ||
		      start > UINT32_MAX;
		p = scratch(t, 56 + 4 * nb);
		put_base(t, p, ino, ext ? type + SQFS_T_EXT : type);
		if (ext) {
			put64(p + 16, start);
			put64(p + 24, ino->reg.size);
			put64(p + 32, ino->reg.sparse);
			put32(p + 40, ino->links);
			put32(p + 44, ino->reg.frag);
			put32(p + 48, ino->reg.frag == SQFS_NONE32 ? 0 : ino->reg.frag_off);
			put32(p + 52, xattr);
			n = 56;
		} else {
			put32(p + 16, (uint32_t) start);
			put32(p + 20, ino->reg.frag);
			put32(p + 24, ino->reg.frag == SQFS_NONE32 ? 0 : ino->reg.frag_off);
			put32(p + 28, (uint32_t) ino->reg.size);
			n = 32;
		}
		for (size_t i = 0; i < nb; i++, n += 4)
			put32(p + n, ino->reg.blocks[i]);
		return inode_emit(t, ino, p, n, err);
	}
	p = scratch(t, 32 + ino->link.len);
	put_base(t, p, ino, ext ? type + SQFS_T_EXT : type);
	put32(p + 16, ino->links);
	n = 20;
	if (type == SQFS_T_SYMLINK) {
		put32(p + 20, ino->link.len);
		memcpy(p + 24, ino->link.target, ino->link.len);
		n = 24 + ino->link.len;
	} else if (type == SQFS_T_BLKDEV || type == SQFS_T_CHRDEV) {
		put32(p + 20, ino->rdev);
		n = 24;
	}
	if (ext) {
		put32(p + n, xattr);
		n += 4;
	}
	return inode_emit(t, ino, p, n, err);
}

struct dir_index {
	uint32_t offset;    /* of a directory header, from the start of the listing */
	uint64_t ublock;    /* uncompressed block of the directory table holding the header */
	const struct sqfs_node *first; /* its first entry */
};

/* Write `dir`'s listing to the directory table, then its inode. Entries are grouped under
 * headers (up to 256 entries sharing one inode table block and inode numbers within a signed
 * 16-bit delta); every metadata block's worth of listing also starts a header, and those
 * headers make the directory index that lets the kernel skip ahead in large directories. */
static int dir_write(struct tables *t, struct sqfs_node *dir, uint32_t parent_number,
		     struct berr **err)
{
	struct sqfs_inode *ino = dir->ino;
	uint64_t u0 = t->dirs.upos;
	size_t len = 0, hdr = 0, nidx = 0, idx_cap = 0;
	_cleanup_free_ struct dir_index *idx = NULL;
	uint32_t count = 0, hdr_num = 0, nsub = 0, xattr;
	uint64_t hdr_iblk = 0, dstart;
	size_t idx_base = 0; /* listing offset of the last indexed header (or the start) */
	uint8_t *p;
	size_t n;

	for (const struct sqfs_node *c = dir->children; c != NULL; c = c->next) {
		uint64_t iblk = c->ino->ref >> 16;
		int64_t delta = (int64_t) c->ino->number - (int64_t) hdr_num;
		/* Would this entry, under a new header, end more than a metadata block past the
		 * last index point? Then it starts a header of its own, and an index entry. */
		bool far = len + 12 + 8 + c->name_len - idx_base > SQFS_META_SIZE;

		if (iblk > UINT32_MAX)
			return berr_make(err, EFBIG, "squashfs: inode table over 4 GiB");
		if (count == 0 || count == SQFS_DIR_COUNT || iblk != hdr_iblk ||
		    delta < -32768 || delta > 32767 || far) {
			if (count > 0)
				put32(t->buf + hdr, count - 1);
			hdr = len;
			p = scratch(t, len + 12);
			put32(p + len + 4, (uint32_t) iblk);
			put32(p + len + 8, c->ino->number);
			len += 12;
			count = 0;
			hdr_iblk = iblk;
			hdr_num = c->ino->number;
			delta = 0;
			if (far) {
				if (nidx == idx_cap) {
					idx_cap = idx_cap ? 2 * idx_cap : 8;
					idx = xrealloc(idx, idx_cap * sizeof(*idx));
				}
				idx[nidx++] = (struct dir_index){ (uint32_t) hdr,
								  (u0 + hdr) / SQFS_META_SIZE, c };
				idx_base = hdr;
			}
		}
		p = scratch(t, len + 8 + c->name_len);
		put16(p + len, (uint16_t) (c->ino->ref & 0xffff));
		put16(p + len + 2, (uint16_t) (int16_t) delta);
		put16(p + len + 4, (uint16_t) basic_type(c->ino->mode));
		put16(p + len + 6, (uint16_t) (c->name_len - 1));
		memcpy(p + len + 8, c->name, c->name_len);
		len += 8 + c->name_len;
		count++;
		if (S_ISDIR(c->ino->mode))
			nsub++;
	}
	if (count > 0)
		put32(t->buf + hdr, count - 1);
	if (len + 3 > UINT32_MAX || nidx > UINT16_MAX)
		return berr_make(err, EFBIG, "squashfs: directory listing too large");
	if (meta_append(&t->dirs, t->buf, len, err) < 0)
		return -1;

	dstart = meta_ref(&t->dirs, u0);
	if ((dstart >> 16) > UINT32_MAX)
		return berr_make(err, EFBIG, "squashfs: directory table over 4 GiB");
	xattr = xattr_index(t, sqfs_inode_xattrs(ino));
	/* More entries than one header holds get the extended inode even without an index, as
	 * other writers do, so comparisons of images by inode type line up. */
	if (xattr == SQFS_NONE32 && nidx == 0 && dir->nchildren <= SQFS_DIR_COUNT &&
	    len + 3 <= UINT16_MAX) {
		p = scratch(t, 32);
		put_base(t, p, ino, SQFS_T_DIR);
		put32(p + 16, (uint32_t) (dstart >> 16));
		put32(p + 20, 2 + nsub);
		put16(p + 24, (uint16_t) (len + 3));
		put16(p + 26, (uint16_t) (dstart & 0xffff));
		put32(p + 28, parent_number);
		return inode_emit(t, ino, p, 32, err);
	}
	n = 40;
	for (size_t i = 0; i < nidx; i++)
		n += 12 + idx[i].first->name_len;
	p = scratch(t, n);
	put_base(t, p, ino, SQFS_T_DIR + SQFS_T_EXT);
	put32(p + 16, 2 + nsub);
	put32(p + 20, (uint32_t) (len + 3));
	put32(p + 24, (uint32_t) (dstart >> 16));
	put32(p + 28, parent_number);
	put16(p + 32, (uint16_t) nidx);
	put16(p + 34, (uint16_t) (dstart & 0xffff));
	put32(p + 36, xattr);
	n = 40;
	for (size_t i = 0; i < nidx; i++) {
		const struct sqfs_node *c = idx[i].first;

		put32(p + n, idx[i].offset);
		put32(p + n + 4, (uint32_t) t->dirs.bstart[idx[i].ublock]);
		put32(p + n + 8, (uint32_t) (c->name_len - 1));
		memcpy(p + n + 12, c->name, c->name_len);
		n += 12 + c->name_len;
	}
	return inode_emit(t, ino, p, n, err);
}

/* Depth-first, children in name order, each directory after its contents: pass 0 numbers the
 * inodes in that order, pass 1 writes them in the same order (so a directory's listing can
 * point at inodes already placed). Iterative: the depth comes from outside input. */
static int tree_walk(struct tables *t, int pass, struct berr **err)
{
	struct sqfs_writer *w = t->w;
	_cleanup_free_ struct sqfs_node **stack = NULL;
	_cleanup_free_ struct sqfs_node **cur = NULL; /* each level's next child to visit */
	size_t sp = 0, cap = 64;

	stack = xcalloc(cap, sizeof(*stack));
	cur = xcalloc(cap, sizeof(*cur));
	if (pass == 0)
		children_sort(w->root);
	stack[sp] = w->root;
	cur[sp++] = w->root->children;
	while (sp > 0) {
		struct sqfs_node *dir = stack[sp - 1];

		if (cur[sp - 1] != NULL) {
			struct sqfs_node *c = cur[sp - 1];

			cur[sp - 1] = c->next;
			if (S_ISDIR(c->ino->mode)) {
				if (pass == 0)
					children_sort(c);
				if (sp == cap) {
					cap *= 2;
					stack = xrealloc(stack, cap * sizeof(*stack));
					cur = xrealloc(cur, cap * sizeof(*cur));
				}
				stack[sp] = c;
				cur[sp++] = c->children;
			} else if (pass == 0 && c->ino->number == 0) {
				c->ino->number = ++t->count;
			} else if (pass == 1 && !c->ino->written) {
				if (inode_write(t, c->ino, err) < 0)
					return -1;
			}
			continue;
		}
		sp--;
		if (pass == 0) {
			dir->ino->number = ++t->count;
		} else {
			uint32_t parent = dir->parent ? dir->parent->ino->number : t->count + 1;

			if (dir_write(t, dir, parent, err) < 0)
				return -1;
		}
	}
	return 0;
}

/* ---- the image ---- */

static int superblock_write(struct sqfs_writer *w, struct tables *t, const uint64_t *at,
			    struct berr **err)
{
	uint8_t sb[96];
	uint16_t flags = 0;

	flags |= w->no_fragments ? SQFS_FLAG_NO_FRAGMENTS : SQFS_FLAG_ALWAYS_FRAGMENTS;
	if (t->nxsets == 0)
		flags |= SQFS_FLAG_NO_XATTRS;
	put32(sb, SQFS_MAGIC);
	put32(sb + 4, t->count);
	put32(sb + 8, w->mkfs_time);
	put32(sb + 12, w->block_size);
	put32(sb + 16, w->nfrags);
	put16(sb + 20, (uint16_t) w->comp);
	put16(sb + 22, (uint16_t) w->block_log);
	put16(sb + 24, flags);
	put16(sb + 26, (uint16_t) t->nids);
	put16(sb + 28, 4);
	put16(sb + 30, 0);
	put64(sb + 32, w->root->ino->ref);
	put64(sb + 40, at[0]); /* bytes used */
	put64(sb + 48, at[1]); /* id table */
	put64(sb + 56, at[2]); /* xattr id table */
	put64(sb + 64, at[3]); /* inode table */
	put64(sb + 72, at[4]); /* directory table */
	put64(sb + 80, at[5]); /* fragment table */
	put64(sb + 88, SQFS_NONE64); /* no export table */
	return sqfs_pwrite_all(w->fd, sb, sizeof(sb), 0, err);
}

static int pad_to_4k(struct sqfs_writer *w, struct berr **err)
{
	static const uint8_t zero[4096];
	uint64_t end = (w->pos + 4095) & ~(uint64_t) 4095;
	struct stat st;

	if (end > w->pos && sqfs_pwrite_all(w->fd, zero, end - w->pos, w->pos, err) < 0)
		return -1;
	/* Rewriting an older, longer file must not leave its tail behind. */
	if (fstat(w->fd, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t) st.st_size > end &&
	    ftruncate(w->fd, (off_t) end) < 0)
		return berr_make(err, errno, "squashfs: truncate image");
	w->image_size = end;
	return 0;
}

/* The xattr table: every set's key/value pairs, then one 16-byte id entry per set (where its
 * pairs start, how many, how many bytes), then a header and the index of the id blocks. */
static int xattrs_write(struct sqfs_writer *w, struct tables *t, uint64_t *table,
			struct berr **err)
{
	_cleanup_free_ uint64_t *upos = xcalloc(t->nxsets, sizeof(*upos));
	uint64_t kv, ids, idx;
	uint8_t b[16];

	for (uint32_t i = 0; i < t->nxsets; i++) {
		upos[i] = t->xkv.upos;
		if (meta_append(&t->xkv, t->xsv[i]->data, t->xsv[i]->len, err) < 0)
			return -1;
	}
	if (meta_flush(&t->xkv, err) < 0)
		return -1;
	for (uint32_t i = 0; i < t->nxsets; i++) {
		put64(b, meta_ref(&t->xkv, upos[i]));
		put32(b + 8, t->xsv[i]->count);
		put32(b + 12, t->xsv[i]->len);
		if (meta_append(&t->xids, b, 16, err) < 0)
			return -1;
	}
	if (meta_emit(w, &t->xkv, false, &kv, &idx, err) < 0 ||
	    meta_emit(w, &t->xids, false, &ids, &idx, err) < 0)
		return -1;
	*table = w->pos;
	put64(b, kv);
	put32(b + 8, t->nxsets);
	put32(b + 12, 0);
	if (sqfs_pwrite_all(w->fd, b, 16, w->pos, err) < 0)
		return -1;
	w->pos += 16;
	for (size_t k = 0; k < (t->xids.upos + SQFS_META_SIZE - 1) / SQFS_META_SIZE; k++) {
		put64(b, ids + t->xids.bstart[k]);
		if (sqfs_pwrite_all(w->fd, b, 8, w->pos, err) < 0)
			return -1;
		w->pos += 8;
	}
	return 0;
}

static int tables_write(struct sqfs_writer *w, struct tables *t, struct berr **err)
{
	uint64_t at[6], start, idx;
	struct meta frags;
	int r;

	/* at[]: bytes used, id table, xattr id table, inode table, directory table, fragments */
	if (tree_walk(t, 0, err) < 0 || tree_walk(t, 1, err) < 0)
		return -1;
	if (t->nids > UINT16_MAX)
		return berr_usage(err, "squashfs: %u distinct uids and gids, at most %u", t->nids,
				  UINT16_MAX);
	if (meta_emit(w, &t->inodes, false, &at[3], &idx, err) < 0 ||
	    meta_emit(w, &t->dirs, false, &at[4], &idx, err) < 0)
		return -1;

	meta_init(&frags, w->cctx);
	r = 0;
	for (uint32_t i = 0; i < w->nfrags && r == 0; i++) {
		uint8_t b[16];

		put64(b, w->frags[i].start);
		put32(b + 8, w->frags[i].size);
		put32(b + 12, 0);
		r = meta_append(&frags, b, 16, err);
	}
	if (r == 0)
		r = meta_emit(w, &frags, true, &start, &at[5], err);
	meta_free(&frags);
	if (r < 0)
		return -1;
	for (uint32_t i = 0; i < t->nids; i++) {
		uint8_t b[4];

		put32(b, t->idv[i]);
		if (meta_append(&t->ids, b, 4, err) < 0)
			return -1;
	}
	if (meta_emit(w, &t->ids, true, &start, &at[1], err) < 0)
		return -1;
	at[2] = SQFS_NONE64;
	if (t->nxsets > 0 && xattrs_write(w, t, &at[2], err) < 0)
		return -1;
	at[0] = w->pos;
	if (superblock_write(w, t, at, err) < 0)
		return -1;
	return pad_to_4k(w, err);
}

int sqfs_write_tables(struct sqfs_writer *w, struct berr **err)
{
	struct tables t = { .w = w };
	int r;

	meta_init(&t.inodes, w->cctx);
	meta_init(&t.dirs, w->cctx);
	meta_init(&t.ids, w->cctx);
	meta_init(&t.xids, w->cctx);
	meta_init(&t.xkv, w->cctx);
	r = tables_write(w, &t, err);
	meta_free(&t.inodes);
	meta_free(&t.dirs);
	meta_free(&t.ids);
	meta_free(&t.xids);
	meta_free(&t.xkv);
	free(t.buf);
	free(t.idv);
	free(t.xsv);
	return r;
}
