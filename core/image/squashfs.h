/* berth's squashfs 4.0 writer: turns a stream of entries (in any order, as a tar layer gives
 * them) into one read-only image the kernel can loop-mount. Memory grows with the number of
 * entries, never with file sizes: file data is compressed and written as it arrives. */
#ifndef BERTH_IMAGE_SQUASHFS_H
#define BERTH_IMAGE_SQUASHFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct berr;
struct sqfs_writer;

/* Compressor ids as the format numbers them. */
enum sqfs_comp {
	SQFS_COMP_GZIP = 1,
	SQFS_COMP_XZ = 4,
	SQFS_COMP_ZSTD = 6,
};

/* xz's preset 0 (`xz -0`) as sqfs_options.level, where 0 means the default. */
#define SQFS_LEVEL_XZ_0 (-1)

/* The compressor called `name` ("gzip", "zstd", "xz"); 0 for none. */
enum sqfs_comp sqfs_comp_named(const char *name);
/* The levels `comp` takes, numbered as its own tool does (gzip 1-9, zstd 1-22, xz 0-9), and
 * its name; NULL when this berth is built without it. */
const char *sqfs_comp_levels(enum sqfs_comp comp, int *min, int *max);
/* Level `n` as a user gives it (`-l N`, `compression-level = N`) for sqfs_options.level:
 * a compressor's own level 0 (xz's preset 0) becomes SQFS_LEVEL_XZ_0. */
int sqfs_level_given(enum sqfs_comp comp, int n);

struct sqfs_options {
	enum sqfs_comp comp;  /* 0 means gzip */
	int level;            /* 0 = default: gzip 9, zstd 6, xz 6; gzip 1-9, zstd 1-22, xz
			       * SQFS_LEVEL_XZ_0 or 1-9 (xz's presets) */
	uint32_t block_size;  /* power of 2 from 4 KiB to 1 MiB; 0 = 128 KiB */
	int threads;          /* 0 = number of CPUs, 1 = compress in the caller's thread */
	bool no_fragments;    /* every file tail gets a block of its own */
	uint32_t mkfs_time;   /* superblock time, fixed for reproducible output */
};

/* One extended attribute; only the user., trusted. and security. namespaces can be stored. */
struct sqfs_xattr {
	const char *name;     /* full name, e.g. "trusted.overlay.opaque" */
	const void *value;
	size_t size;
};

struct sqfs_attr {
	mode_t mode;          /* file type and permission bits */
	uint32_t uid, gid;
	int64_t mtime;        /* clamped to the format's unsigned 32-bit seconds */
	dev_t rdev;           /* character and block devices */
	const char *link_target; /* symlinks */
	const struct sqfs_xattr *xattrs;
	size_t n_xattrs;
};

/* The writer writes the image from offset 0 of `out_fd` with pwrite, so `out_fd` must be a
 * regular file or a block device opened for writing without O_APPEND. `opt` may be NULL. */
int sqfs_writer_new(struct sqfs_writer **w, int out_fd, const struct sqfs_options *opt,
		    struct berr **err);

/* Paths are relative to the root, '/'-separated, without "." or ".." components, empty
 * components or a leading '/'; "." alone names the root directory (to set its attributes).
 * Missing parent directories are created (0755, root-owned, mtime 0) and take the attributes
 * of a later entry for them. A path given twice keeps the last entry, as tar extraction does:
 * a directory replaced by a directory keeps its children, replaced by anything else loses them.
 * A path whose parent exists as a non-directory is an error. */

/* A directory, symlink, character or block device, fifo or socket. */
int sqfs_writer_add(struct sqfs_writer *w, const char *path, const struct sqfs_attr *a,
		    struct berr **err);

/* A regular file: begin, any number of writes, end. Nothing else may be added in between.
 * Writes come in increasing offset order (offset >= end of the previous write); a gap is a
 * hole, stored as sparse blocks. `file_size` may exceed the last write: a trailing hole. */
int sqfs_file_begin(struct sqfs_writer *w, const char *path, const struct sqfs_attr *a,
		    struct berr **err);
int sqfs_file_write(struct sqfs_writer *w, uint64_t offset, const void *buf, size_t len,
		    struct berr **err);
int sqfs_file_end(struct sqfs_writer *w, uint64_t file_size, struct berr **err);

/* A hard link: `path` becomes another name of the inode that `target` (an earlier
 * non-directory entry) names now. */
int sqfs_writer_add_hardlink(struct sqfs_writer *w, const char *path, const char *target,
			     struct berr **err);

/* Add (or replace) one xattr on the entry at `path`, on top of the entry's own xattrs: how a
 * layer's opaque-directory marker becomes `trusted.overlay.opaque=y`. A missing `path` becomes
 * an implicit directory, as missing parents do. The xattr survives a later directory entry for
 * the same directory, not a replacement by another type. */
int sqfs_writer_add_xattr(struct sqfs_writer *w, const char *path, const struct sqfs_xattr *x,
			  struct berr **err);

/* Write the inode, directory, fragment, id and xattr tables and the superblock, and pad the
 * image to a multiple of 4 KiB. Does not fsync or close `out_fd`. The same sequence of calls
 * gives the same bytes, whatever the number of threads. */
int sqfs_writer_finish(struct sqfs_writer *w, struct berr **err);

/* Size of the image in bytes (padded) once sqfs_writer_finish succeeded, 0 before. */
uint64_t sqfs_writer_image_size(const struct sqfs_writer *w);

void sqfs_writer_free(struct sqfs_writer *w);

#endif
