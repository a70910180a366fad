/* Host devices given to a container (`--device HOST[:CONTAINER][:PERMISSIONS]`, the Docker run
 * reference): the option's syntax, the host node it names, the node made in the container's
 * root, and the cgroup rule that lets the container use it. */
#ifndef BERTH_RUNTIME_DEVICE_H
#define BERTH_RUNTIME_DEVICE_H

#include <stddef.h>
#include <sys/types.h>

struct berr;
struct cg_device;

#define DEV_PATH_MAX 4096

struct dev_node {
	char *host;      /* the host path as given (absolute) */
	char *path;      /* in the container, cleaned; the host path when not given */
	char perms[4];   /* cgroup permissions, a subset of "rwm" in that order; "rwm" by default */
	/* From the host node (dev_stat, symlinks followed). */
	mode_t mode;     /* S_IFCHR or S_IFBLK and the permission bits */
	dev_t rdev;
	uid_t uid;
	gid_t gid;
};

/* Syntax only: `/dev/sdc`, `/dev/sdc:/dev/xvdc`, `/dev/sdc:rw`, `/dev/sdc:/dev/xvdc:r`. Both
 * paths absolute; permissions from r, w and m, each at most once. Usage errors name the
 * value. Allocates d->host and d->path. */
int dev_parse(const char *spec, struct dev_node *d, struct berr **err);

/* Fill the node's type, numbers, mode and owner from the host path (stat: a symlink such as
 * /dev/serial/by-id/... names its target). A missing path or one that is not a character or
 * block device is an error of status 125, as Docker gives: the host, not the syntax, is at
 * fault. */
int dev_stat(struct dev_node *d, struct berr **err);

/* Both steps. */
int dev_from_spec(const char *spec, struct dev_node *d, struct berr **err);

/* dev_from_spec, but a host directory (`--device /dev/snd`) gives every device node under it
 * (symlinks inside are not followed), each at its place under the container path, as Docker
 * does; one without any is an error. Appends to *v (malloc'd, *n entries, at most max). */
int dev_expand(const char *spec, struct dev_node **v, size_t *n, size_t max, struct berr **err);

void dev_free(struct dev_node *d);

/* The cgroup rule for the node: exactly its type, major and minor, with its permissions. */
void dev_cg_rule(const struct dev_node *d, struct cg_device *out);

/* In the container's child, before pivot_root: make the node at d->path inside the root
 * (parents made, the path resolved without leaving the root), with the host node's type,
 * numbers, mode and owner. A device node already there is replaced; anything else there is
 * an error. */
int dev_create_in_root(int rootfd, const struct dev_node *d, struct berr **err);

#endif
