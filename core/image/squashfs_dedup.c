/* Squashfs writer, duplicate files: a file whose bytes equal an earlier file's is stored once,
 * and so is a fragment tail equal to an earlier one. Candidates are found by hash and always
 * confirmed by comparing bytes with what the image holds, so a collision never merges
 * different files. The index keeps a few words per file, never file data. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "base/util.h"
#include "image/squashfs_int.h"

/* A file with at least one block, by the hash of its first block. */
struct head_key {
	struct sqfs_hnode h;
	struct sqfs_inode *ino; /* not owned */
};

/* A tail packed into a fragment block, by the hash of its bytes and its length. */
struct tail_key {
	struct sqfs_hnode h;
	uint32_t frag, off, len;
};

/* Seeds keep holes, heads and tails apart, whatever the data. */
#define HOLE_HASH 0x6a09e667f3bcc909ull
#define HEAD_SEED 0xbb67ae8584caa73bull

/* ---- hashing ---- */

static inline uint64_t rd64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static inline uint64_t rotl(uint64_t v, int r)
{
	return v << r | v >> (64 - r);
}

/* Four independent multiply-rotate lanes over 32-byte stripes: several bytes per cycle, so
 * hashing every tail and first block costs little next to compression. Not for security:
 * every match is confirmed byte for byte. */
uint64_t sqfs_hash_fast(const void *data, size_t len, uint64_t seed)
{
	const uint64_t k1 = 0x9e3779b97f4a7c15ull, k2 = 0xc2b2ae3d27d4eb4full;
	const uint8_t *p = data, *end = p + len;
	uint64_t a = seed + k1, b = seed ^ k2, c = seed - k1, d = ~seed, h;

	for (; end - p >= 32; p += 32) {
		a = rotl(a + rd64(p) * k2, 31) * k1;
		b = rotl(b + rd64(p + 8) * k2, 31) * k1;
		c = rotl(c + rd64(p + 16) * k2, 31) * k1;
		d = rotl(d + rd64(p + 24) * k2, 31) * k1;
	}
	h = rotl(a, 1) + rotl(b, 7) + rotl(c, 12) + rotl(d, 18) + (uint64_t) len;
	for (; end - p >= 8; p += 8)
		h = rotl(h ^ rotl(rd64(p) * k2, 31) * k1, 27) * k1 + k2;
	for (; p < end; p++)
		h = rotl(h ^ (*p * k1), 11) * k2;
	h ^= h >> 33;
	h *= k2;
	h ^= h >> 29;
	return h;
}

/* ---- reading the image back ---- */

static int pread_all(int fd, void *buf, size_t len, uint64_t off, struct berr **err)
{
	uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = pread(fd, p, len, (off_t) off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return berr_make(err, n < 0 ? errno : EIO,
					 "squashfs: read back the image at offset %llu",
					 (unsigned long long) off);
		p += n;
		len -= (size_t) n;
		off += (uint64_t) n;
	}
	return 0;
}

/* Read the stored block of on-disk size word `size` at `at` into `out` (block_size bytes);
 * returns its uncompressed length, -1 on failure. */
static ssize_t block_read(struct sqfs_writer *w, uint64_t at, uint32_t size, uint8_t *out,
			  struct berr **err)
{
	uint32_t n = size & ~SQFS_BLOCK_RAW;
	size_t len;

	if (n > w->block_size)
		return berr_make(err, EIO, "squashfs: stored block of %u bytes", n);
	if (size & SQFS_BLOCK_RAW)
		return pread_all(w->fd, out, n, at, err) < 0 ? -1 : (ssize_t) n;
	if (w->dctx == NULL && sqfs_dctx_new(&w->dctx, w->comp, err) < 0)
		return -1;
	/* cbuf is free here: the caller's thread compresses into it only inside a submit. */
	if (pread_all(w->fd, w->cbuf, n, at, err) < 0 ||
	    sqfs_decompress(w->dctx, w->cbuf, n, out, w->block_size, &len, err) < 0)
		return -1;
	return (ssize_t) len;
}

/* Uncompressed length of block `i` of `ino`. */
static uint32_t block_len(const struct sqfs_writer *w, const struct sqfs_inode *ino, uint32_t i)
{
	uint64_t left = ino->reg.size - (uint64_t) i * w->block_size;

	return left < w->block_size ? (uint32_t) left : w->block_size;
}

/* Is block `i` of `c` (stored at `at`; block 0 at its start) equal to `data` (NULL: a hole)
 * of `len` bytes? 1 yes, 0 no, -1 on failure. */
