/* Layer mounts: each squashfs layer loop-mounted read-only once under <run-dir>/layers/<hex>,
 * shared by every container; overlayfs stacks them. Use counts are not stored anywhere: a
 * layer is in use while a mount refers to it, which the kernel's mount table tells, or while
 * a running container (whose record names its image) stands on it. */
#ifndef BERTH_IMAGE_MOUNT_H
#define BERTH_IMAGE_MOUNT_H

#include <stddef.h>
#include <sys/stat.h>

struct berr;

/* Attach `file` to a free loop device, read-only with autoclear (the device frees itself
 * when its last user goes). Returns the open loop fd; *dev gets "/dev/loopN". */
int loop_attach_ro(const char *file, char *dev, size_t devsize, struct berr **err);

/* Make sure layer `hex` (its chain id, 64 hex digits) is mounted, and put its mount point (or
 * its directory, for the dir layer format) into `out`. Safe against concurrent berth
 * processes. */
int layer_mount(const char *hex, char *out, size_t size, struct berr **err);

/* Unmount every layer mount that no other mount and no running container uses. Layer
 * mounts stay after their last container exits, so the next start finds them ready (and
 * their page cache warm); `berth system prune-mounts`, rmi and the GC call this. Returns how
 * many were released. */
int layer_release_unused(struct berr **err);

/* The chain ids (64 hex digits each) of the layers under running containers, whose overlays
 * live in the containers' own mount namespaces where the host's mount table cannot show
 * them. *hex is allocated (NULL when *n is 0). */
int layer_running_set(char (**hex)[65], size_t *n, struct berr **err);

#define OVERLAY_OPTS_MAX 4096 /* the kernel takes one page of mount options */

/* Mount the layers `hexes` (bottom first) as needed and write overlayfs's mount options for
 * them into `opts` (with `top`, if set, as one more lower dir above them, and with upper and
 * work dirs if upper is set), for a mount made elsewhere, e.g. in a container's own mount
 * namespace. */
int overlay_options(const char *const *hexes, size_t n, const char *top, const char *upper,
		    const char *work, char *opts, size_t size, struct berr **err);

/* What the image made of the layers `hexes` (bottom first; mounted as needed) has at each
 * of `names`, paths relative to its root whose parents are directories in every layer:
 * found[k] is 1 with st[k] the lstat from the topmost layer that has it, 0 if no layer has
 * it or a whiteout deletes it. Each layer is looked into once. */
int layers_lookup(const char *const *hexes, size_t n, const char *const *names, size_t n_names,
		  struct stat *st, int *found, struct berr **err);

/* Mount overlayfs at `target` over the layers `hexes` (bottom first). With upper == NULL the
 * result is read-only (a single layer is then bind-mounted read-only, as overlayfs needs two
 * lower dirs without an upper). Mounts the layers as needed. */
int overlay_mount(const char *const *hexes, size_t n, const char *upper, const char *work,
		  const char *target, struct berr **err);

#endif
