/* Paths inside a container's root, resolved the way the container will see them: symlinks
 * (absolute or relative, ".." included) never lead out of the root. openat2(RESOLVE_IN_ROOT)
 * where the kernel has it (5.6+), a careful walk otherwise. Paths may be absolute or relative
 * to the root: both mean the same. The one implementation for the runtime (mount targets,
 * the working directory, the program, /etc/passwd). */
#ifndef BERTH_RUNTIME_RESOLVE_H
#define BERTH_RUNTIME_RESOLVE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct berr;

#define RESOLVE_MAX_LINKS 40 /* as the kernel's MAXSYMLINKS */

enum resolve_create {
	RESOLVE_NO_CREATE = 0,
	RESOLVE_CREATE_DIR,   /* make missing components, the last as a directory */
	RESOLVE_CREATE_FILE,  /* make missing parents as directories, the last as an empty file */
};

/* Open `path` under the directory `rootfd`, returning an O_PATH | O_CLOEXEC fd or -1.
 * Missing components are created with mode 0755 (files 0644) as `create` asks; parents are
 * always directories. The fd can be a mount target through /proc/self/fd/N. */
int resolve_in_root(int rootfd, const char *path, enum resolve_create create, struct berr **err);

/* open(2) `path` with `flags` (O_CLOEXEC is added; O_CREAT makes the last component with mode
 * 0644, never its parents). On failure the error's errcode is the errno. */
int resolve_open(int rootfd, const char *path, int flags, struct berr **err);

/* Read a regular file of at most `max` bytes into a NUL-terminated malloc'd buffer. A missing
 * file with `missing_ok` gives 0 with *out == NULL. Allocations are checked (the supervisor
 * uses this too). */
int resolve_read(int rootfd, const char *path, size_t max, bool missing_ok, char **out,
		 size_t *len, struct berr **err);

/* mkdir -p with `mode` (the working directory, which Docker creates when missing). A file in
 * the way is ENOTDIR. */
int resolve_mkdir_p(int rootfd, const char *path, mode_t mode, struct berr **err);

/* For tests: force the walk even where openat2 exists. */
extern bool resolve_force_walk;

#endif
