/* Squashfs writer, data side: the gzip, zstd and xz compressors and the pipeline that compresses
 * data and fragment blocks on worker threads and writes them in submission order, so the image
 * is the same bytes whatever the number of threads. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "config.h"
#if ENABLE_SQUASHFS_LIBDEFLATE
#include <libdeflate.h>
#endif
#if ENABLE_SQUASHFS_ZSTD
#include <zstd.h>
#endif
#if ENABLE_SQUASHFS_XZ
#include <lzma.h>
#endif

#include "base/err.h"
#include "base/util.h"
#include "image/squashfs_int.h"

/* ---- compressors ---- */

#define SQFS_PROBE_LEVEL 5 /* zstd level that tries already-compressed data first, */
#define SQFS_PROBE_FROM 13 /* for the optimal-parsing levels (13 and up) */
#define SQFS_REPEAT_BITS 13 /* gzip's probe for repeats: 8192 positions, 32 KiB */
#define SQFS_REPEAT_TAB (1u << SQFS_REPEAT_BITS)

struct sqfs_cctx {
	enum sqfs_comp comp;
	int level;
	z_stream z;
	bool z_ready;
#if ENABLE_SQUASHFS_LIBDEFLATE
	struct libdeflate_compressor *deflate; /* gzip, in place of z */
#endif
	uint32_t *tab; /* gzip and xz: SQFS_REPEAT_TAB remembered positions, for the probe */
#if ENABLE_SQUASHFS_ZSTD
	ZSTD_CCtx *zstd;
#endif
#if ENABLE_SQUASHFS_XZ
	lzma_options_lzma xz;
	lzma_filter xz_filters[2];
#endif
};

/* The compressors, their levels as their own tools number them, and their defaults. */
static const struct {
	enum sqfs_comp comp;
	const char *name, *kconfig;
	bool built;
	int min, max, dflt;
} comps[] = {
	{ SQFS_COMP_GZIP, "gzip", NULL, true, 1, 9, 9 },
	{ SQFS_COMP_ZSTD, "zstd", "CONFIG_SQUASHFS_ZSTD", ENABLE_SQUASHFS_ZSTD, 1, 22, 6 },
	/* xz's own default preset; past 6 the presets differ only in a dictionary larger than
	 * one block, so 7 to 9 write what 6 does. */
	{ SQFS_COMP_XZ, "xz", "CONFIG_SQUASHFS_XZ", ENABLE_SQUASHFS_XZ, 0, 9, 6 },
};

static int comp_index(enum sqfs_comp comp)
{
	for (size_t i = 0; i < ARRAY_SIZE(comps); i++)
		if (comps[i].comp == comp)
			return (int) i;
	return -1;
}

enum sqfs_comp sqfs_comp_named(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(comps); i++)
		if (strcmp(comps[i].name, name) == 0)
			return comps[i].comp;
	return 0;
}

const char *sqfs_comp_levels(enum sqfs_comp comp, int *min, int *max)
{
	int i = comp_index(comp);

	if (i < 0 || !comps[i].built)
		return NULL;
	*min = comps[i].min;
	*max = comps[i].max;
	return comps[i].name;
}

int sqfs_level_given(enum sqfs_comp comp, int n)
{
	int i = comp_index(comp);

	return n == 0 && i >= 0 && comps[i].min == 0 ? SQFS_LEVEL_XZ_0 : n;
}

int sqfs_level_check(enum sqfs_comp comp, int *level, struct berr **err)
{
	int i = comp_index(comp);

	if (i < 0)
		return berr_usage(err, "squashfs: compressor %d is not supported: use gzip, zstd "
				  "or xz", (int) comp);
	if (!comps[i].built)
		return berr_usage(err, "squashfs: %s support is not built in (%s): use gzip",
				  comps[i].name, comps[i].kconfig);
	if (*level == 0)
		*level = comps[i].dflt;
	else if (*level == SQFS_LEVEL_XZ_0 && comps[i].min == 0)
		*level = 0;
	if (*level < comps[i].min || *level > comps[i].max)
		return berr_usage(err, "squashfs: compression level %d out of range %d..%d", *level,
				  comps[i].min, comps[i].max);
	return 0;
}

int sqfs_cctx_new(struct sqfs_cctx **c, enum sqfs_comp comp, int level, uint32_t block_size,
		  struct berr **err)
{
	struct sqfs_cctx *n = xcalloc(1, sizeof(*n));

