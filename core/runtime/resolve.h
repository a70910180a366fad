/* Paths inside a container's root, resolved the way the container will see them: symlinks
 * (absolute or relative, ".." included) never lead out of the root. openat2(RESOLVE_IN_ROOT)
 * where the kernel has it (5.6+), a careful walk otherwise. */
#ifndef BERTH_RUNTIME_RESOLVE_H
#define BERTH_RUNTIME_RESOLVE_H

#include <stdbool.h>

struct berr;

#define RESOLVE_MAX_LINKS 40

enum resolve_create {
	RESOLVE_NO_CREATE = 0,
	RESOLVE_CREATE_DIR,   /* make missing components, the last as a directory */
	RESOLVE_CREATE_FILE,  /* make missing parents as directories, the last as an empty file */
};

/* Open `path` (absolute or relative to the root: both mean the same) under the directory
 * `rootfd`, returning an O_PATH | O_CLOEXEC fd or -1. Missing components are created with mode
 * 0755 (files 0644) as `create` asks; parents are always directories. The fd can be a mount
 * target through /proc/self/fd/N. */
int resolve_in_root(int rootfd, const char *path, enum resolve_create create, struct berr **err);

/* For tests: force the walk even where openat2 exists. */
extern bool resolve_force_walk;

#endif
