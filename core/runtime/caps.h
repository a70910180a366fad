/* Capabilities of a container's process: names, Docker's default set, --cap-add/--cap-drop/
 * --privileged, the five sets for root and non-root users, and applying them in the child. */
#ifndef BERTH_RUNTIME_CAPS_H
#define BERTH_RUNTIME_CAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct berr;
struct user_ids;

/* Capability numbers fit a 64-bit mask; the kernel has 41 (0..40) today. */
#define CAPS_MAX 64
#define CAPS_BIT(cap) (UINT64_C(1) << (cap))

/* The five sets of a process (capabilities(7)). */
struct caps_sets {
	uint64_t bounding;
	uint64_t effective;
	uint64_t permitted;
	uint64_t inheritable;
	uint64_t ambient;
};

/* What the user asked: --cap-add and --cap-drop values (names as in caps_from_name, or "ALL"),
 * and --privileged. The strings are not owned. */
struct caps_opts {
	char *const *add;
	size_t n_add;
	char *const *drop;
	size_t n_drop;
	bool privileged;
};

/* Docker's default set: CHOWN DAC_OVERRIDE FSETID FOWNER MKNOD NET_RAW SETGID SETUID SETFCAP
 * SETPCAP NET_BIND_SERVICE SYS_CHROOT KILL AUDIT_WRITE. */
uint64_t caps_default(void);

/* "CAP_NET_ADMIN", "net_admin", "Net_Admin" -> its number; -1 if unknown ("ALL" is not a
 * capability: callers check for it). */
int caps_from_name(const char *name);
/* "CAP_CHOWN"; NULL for a number berth has no name for. */
const char *caps_name(int cap);

/* The highest capability this kernel knows (/proc/sys/kernel/cap_last_cap, else probed with
 * PR_CAPBSET_READ); never more than berth knows names for. */
int caps_kernel_last(void);
/* Every capability up to `last_cap`. */
uint64_t caps_all(int last_cap);

/* The container's capability list, by Docker's rules: --privileged gives every capability the
 * kernel has; `--cap-add ALL` gives all but the dropped ones; `--cap-drop ALL` keeps only the
 * added ones; otherwise the default set minus drops plus adds (an add wins over a drop of the
 * same name). An unknown name is a usage error naming the flag; a name this kernel lacks
 * (newer than `last_cap`) is an error too, since it could not be granted. */
int caps_compute(const struct caps_opts *o, int last_cap, uint64_t *out, struct berr **err);

/* The five sets from the list, as Docker gives them: bounding is the list for every user; root
 * (uid 0) also gets it as effective and permitted; a non-root user gets empty effective and
 * permitted sets, as execve(2) would leave them for a non-root program without file
 * capabilities. Inheritable and ambient are always empty (since the inheritable set only ever
 * handed capabilities to programs that should not have them: CVE-2022-24769). */
void caps_sets_for_user(uint64_t caps, uint32_t uid, struct caps_sets *out);

/* Mask -> "CAP_CHOWN,CAP_KILL" into buf (truncated with "..." if too small); for logs and
 * `inspect`. Returns buf. */
char *caps_format(uint64_t caps, char *buf, size_t size);

/* In the container's child, still root with every capability: drop what is not in the bounding
 * set, switch to the user (supplementary groups, gid, uid: `id` may be NULL to stay root)
 * keeping capabilities across setuid, then set effective/permitted/inheritable with capset(2)
 * and raise the ambient ones. No allocation unless it fails. */
int caps_apply(const struct caps_sets *s, const struct user_ids *id, struct berr **err);

/* PR_SET_NO_NEW_PRIVS: setuid binaries and file capabilities grant nothing any more. Required
 * before an unprivileged seccomp filter; Docker sets it with `--security-opt no-new-privileges`. */
int caps_set_no_new_privs(struct berr **err);

#endif