	n->comp = comp;
	n->level = level;
	if (comp == SQFS_COMP_GZIP) {
		/* zlib framing with a 32 KiB window (windowBits 15): what the kernel inflates, and
		 * all that libdeflate writes. At the same level it takes about a third of zlib's
		 * time, for blocks about 1% smaller. */
#if ENABLE_SQUASHFS_LIBDEFLATE
		n->deflate = libdeflate_alloc_compressor(level);
		if (n->deflate == NULL) {
#else
		if (deflateInit2(&n->z, level, Z_DEFLATED, 15, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
#endif
			free(n);
			return berr_make(err, ENOMEM, "squashfs: gzip compressor init");
		}
		n->z_ready = !ENABLE_SQUASHFS_LIBDEFLATE;
		n->tab = xmalloc(SQFS_REPEAT_TAB * sizeof(*n->tab));
	}
#if ENABLE_SQUASHFS_ZSTD
	if (comp == SQFS_COMP_ZSTD) {
		n->zstd = ZSTD_createCCtx();
		if (n->zstd == NULL) {
			free(n);
			return berr_make(err, ENOMEM, "squashfs: zstd compressor init");
		}
	}
#endif
#if ENABLE_SQUASHFS_XZ
	if (comp == SQFS_COMP_XZ) {
		if (lzma_lzma_preset(&n->xz, (uint32_t) level)) {
			free(n);
			return berr_make(err, EINVAL, "squashfs: xz has no preset %d", level);
		}
		/* The kernel sizes its dictionary from the superblock alone when no compressor
		 * options are stored: the block size, at least a metadata block (8 KiB). Each
		 * block is a stream of its own, so a larger dictionary would gain nothing. */
		n->xz.dict_size = block_size > SQFS_META_SIZE ? block_size : SQFS_META_SIZE;
		n->xz_filters[0] = (lzma_filter){ .id = LZMA_FILTER_LZMA2, .options = &n->xz };
		n->xz_filters[1] = (lzma_filter){ .id = LZMA_VLI_UNKNOWN };
		n->tab = xmalloc(SQFS_REPEAT_TAB * sizeof(*n->tab));
	}
#endif
	*c = n;
	return 0;
}

void sqfs_cctx_free(struct sqfs_cctx *c)
{
	if (c == NULL)
		return;
	if (c->z_ready)
		deflateEnd(&c->z);
#if ENABLE_SQUASHFS_LIBDEFLATE
	libdeflate_free_compressor(c->deflate);
#endif
	free(c->tab);
#if ENABLE_SQUASHFS_ZSTD
	ZSTD_freeCCtx(c->zstd);
#endif
	free(c);
}

/* Already-compressed data (gzip'd docs, images, archives) has byte values spread almost evenly;
 * text and code are far from it. With counts c[i] over n bytes, sum c[i]^2 * 256 / n - n is
 * the chi-square distance from an even spread: about 0.004 n for gzip output, above 5 n for
 * text and machine code. Blocks under 4 KiB get n, too short to judge. */
static uint64_t byte_spread(const uint8_t *p, size_t len)
{
	uint32_t h[4][256] = { { 0 } };
	uint64_t sq = 0;
	size_t i = 0;

	if (len < 4096)
		return len;
	for (; i + 4 <= len; i += 4) {
		h[0][p[i]]++;
		h[1][p[i + 1]]++;
		h[2][p[i + 2]]++;
		h[3][p[i + 3]]++;
	}
	for (; i < len; i++)
		h[0][p[i]]++;
	for (i = 0; i < 256; i++) {
		uint64_t c = (uint64_t) h[0][i] + h[1][i] + h[2][i] + h[3][i];

		sq += c * c;
	}
	return sq * 256 / len - len;
}

/* One compression into `out` with the context's compressor (zstd at `level`, gzip and xz at
 * their set level); *out_len gets the length. */
static int compress_at(struct sqfs_cctx *c, int level, const void *in, size_t len, void *out,
		       size_t cap, size_t *out_len, struct berr **err)
{
	if (c->comp == SQFS_COMP_GZIP) {
#if ENABLE_SQUASHFS_LIBDEFLATE
		/* 0: the output would not fit in `cap`, which holds the worst case. */
		*out_len = libdeflate_zlib_compress(c->deflate, in, len, out, cap);
		if (*out_len == 0)
			return berr_make(err, 0, "squashfs: gzip compression of %zu bytes did not fit "
					 "in %zu", len, cap);
		return 0;
#else
		int r;

		if (deflateReset(&c->z) != Z_OK)
			return berr_make(err, 0, "squashfs: gzip reset failed");
		c->z.next_in = (Bytef *) in;
		c->z.avail_in = (uInt) len;
		c->z.next_out = out;
		c->z.avail_out = (uInt) cap;
		r = deflate(&c->z, Z_FINISH);
		if (r != Z_STREAM_END)
			return berr_make(err, 0, "squashfs: gzip compression failed (%d)", r);
		*out_len = cap - c->z.avail_out;
		return 0;
#endif
	}
#if ENABLE_SQUASHFS_ZSTD
	if (c->comp == SQFS_COMP_ZSTD) {
		size_t r = ZSTD_compressCCtx(c->zstd, out, cap, in, len, level);

		if (ZSTD_isError(r))
			return berr_make(err, 0, "squashfs: zstd compression failed: %s",
					 ZSTD_getErrorName(r));
		*out_len = r;
		return 0;
	}
#endif
#if ENABLE_SQUASHFS_XZ
	if (c->comp == SQFS_COMP_XZ) {
		/* A whole .xz stream per block, with a CRC32 check: of the check types, CRC32 and
		 * none are the ones every kernel's xz decoder supports. */
		size_t pos = 0;
		lzma_ret r = lzma_stream_buffer_encode(c->xz_filters, LZMA_CHECK_CRC32, NULL, in,
						       len, out, &pos, cap);

		if (r != LZMA_OK)
			return berr_make(err, r == LZMA_MEM_ERROR ? ENOMEM : 0,
					 "squashfs: xz compression failed (%d)", (int) r);
		*out_len = pos;
		return 0;
	}
#endif
	return berr_make(err, 0, "squashfs: no compressor %d", (int) c->comp);
}

/* Bytes in `p` that repeat 8 or more bytes seen up to 32 KiB before (deflate's window),
 * counted up to `enough`. Every fourth position is remembered in `tab`, so a repeat is found
 * within a few bytes of its start; a hit skips the 8 bytes it covers. */
static size_t repeated_bytes(uint32_t *tab, const uint8_t *p, size_t len, size_t enough)
{
	size_t found = 0;

	memset(tab, 0, SQFS_REPEAT_TAB * sizeof(*tab));
	for (size_t i = 0; i + 8 <= len && found < enough;) {
		uint64_t v, u;
		uint32_t h, j;

		memcpy(&v, p + i, 8);
		h = (uint32_t) ((v * 0x9e3779b97f4a7c15ull) >> (64 - SQFS_REPEAT_BITS));
		j = tab[h]; /* position + 1, 0 for none */
		if (j != 0 && i - (j - 1) <= 32768 && (memcpy(&u, p + j - 1, 8), u == v)) {
			found += 8;
			i += 8;
			continue;
		}
		if ((i & 3) == 0)
			tab[h] = (uint32_t) i + 1;
		i++;
	}
	return found;
}

int sqfs_compress(struct sqfs_cctx *c, const void *in, size_t len, void *out, size_t *out_len,
		  struct berr **err)
{
	/* `out` has room for the worst case, so running out of space is a real error; output
	 * that does not shrink is not kept. */
	size_t cap = SQFS_COMPRESS_BOUND(len);

	if (len == 0)
		return 0;
	/* Data that is compressed already: zstd's optimal-parsing levels search it in vain, at ten
	 * times the time of level 5 (greedy). When level 5 saves under 1%, its output is kept:
	 * over the gzip'd files of a Debian /usr/share/doc (55 MB) that is 800 bytes more than
	 * level 15 gives. Below level 13 the trial costs what it saves (level 6: 4% more CPU over
	 * a 474 MiB tar of /usr; 9 and 11: no difference). deflate costs as much on such data at
	 * any level (it codes every byte as a literal), so gzip stores the block raw when its
	 * bytes are spread more evenly still (Huffman codes could save under 0.2%) and under 1%
	 * of it repeats within deflate's window: over the same files deflate would have saved
	 * under 0.1% of those blocks.
	 * xz pays its range coder for every literal, even at preset 0, and takes the same test:
	 * over 87 MB of gzip'd, xz'd and PNG files it converts 3.3 times faster for 0.17% more
	 * image. */
	if ((c->comp == SQFS_COMP_GZIP || c->comp == SQFS_COMP_XZ) &&
	    byte_spread(in, len) < len / 50 && repeated_bytes(c->tab, in, len, len / 100) < len / 100)
		return 0;
	if (c->comp == SQFS_COMP_ZSTD && c->level >= SQFS_PROBE_FROM &&
	    byte_spread(in, len) < len / 10) {
		if (compress_at(c, SQFS_PROBE_LEVEL, in, len, out, cap, out_len, err) < 0)
			return -1;
		if (*out_len >= len - len / 100)
			return *out_len < len ? 1 : 0;
	}
	if (compress_at(c, c->level, in, len, out, cap, out_len, err) < 0)
		return -1;
	return *out_len < len ? 1 : 0;
}

/* ---- decompressors: reading earlier blocks back, to compare duplicate candidates ---- */

struct sqfs_dctx {
	enum sqfs_comp comp;
	z_stream z;
	bool z_ready;
#if ENABLE_SQUASHFS_ZSTD
	ZSTD_DCtx *zstd;
#endif
};

/* Decoder memory: a 1 MiB block's dictionary and the decoder's state fit well within it. */
#define SQFS_XZ_MEMLIMIT (16u << 20)

int sqfs_dctx_new(struct sqfs_dctx **d, enum sqfs_comp comp, struct berr **err)
{
	struct sqfs_dctx *n = xcalloc(1, sizeof(*n));

	n->comp = comp;
	if (comp == SQFS_COMP_GZIP) {
		if (inflateInit2(&n->z, 15) != Z_OK) {
			free(n);
			return berr_make(err, ENOMEM, "squashfs: gzip decompressor init");
		}
		n->z_ready = true;
	}
#if ENABLE_SQUASHFS_ZSTD
	if (comp == SQFS_COMP_ZSTD) {
		n->zstd = ZSTD_createDCtx();
		if (n->zstd == NULL) {
			free(n);
			return berr_make(err, ENOMEM, "squashfs: zstd decompressor init");
		}
	}
#endif
	*d = n;
	return 0;
}

void sqfs_dctx_free(struct sqfs_dctx *d)
{
	if (d == NULL)
		return;
	if (d->z_ready)
		inflateEnd(&d->z);
#if ENABLE_SQUASHFS_ZSTD
	ZSTD_freeDCtx(d->zstd);
#endif
	free(d);
}

int sqfs_decompress(struct sqfs_dctx *d, const void *in, size_t len, void *out, size_t cap,
		    size_t *out_len, struct berr **err)
{
	if (d->comp == SQFS_COMP_GZIP) {
		int r;

		if (inflateReset(&d->z) != Z_OK)
			return berr_make(err, 0, "squashfs: gzip reset failed");
		d->z.next_in = (Bytef *) in;
		d->z.avail_in = (uInt) len;
		d->z.next_out = out;
		d->z.avail_out = (uInt) cap;
		r = inflate(&d->z, Z_FINISH);
		if (r != Z_STREAM_END)
			return berr_make(err, EIO, "squashfs: reading back a gzip block failed (%d)",
					 r);
		*out_len = cap - d->z.avail_out;
		return 0;
	}
#if ENABLE_SQUASHFS_ZSTD
	if (d->comp == SQFS_COMP_ZSTD) {
		size_t r = ZSTD_decompressDCtx(d->zstd, out, cap, in, len);

		if (ZSTD_isError(r))
			return berr_make(err, EIO, "squashfs: reading back a zstd block failed: %s",
					 ZSTD_getErrorName(r));
		*out_len = r;
		return 0;
	}
#endif
#if ENABLE_SQUASHFS_XZ
	if (d->comp == SQFS_COMP_XZ) {
		uint64_t limit = SQFS_XZ_MEMLIMIT;
		size_t in_pos = 0, pos = 0;
		lzma_ret r = lzma_stream_buffer_decode(&limit, 0, NULL, in, &in_pos, len, out, &pos,
						       cap);

		if (r != LZMA_OK)
			return berr_make(err, EIO, "squashfs: reading back an xz block failed (%d)",
					 (int) r);
		*out_len = pos;
		return 0;
	}
#endif
	return berr_make(err, 0, "squashfs: no decompressor %d", (int) d->comp);
}

int sqfs_pwrite_all(int fd, const void *buf, size_t len, uint64_t off, struct berr **err)
{
	const uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = pwrite(fd, p, len, (off_t) off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return berr_make(err, errno, "squashfs: write image at offset %llu",
					 (unsigned long long) off);
		if (n == 0)
			return berr_make(err, EIO, "squashfs: write image at offset %llu",
					 (unsigned long long) off);
		p += n;
		len -= (size_t) n;
		off += (uint64_t) n;
	}
	return 0;
}

/* ---- the ordered pipeline ---- */

enum job_state { JOB_FREE, JOB_QUEUED, JOB_BUSY, JOB_DONE };

struct sqfs_job {
	enum job_state state;
	uint8_t *in, *out;
	uint32_t len;
	size_t out_len;
	int result;                /* of sqfs_compress: 1 compressed, 0 raw, -1 failed */
	struct berr *err;
	struct sqfs_inode *ino;    /* not owned; NULL for a fragment block */
	uint32_t index;
};

struct sqfs_pipe {
	pthread_mutex_t mu;
	pthread_cond_t work, done;
	struct sqfs_job *ring;
	unsigned n, head, count, next; /* next: the first job no worker has taken yet */
	bool stop;
	pthread_t *thr;
	struct sqfs_cctx **cctx;
	unsigned nthr, started;
	unsigned ncctx, created; /* compressors made, threads created: what stop releases */
};

/* Record where a block landed: the file's block list (and its start) or the fragment table. */
static int block_store(struct sqfs_writer *w, const void *data, uint32_t len, bool raw,
		       struct sqfs_inode *ino, uint32_t index, struct berr **err)
{
	uint64_t at = w->pos;

	if (sqfs_pwrite_all(w->fd, data, len, at, err) < 0) {
		w->broken = true;
		return -1;
	}
	w->pos += len;
	w->seq_done++;
	if (ino != NULL) {
		if (!ino->reg_started) {
			ino->reg.start = at;
			ino->reg_started = true;
		}
		ino->reg.blocks[index] = len | (raw ? SQFS_BLOCK_RAW : 0);
	} else {
		w->frags[index].start = at;
		w->frags[index].size = len | (raw ? SQFS_BLOCK_RAW : 0);
	}
	return 0;
}

static void *worker_main(void *arg)
{
	struct sqfs_writer *w = arg;
	struct sqfs_pipe *p = w->pipe;
	struct sqfs_cctx *c;
	unsigned me;

	pthread_mutex_lock(&p->mu);
	me = p->started++;
	c = p->cctx[me];
	for (;;) {
		struct sqfs_job *j;

		/* Jobs are queued and taken in ring order: `next` is queued iff there is work. */
		while (!p->stop && p->ring[p->next].state != JOB_QUEUED)
			pthread_cond_wait(&p->work, &p->mu);
		if (p->stop)
			break;
		j = &p->ring[p->next];
		p->next = (p->next + 1) % p->n;
		j->state = JOB_BUSY;
		pthread_mutex_unlock(&p->mu);
		j->result = sqfs_compress(c, j->in, j->len, j->out, &j->out_len, &j->err);
		pthread_mutex_lock(&p->mu);
		j->state = JOB_DONE;
		pthread_cond_broadcast(&p->done);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

/* Write out the oldest job, waiting for it if `wait`; returns 1 when one was retired. */
static int retire_head(struct sqfs_writer *w, bool wait, struct berr **err)
{
	struct sqfs_pipe *p = w->pipe;
	struct sqfs_job *j;
	int r;

	pthread_mutex_lock(&p->mu);
	if (p->count == 0 || (!wait && p->ring[p->head].state != JOB_DONE)) {
		pthread_mutex_unlock(&p->mu);
		return 0;
	}
	j = &p->ring[p->head];
	while (j->state != JOB_DONE)
		pthread_cond_wait(&p->done, &p->mu);
	pthread_mutex_unlock(&p->mu);

	/* Only this thread moves head, so the job is ours until it is marked free. */
	if (j->result < 0) {
		if (err != NULL && *err == NULL)
			*err = steal_ptr(&j->err);
		berr_free(steal_ptr(&j->err));
		w->broken = true;
		r = -1;
	} else if (j->result == 1) {
		r = block_store(w, j->out, (uint32_t) j->out_len, false, j->ino, j->index, err);
	} else {
		r = block_store(w, j->in, j->len, true, j->ino, j->index, err);
	}
	pthread_mutex_lock(&p->mu);
	j->state = JOB_FREE;
	p->head = (p->head + 1) % p->n;
	p->count--;
	pthread_mutex_unlock(&p->mu);
	return r < 0 ? -1 : 1;
}

int sqfs_pipe_start(struct sqfs_writer *w, struct berr **err)
{
	struct sqfs_pipe *p;
	unsigned i;

	if (w->threads <= 1)
		return 0;
	p = xcalloc(1, sizeof(*p));
	p->nthr = (unsigned) w->threads;
	/* Two jobs per worker keep every worker busy while the caller writes results. */
	p->n = 2 * p->nthr + 1;
	p->ring = xcalloc(p->n, sizeof(*p->ring));
	for (i = 0; i < p->n; i++) {
		p->ring[i].in = xmalloc(w->block_size);
		p->ring[i].out = xmalloc(SQFS_COMPRESS_BOUND(w->block_size));
	}
	p->cctx = xcalloc(p->nthr, sizeof(*p->cctx));
	p->thr = xcalloc(p->nthr, sizeof(*p->thr));
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->done, NULL);
	w->pipe = p;
	for (i = 0; i < p->nthr; i++) {
		if (sqfs_cctx_new(&p->cctx[i], w->comp, w->level, w->block_size, err) < 0) {
			sqfs_pipe_stop(w);
			return -1;
		}
		p->ncctx++;
	}
	for (i = 0; i < p->nthr; i++) {
		int r = pthread_create(&p->thr[i], NULL, worker_main, w);

		if (r != 0) {
			sqfs_pipe_stop(w);
			return berr_make(err, r, "squashfs: start compression thread");
		}
		p->created++;
	}
	return 0;
}

int sqfs_block_submit(struct sqfs_writer *w, const void *data, uint32_t len,
		      struct sqfs_inode *ino, uint32_t index, struct berr **err)
{
	struct sqfs_pipe *p = w->pipe;
	struct sqfs_job *j;
	unsigned slot;

	if (w->broken)
		return berr_make(err, 0, "squashfs: the image is unusable after an earlier error");
	w->seq_sub++;
	if (p == NULL) {
		size_t out_len = 0;
		int r = sqfs_compress(w->cctx, data, len, w->cbuf, &out_len, err);

		if (r < 0) {
			w->broken = true;
			return -1;
		}
		if (r == 1)
			return block_store(w, w->cbuf, (uint32_t) out_len, false, ino, index, err);
		return block_store(w, data, len, true, ino, index, err);
	}
	if (p->count == p->n && retire_head(w, true, err) < 0)
		return -1;
	slot = (p->head + p->count) % p->n;
	j = &p->ring[slot];
	memcpy(j->in, data, len);
	j->len = len;
	j->ino = ino;
	j->index = index;
	j->out_len = 0;
	j->result = 0;
	pthread_mutex_lock(&p->mu);
	j->state = JOB_QUEUED;
	p->count++;
	pthread_cond_signal(&p->work);
	pthread_mutex_unlock(&p->mu);
	/* Write out whatever is already compressed, so the ring rarely fills. */
	for (;;) {
		int r = retire_head(w, false, err);

		if (r < 0)
			return -1;
		if (r == 0)
			break;
	}
	return 0;
}

int sqfs_pipe_drain(struct sqfs_writer *w, struct berr **err)
{
	int r;

	if (w->pipe == NULL)
		return 0;
	while ((r = retire_head(w, true, err)) > 0)
		;
	return r;
}

int sqfs_pipe_wait(struct sqfs_writer *w, uint64_t seq, struct berr **err)
{
	while (w->seq_done < seq) {
		int r = w->pipe != NULL ? retire_head(w, true, err) : 0;

		if (r < 0)
			return -1;
		if (r == 0)
			return berr_make(err, 0, "squashfs: block %llu was never stored",
					 (unsigned long long) seq);
	}
	return 0;
}

void sqfs_pipe_stop(struct sqfs_writer *w)
{
	struct sqfs_pipe *p = w->pipe;
	unsigned i;

	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = true;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->mu);
	for (i = 0; i < p->created; i++)
		pthread_join(p->thr[i], NULL);
	for (i = 0; i < p->n; i++) {
		free(p->ring[i].in);
		free(p->ring[i].out);
		berr_free(p->ring[i].err);
	}
	for (i = 0; i < p->ncctx; i++)
		sqfs_cctx_free(p->cctx[i]);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->work);
	pthread_cond_destroy(&p->done);
	free(p->cctx);
	free(p->thr);
	free(p->ring);
	free(p);
	w->pipe = NULL;
}
