/* Internals of the squashfs writer, shared by squashfs.c (the entry tree and file streaming),
 * squashfs_data.c (compression and the ordered block pipeline) and squashfs_meta.c (the
 * tables written at finish). Format: squashfs 4.0, little-endian throughout. */
#ifndef BERTH_IMAGE_SQUASHFS_INT_H
#define BERTH_IMAGE_SQUASHFS_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "image/squashfs.h"

struct berr;

#define SQFS_MAGIC 0x73717368u
#define SQFS_META_SIZE 8192u            /* uncompressed bytes per metadata block */
#define SQFS_META_RAW 0x8000u           /* metadata header bit: block stored uncompressed */
#define SQFS_BLOCK_RAW (1u << 24)       /* data/fragment size bit: stored uncompressed */
#define SQFS_NONE32 0xffffffffu         /* no fragment, no xattrs */
#define SQFS_NONE64 0xffffffffffffffffull
#define SQFS_NAME_MAX 255u              /* the kernel takes 256, Linux names stop at 255 */
#define SQFS_SYMLINK_MAX 4095u          /* PATH_MAX - 1: the kernel reads targets into a page */
#define SQFS_PATH_MAX 4096u
#define SQFS_XATTR_VALUE_MAX 65536u     /* Linux's XATTR_SIZE_MAX */
#define SQFS_XSET_MAX (16u << 20)       /* bytes of one entry's serialized xattrs */
#define SQFS_DIR_COUNT 256u             /* entries per directory header */
/* Output room for compressing `n` bytes: above zlib's, zstd's and xz's worst cases. */
#define SQFS_COMPRESS_BOUND(n) ((size_t) (n) + (size_t) (n) / 128 + 1024)

/* Superblock flags (squashfs_fs.h bit numbers as masks). */
#define SQFS_FLAG_NO_FRAGMENTS 0x0010u
#define SQFS_FLAG_ALWAYS_FRAGMENTS 0x0020u /* tails of large files go to fragments too */
#define SQFS_FLAG_NO_XATTRS 0x0200u

/* Inode types; the extended ("long") variant of each basic type is type + 7. */
enum {
	SQFS_T_DIR = 1,
	SQFS_T_REG,
	SQFS_T_SYMLINK,
	SQFS_T_BLKDEV,
	SQFS_T_CHRDEV,
	SQFS_T_FIFO,
	SQFS_T_SOCKET,
	SQFS_T_EXT = 7,
};

/* Intrusive chained hash table: items embed a sqfs_hnode first. */
struct sqfs_hnode {
	struct sqfs_hnode *next;
	uint64_t hash;
};
struct sqfs_htab {
	struct sqfs_hnode **b;
	size_t nb, n;
};

/* A uid or gid, interned; `index` in the id table is given at finish, in inode order. */
struct sqfs_id {
	struct sqfs_hnode h;
	uint32_t id;
	int32_t index; /* -1 until used by a written inode */
};

/* One entry's xattrs, serialized as the xattr table stores them (sorted by name), interned so
 * that identical sets are written once. */
struct sqfs_xset {
	struct sqfs_hnode h;
	int64_t index; /* xattr id, -1 until used by a written inode */
	uint32_t count, len;
	uint8_t data[];
};

/* An inode's xattr sets, all three interned in the writer, not owned. */
struct sqfs_xref {
	struct sqfs_xset *xattrs;    /* what is written: xbase with xadded on top */
	struct sqfs_xset *xbase;     /* from the entry's attributes */
	struct sqfs_xset *xadded;    /* from sqfs_writer_add_xattr */
};

struct sqfs_inode {
	struct sqfs_inode *all_next; /* every inode made, for freeing */
	uint32_t links;              /* names that point here (hard links) */
	uint32_t number;             /* 1..n, assigned at finish; 0 = not yet */
	bool written;                /* in the inode table (finish, second pass) */
	bool reg_started;            /* regular files: reg.start is set (first block stored) */
	uint64_t ref;                /* inode table position: block << 16 | offset */
	uint16_t mode;
	uint32_t mtime;
	struct sqfs_id *uid, *gid;   /* not owned: interned in the writer */
	struct sqfs_xref *x;         /* xattrs; NULL (most inodes) for none; the writer's arena */
	union {
		struct {
			uint64_t size, start, sparse;
			uint32_t *blocks; /* on-disk size of each block, 0 for a hole */
			uint32_t nblocks, cap;
			uint32_t frag, frag_off;
			uint64_t seq_end; /* pipeline sequence number once all its blocks are stored */
		} reg;
		struct {
			char *target;
			uint32_t len;
		} link;
		uint32_t rdev; /* encoded as the kernel's new_encode_dev() */
	};
};

