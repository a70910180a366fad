/* The user a container runs as: `-u` / the image's User resolved against the container's own
 * /etc/passwd and /etc/group, read through the rootfs directory without leaving it. */
#ifndef BERTH_RUNTIME_USER_H
#define BERTH_RUNTIME_USER_H

#include <stddef.h>
#include <stdint.h>

struct berr;

#define USER_FILE_MAX (4u << 20) /* /etc/passwd or /etc/group: refused when larger */
#define USER_GROUPS_MAX 65536    /* supplementary groups (the kernel's NGROUPS_MAX) */
#define USER_ID_MAX 2147483647u  /* uids and gids are kept below 2^31, as Docker does */

struct user_ids {
	uint32_t uid;
	uint32_t gid;
	uint32_t *groups;  /* supplementary groups, without duplicates */
	size_t n_groups;
	char *name;        /* passwd entry's name; NULL when the uid has none */
	char *home;        /* passwd entry's home; "/" without an entry, "/root" for root */
};

/* Resolve a user spec: "" (root), "name", "uid", "name:group", "uid:gid", "name:gid",
 * "uid:group". A name matches a passwd entry by name, a number by name or uid (the first entry
 * that matches wins). The primary group is the entry's, unless a group is given. Without a given
 * group, supplementary groups are the /etc/group entries that list the user as a member (as
 * Docker does); with one, there are none. `extra_groups` (--group-add: names or numbers) are
 * added either way. A number with no entry is fine (gid 0 unless given, HOME=/). An unknown
 * name is an error like Docker's: "unable to find user X: no matching entries in passwd file"
 * (status 125).
 *
 * `passwd`/`group` hold the files' bytes, NULL when the file does not exist. */
int user_resolve_buf(const char *spec, const char *passwd, size_t passwd_len, const char *group,
		     size_t group_len, char *const *extra_groups, size_t n_extra,
		     struct user_ids *out, struct berr **err);

/* The same, reading etc/passwd and etc/group inside the directory `rootfd` (symlinks resolved
 * inside it, never above; each file at most USER_FILE_MAX). */
int user_resolve(int rootfd, const char *spec, char *const *extra_groups, size_t n_extra,
		 struct user_ids *out, struct berr **err);

void user_ids_free(struct user_ids *u);

#endif
