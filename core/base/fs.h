/* Filesystem helpers for flash: power-cut-safe writes, mkdir -p, symlink-safe recursive removal. */
#ifndef BERTH_FS_H
#define BERTH_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct berr;

/* Replace `path` with `len` bytes of `data`, so that after a power cut at any instant the file
 * holds either the old or the new content: write `<path>.tmp.<pid>`, fsync it, rename it over
 * `path`, fsync the directory. The temporary file is removed on failure. */
int fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode, struct berr **err);

/* Replace `path` as fs_write_atomic does (tmp, rename), without any fsync: for files that are
 * made again before every use (a container's /etc/hosts), or whose loss in a power cut only
 * loses what a reader already sees through. A reader never sees a half-written file; after a
 * power cut the file may hold the old content, the new, or (on file systems that do not order
 * a replacing rename after its data) nothing. */
int fs_write_replace(const char *path, const void *data, size_t len, mode_t mode, struct berr **err);

/* Create `path`, which must not exist, with `len` bytes of `data` and fsync it; no rename,
 * no directory fsync. For files in a directory that is not visible yet, which the caller
 * fsyncs once and renames into place. */
int fs_write_new(const char *path, const void *data, size_t len, mode_t mode, struct berr **err);
/* fs_write_new without the fsync: for what a power cut may lose (see rec_config.auto_remove). */
int fs_write_new_nosync(const char *path, const void *data, size_t len, mode_t mode, struct berr **err);

/* fsync the directory holding `path` (or `path` itself with fs_fsync_dir), so a rename or a
 * create in it is durable. */
int fs_fsync_parent(const char *path, struct berr **err);
int fs_fsync_dir(const char *dir, struct berr **err);

/* mkdir -p: every missing component is created with `mode`; existing directories are fine,
 * an existing non-directory is an error. */
int fs_mkdir_p(const char *path, mode_t mode, struct berr **err);

/* rm -rf that never follows a symlink and never leaves the file system of `path`'s parent
 * through a mount point: everything goes through openat/unlinkat with O_NOFOLLOW. A missing
 * `path` is not an error. */
int fs_rm_rf(const char *path, struct berr **err);
int fs_rm_rf_at(int dirfd, const char *name, struct berr **err);

/* Removing a tree is not atomic, a rename is: move `path` to `trash` (a name under tmp/, whose
 * parent is made if missing; a leftover there is removed first) and make the rename durable.
 * After a power cut the tree is either where it was or in tmp/, which repair sweeps. The
 * caller then deletes `trash` with fs_rm_rf. */
int fs_move_aside(const char *path, const char *trash, struct berr **err);
/* The same without making the rename durable: after a power cut the tree may be back. */
int fs_move_aside_nosync(const char *path, const char *trash, struct berr **err);

/* Bytes of regular-file data in the tree `name` under `dirfd` (or the file itself), never
 * following symlinks; unreadable parts count as 0. For `df` and prune reports. */
uint64_t fs_tree_size_at(int dirfd, const char *name);

/* Read a whole file of at most `max` bytes into a NUL-terminated malloc'd buffer. A larger file
 * is an error (EFBIG), so outside input never makes us allocate without bound. */
int fs_read_file(const char *path, size_t max, char **out, size_t *len, struct berr **err);

/* Is `path` on a file system with a copy off RAM (not tmpfs or ramfs)? False when it cannot
 * be told. Writes there are worth syncing; pages mapped from there can be dropped. */
bool fs_backed_by_storage(const char *path);

#endif