static inline struct sqfs_xset *sqfs_inode_xattrs(const struct sqfs_inode *ino)
{
	return ino->x ? ino->x->xattrs : NULL;
}

struct sqfs_node {
	struct sqfs_hnode h;         /* in the writer's name table, keyed by (parent, name) */
	struct sqfs_node *parent;    /* not owned */
	struct sqfs_node *children;  /* directories: newest first; sorted by name at finish */
	struct sqfs_node *prev, *next;
	struct sqfs_inode *ino;      /* shared by hard links; not owned (writer's list owns) */
	uint32_t nchildren;
	uint16_t name_len;
	char name[];
};

struct sqfs_frag {
	uint64_t start;
	uint32_t size;
	uint64_t seq_end; /* stored once the pipeline has stored this many blocks */
};

struct sqfs_cctx;
struct sqfs_dctx;
struct sqfs_pipe;
struct sqfs_arena;

struct sqfs_writer {
	int fd;                       /* not owned */
	enum sqfs_comp comp;
	int level;
	uint32_t block_size, block_log;
	bool no_fragments;
	uint32_t mkfs_time;
	int threads;

	struct sqfs_node *root;
	struct sqfs_htab names, ids, xsets;
	struct sqfs_inode *inodes;
	struct sqfs_arena *arena;     /* where inodes and nodes live */

	/* The regular file between sqfs_file_begin and sqfs_file_end. */
	struct sqfs_inode *file;
	uint64_t fpos;     /* bytes of the file accounted for, data or hole */
	uint8_t *cur;      /* the block being filled */
	uint32_t cur_len;

	uint8_t *frag;     /* the fragment block being filled */
	uint32_t frag_fill;
	struct sqfs_frag *frags;
	uint32_t nfrags, frags_cap;

	/* Duplicate detection (squashfs_dedup.c): files indexed by their first block, fragment
	 * tails by their bytes. Candidates are compared byte for byte against the image. */
	bool dedup;               /* out_fd can be read back */
	struct sqfs_htab heads, tails;
	struct sqfs_inode *dup;   /* an earlier file equal to the open one so far; not owned */
	uint32_t dup_held;        /* blocks of the open file held back because `dup` has them */
	uint64_t dup_at;          /* image offset of `dup`'s next stored block */
	uint64_t head_hash;       /* of the open file's first block */
	uint64_t tail_hash;       /* of the open file's tail */
	struct sqfs_dctx *dctx;   /* made on first use */
	uint8_t *dbuf;            /* one block read back from the image: a block compared, or
	                           * fragment block fbuf_frag - 1 kept for the next tail */
	uint32_t fbuf_frag, fbuf_len; /* 0: dbuf holds no fragment block */

	uint64_t seq_sub, seq_done; /* blocks submitted to / stored by the pipeline */
	uint64_t pos;      /* where the next data block goes */
	struct sqfs_cctx *cctx;   /* the caller's thread: inline blocks and metadata */
	uint8_t *cbuf;            /* its output buffer, SQFS_COMPRESS_BOUND(block_size) bytes */
	struct sqfs_pipe *pipe;   /* NULL when threads == 1 */
	bool broken;              /* an earlier failure left the image unusable */
	bool finished;
	uint64_t image_size;
};

/* squashfs_intern.c */
uint64_t sqfs_hash(const void *data, size_t len, uint64_t seed);
int sqfs_htab_init(struct sqfs_htab *t);
void sqfs_htab_free(struct sqfs_htab *t);
void sqfs_htab_insert(struct sqfs_htab *t, struct sqfs_hnode *n);
void sqfs_htab_remove(struct sqfs_htab *t, struct sqfs_hnode *n);
/* Zeroed memory that lives until the writer is freed (inodes, names, dedup keys). */
void *sqfs_arena_zalloc(struct sqfs_writer *w, size_t n);
struct sqfs_hnode *sqfs_htab_first(const struct sqfs_htab *t, uint64_t hash);
struct sqfs_id *sqfs_id_intern(struct sqfs_writer *w, uint32_t id);
/* Check `n` xattrs of the entry at `path` and intern them as a set (*out NULL when n == 0). */
int sqfs_xset_intern(struct sqfs_writer *w, const char *path, const struct sqfs_xattr *xs,
		     size_t n, struct sqfs_xset **out, struct berr **err);