static int block_equal(struct sqfs_writer *w, struct sqfs_inode *c, uint32_t i, uint64_t at,
		       const uint8_t *data, uint32_t len, struct berr **err)
{
	uint32_t size;
	ssize_t n;

	if (i >= c->reg.nblocks || block_len(w, c, i) != len)
		return 0;
	if (sqfs_pipe_wait(w, c->reg.seq_end, err) < 0)
		return -1;
	size = c->reg.blocks[i];
	if (size == 0 || data == NULL)
		return size == 0 && data == NULL;
	if (i == 0)
		at = c->reg.start; /* known once the pipeline stored it */
	w->fbuf_frag = 0; /* dbuf serves a block: the fragment block it held goes */
	n = block_read(w, at, size, w->dbuf, err);
	if (n < 0)
		return -1;
	return (uint32_t) n == len && memcmp(w->dbuf, data, len) == 0;
}

/* The held blocks turned out not to be a duplicate after all: store them, from the copy the
 * image already has. They compress to the same bytes they would have given at first. */
static int release_held(struct sqfs_writer *w, struct berr **err)
{
	struct sqfs_inode *c = w->dup, *f = w->file;
	uint64_t at = c->reg.start;

	for (uint32_t k = 0; k < w->dup_held; k++) {
		uint32_t size = c->reg.blocks[k];
		ssize_t n;

		if (size == 0)
			continue; /* a hole, already accounted for */
		w->fbuf_frag = 0;
		n = block_read(w, at, size, w->dbuf, err);
		if (n < 0)
			return -1;
		if ((uint32_t) n != block_len(w, c, k))
			return berr_make(err, EIO, "squashfs: block read back has %zd bytes", n);
		if (sqfs_block_submit(w, w->dbuf, (uint32_t) n, f, k, err) < 0)
			return -1;
		at += size & ~SQFS_BLOCK_RAW;
	}
	w->dup = NULL;
	w->dup_held = 0;
	return 0;
}

/* Do `a` and `b` store the same first `n` blocks? Compression is deterministic, so equal
 * stored bytes mean equal data and the other way round. */
static int runs_equal(struct sqfs_writer *w, struct sqfs_inode *a, struct sqfs_inode *b,
		      uint32_t n, struct berr **err)
{
	uint64_t at_a = a->reg.start, at_b = b->reg.start;

	if (b->reg.nblocks < n ||
	    memcmp(a->reg.blocks, b->reg.blocks, n * sizeof(*a->reg.blocks)) != 0)
		return 0;
	w->fbuf_frag = 0; /* dbuf serves blocks below */
	for (uint32_t k = 0; k < n; k++) {
		uint32_t size = a->reg.blocks[k] & ~SQFS_BLOCK_RAW;

		if (size > w->block_size)
			return berr_make(err, EIO, "squashfs: stored block of %u bytes", size);
		if (pread_all(w->fd, w->cbuf, size, at_a, err) < 0 ||
		    pread_all(w->fd, w->dbuf, size, at_b, err) < 0)
			return -1;
		if (memcmp(w->cbuf, w->dbuf, size) != 0)
			return 0;
		at_a += size;
		at_b += size;
	}
	return 1;
}

/* The candidate differs at block `index`: another file with the same first block may hold
 * the same first `index` blocks and this one too (files sharing a long header). A few are
 * tried, so that many such files cost little. 1 when one fits (it becomes the candidate). */
static int switch_candidate(struct sqfs_writer *w, uint32_t index, const uint8_t *data,
			    uint32_t len, struct berr **err)
{
	int tries = 8;

	for (struct sqfs_hnode *n = sqfs_htab_first(&w->heads, w->head_hash);
	     n != NULL && tries > 0; n = n->next) {
		struct sqfs_inode *c = ((struct head_key *) n)->ino;
		uint64_t at;
		int r;

		if (n->hash != w->head_hash || c == w->dup || c->reg.nblocks <= index)
			continue;
		tries--;
		r = runs_equal(w, w->dup, c, index, err);
		if (r <= 0) {
			if (r < 0)
				return -1;
			continue;
		}
		at = c->reg.start;
		for (uint32_t k = 0; k < index; k++)
			at += c->reg.blocks[k] & ~SQFS_BLOCK_RAW;
		r = block_equal(w, c, index, at, data, len, err);
		if (r < 0)
			return -1;
		if (r == 1) {
			w->dup = c;
			w->dup_at = at;
			return 1;
		}
	}
	return 0;
}

int sqfs_dup_block(struct sqfs_writer *w, uint32_t index, const uint8_t *data, uint32_t len,
		   struct berr **err)
{
	int r;