/* Intern the union of two sets, `over` winning where both name the same xattr. */
int sqfs_xset_merge(struct sqfs_writer *w, const char *path, const struct sqfs_xset *under,
		    const struct sqfs_xset *over, struct sqfs_xset **out, struct berr **err);

/* squashfs.c */
int sqfs_frag_flush(struct sqfs_writer *w, struct berr **err);

/* squashfs_dedup.c. sqfs_dup_block sees the open file's block `index` (data NULL for a hole,
 * already accounted) before it is stored: 1 = held back (an earlier file has it), 0 = store it
 * as usual. At the end of the file, sqfs_dup_file_end points the file at the earlier blocks
 * when all of its blocks were found there (1), or sends what was held back (0). The tail is
 * placed after that: sqfs_dup_tail finds an equal fragment tail (1, frag and offset set); if
 * none (0), the caller packs it and says where with sqfs_dup_tail_packed. */
uint64_t sqfs_hash_fast(const void *data, size_t len, uint64_t seed);
int sqfs_dup_block(struct sqfs_writer *w, uint32_t index, const uint8_t *data, uint32_t len,
		   struct berr **err);
int sqfs_dup_file_end(struct sqfs_writer *w, struct berr **err);
int sqfs_dup_tail(struct sqfs_writer *w, const uint8_t *tail, uint32_t len, struct berr **err);
void sqfs_dup_tail_packed(struct sqfs_writer *w, uint32_t frag, uint32_t off, uint32_t len);
void sqfs_dup_free(struct sqfs_writer *w);

/* squashfs_data.c: compressors. sqfs_compress returns 1 with *out_len set when `out` (of
 * SQFS_COMPRESS_BOUND(len) bytes) holds a smaller compressed copy, 0 when the block is better
 * stored as it is, -1 on failure. */
/* `level` is checked by sqfs_level_check (xz's preset 0 is 0 here); `block_size` sizes xz's
 * dictionary. */
int sqfs_cctx_new(struct sqfs_cctx **c, enum sqfs_comp comp, int level, uint32_t block_size,
		  struct berr **err);
void sqfs_cctx_free(struct sqfs_cctx *c);
int sqfs_compress(struct sqfs_cctx *c, const void *in, size_t len, void *out, size_t *out_len,
		  struct berr **err);
int sqfs_level_check(enum sqfs_comp comp, int *level, struct berr **err);
int sqfs_dctx_new(struct sqfs_dctx **d, enum sqfs_comp comp, struct berr **err);
void sqfs_dctx_free(struct sqfs_dctx *d);
/* Decompress a whole block into `out` (`cap` bytes); *out_len gets its length. */
int sqfs_decompress(struct sqfs_dctx *d, const void *in, size_t len, void *out, size_t cap,
		    size_t *out_len, struct berr **err);

/* squashfs_data.c: the ordered block pipeline. A block goes to a file's block `index` (`ino`
 * non-NULL) or is fragment block `index`; results are written in submission order. */
int sqfs_pipe_start(struct sqfs_writer *w, struct berr **err);
int sqfs_block_submit(struct sqfs_writer *w, const void *data, uint32_t len,
		      struct sqfs_inode *ino, uint32_t index, struct berr **err);
int sqfs_pipe_drain(struct sqfs_writer *w, struct berr **err);
/* Wait until the pipeline has stored `seq` blocks, so they can be read back from the image. */
int sqfs_pipe_wait(struct sqfs_writer *w, uint64_t seq, struct berr **err);
void sqfs_pipe_stop(struct sqfs_writer *w);
int sqfs_pwrite_all(int fd, const void *buf, size_t len, uint64_t off, struct berr **err);

/* squashfs_meta.c */
int sqfs_write_tables(struct sqfs_writer *w, struct berr **err);

static inline void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t) v;
	p[1] = (uint8_t) (v >> 8);
}
static inline void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t) v);
	put16(p + 2, (uint16_t) (v >> 16));
}
static inline void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t) v);
	put32(p + 4, (uint32_t) (v >> 32));
}

#endif