	if (!w->dedup)
		return 0;
	if (index == 0) {
		uint64_t h = data == NULL ? HOLE_HASH : sqfs_hash_fast(data, len, HEAD_SEED);

		w->head_hash = h;
		w->dup = NULL;
		w->dup_held = 0;
		for (struct sqfs_hnode *n = sqfs_htab_first(&w->heads, h); n != NULL; n = n->next) {
			struct sqfs_inode *c = ((struct head_key *) n)->ino;

			if (n->hash != h)
				continue;
			r = block_equal(w, c, 0, 0, data, len, err);
			if (r < 0)
				return -1;
			if (r == 1) {
				w->dup = c;
				break;
			}
		}
		if (w->dup == NULL)
			return 0;
		w->dup_at = w->dup->reg.start;
	} else {
		if (w->dup == NULL)
			return 0;
		r = block_equal(w, w->dup, index, w->dup_at, data, len, err);
		if (r == 0)
			r = switch_candidate(w, index, data, len, err);
		if (r < 0)
			return -1;
		if (r == 0)
			return release_held(w, err) < 0 ? -1 : 0;
	}
	w->dup_at += w->dup->reg.blocks[index] & ~SQFS_BLOCK_RAW;
	w->dup_held++;
	return 1;
}

/* Is the fragment tail at (frag, off) equal to `tail`? The fragment block being filled is
 * compared in memory; an earlier one is read back (and kept, as the next tail is likely in
 * the same block). */
static int tail_equal(struct sqfs_writer *w, uint32_t frag, uint32_t off, const uint8_t *tail,
		      uint32_t len, struct berr **err)
{
	if (frag == w->nfrags)
		return off + len <= w->frag_fill && memcmp(w->frag + off, tail, len) == 0;
	if (frag > w->nfrags)
		return 0;
	if (w->fbuf_frag != frag + 1) {
		ssize_t n;

		if (sqfs_pipe_wait(w, w->frags[frag].seq_end, err) < 0)
			return -1;
		w->fbuf_frag = 0;
		n = block_read(w, w->frags[frag].start, w->frags[frag].size, w->dbuf, err);
		if (n < 0)
			return -1;
		w->fbuf_frag = frag + 1;
		w->fbuf_len = (uint32_t) n;
	}
	return (uint64_t) off + len <= w->fbuf_len && memcmp(w->dbuf + off, tail, len) == 0;
}

static void head_remember(struct sqfs_writer *w, struct sqfs_inode *f)
{
	struct head_key *k = sqfs_arena_zalloc(w, sizeof(*k));

	k->h.hash = w->head_hash;
	k->ino = f;
	sqfs_htab_insert(&w->heads, &k->h);
}

int sqfs_dup_file_end(struct sqfs_writer *w, struct berr **err)
{
	struct sqfs_inode *f = w->file, *c = w->dup;

	if (!w->dedup)
		return 0;
	if (c != NULL && f->reg.nblocks == w->dup_held) {
		/* Every block is the start of `c`'s run: point there. The tail, if any, is
		 * placed on its own (and found again if it equals `c`'s). Holes were already
		 * counted in f->reg.sparse as the blocks came. */
		f->reg.start = c->reg.start;
		f->reg_started = c->reg_started;
		memcpy(f->reg.blocks, c->reg.blocks, f->reg.nblocks * sizeof(*f->reg.blocks));
		w->dup = NULL;
		w->dup_held = 0;
		return 1;
	}
	if (c != NULL && release_held(w, err) < 0)
		return -1;
	if (f->reg.nblocks > 0)
		head_remember(w, f);
	return 0;
}

int sqfs_dup_tail(struct sqfs_writer *w, const uint8_t *tail, uint32_t len, struct berr **err)
{
	struct sqfs_inode *f = w->file;
	uint64_t h;

	if (!w->dedup)
		return 0;
	h = sqfs_hash_fast(tail, len, len);
	w->tail_hash = h;
	for (struct sqfs_hnode *n = sqfs_htab_first(&w->tails, h); n != NULL; n = n->next) {
		struct tail_key *t = (struct tail_key *) n;
		int r;

		if (n->hash != h || t->len != len)
			continue;
		r = tail_equal(w, t->frag, t->off, tail, len, err);
		if (r < 0)
			return -1;
		if (r == 1) {
			f->reg.frag = t->frag;
			f->reg.frag_off = t->off;
			return 1;
		}
	}
	return 0;
}

void sqfs_dup_tail_packed(struct sqfs_writer *w, uint32_t frag, uint32_t off, uint32_t len)
{
	struct tail_key *k;

	if (!w->dedup)
		return;
	k = sqfs_arena_zalloc(w, sizeof(*k));
	k->h.hash = w->tail_hash;
	k->frag = frag;
	k->off = off;
	k->len = len;
	sqfs_htab_insert(&w->tails, &k->h);
}

void sqfs_dup_free(struct sqfs_writer *w)
{
	/* the keys are the writer's arena's */
	if (w->heads.b != NULL)
		sqfs_htab_free(&w->heads);
	if (w->tails.b != NULL)
		sqfs_htab_free(&w->tails);
	sqfs_dctx_free(w->dctx);
	w->dctx = NULL;
	free(w->dbuf);
	w->dbuf = NULL;
}
