/* seccomp filters for containers: Docker's default profile and Docker's JSON profile format,
 * compiled with libseccomp to a BPF program once in the parent; the child only loads it. */
#ifndef BERTH_RUNTIME_SECCOMP_H
#define BERTH_RUNTIME_SECCOMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct berr;
struct sock_filter;

#define SECC_PROFILE_MAX (1u << 20) /* bytes of a JSON profile */
#define SECC_RULES_MAX 4096         /* entries of "syscalls" */
#define SECC_NAMES_MAX 1024         /* "names" of one entry */
#define SECC_ARCHES_MAX 32          /* architectures, archMap entries, sub-architectures */
#define SECC_ARGS_MAX 6             /* a syscall has six arguments */
#define SECC_STR_MAX 64             /* a syscall, arch, cap or action name */

enum secc_action {
	SECC_ACT_KILL_THREAD = 1, /* SCMP_ACT_KILL, SCMP_ACT_KILL_THREAD */
	SECC_ACT_KILL_PROCESS,
	SECC_ACT_TRAP,
	SECC_ACT_ERRNO,
	SECC_ACT_TRACE,
	SECC_ACT_ALLOW,
	SECC_ACT_LOG,
};

enum secc_op {
	SECC_OP_NE = 1,
	SECC_OP_LT,
	SECC_OP_LE,
	SECC_OP_EQ,
	SECC_OP_GE,
	SECC_OP_GT,
	SECC_OP_MASKED_EQ, /* (arg & value) == valueTwo */
};

struct secc_arg {
	unsigned index;
	uint64_t value;
	uint64_t value_two;
	enum secc_op op;
};

/* One entry of "syscalls". */
struct secc_rule {
	char **names;
	size_t n_names;
	enum secc_action action;
	int errno_ret;            /* ERRNO's errno / TRACE's message; -1: EPERM / 0 */
	struct secc_arg args[SECC_ARGS_MAX];
	size_t n_args;
	uint64_t includes_caps;   /* applies only if every one is in the bounding set */
	uint64_t excludes_caps;   /* skipped if any one is in the bounding set */
	char **includes_arches;   /* Docker's names: amd64, 386, x32, arm64, arm, ... */
	size_t n_includes_arches;
	char **excludes_arches;
	size_t n_excludes_arches;
	unsigned min_kernel;      /* major << 16 | minor; 0: any */
};

struct secc_archmap {
	uint32_t arch;            /* SCMP_ARCH_* */
	uint32_t subs[SECC_ARCHES_MAX];
	size_t n_subs;
};

struct secc_profile {
	enum secc_action default_action;
	int default_errno;        /* -1: EPERM */
	/* "architectures" (every one is added) or "archMap" (the native entry and its
	 * sub-architectures are added). The native architecture is always in the filter. */
	struct secc_archmap *arches;
	size_t n_arches;
	bool arch_map;
	unsigned flags;           /* SECCOMP_FILTER_FLAG_* from "flags" */
	struct secc_rule *rules;
	size_t n_rules;
};

/* A compiled filter. insns == NULL: no filter (unconfined). */
struct secc_filter {
	struct sock_filter *insns;
	unsigned short len;
	unsigned flags;           /* SECCOMP_FILTER_FLAG_* for seccomp(2) */
};

/* `--security-opt seccomp=...` */
enum secc_mode {
	SECC_MODE_DEFAULT = 0,    /* Docker's default profile */
	SECC_MODE_UNCONFINED,     /* seccomp=unconfined */
	SECC_MODE_PROFILE,        /* seccomp=PROFILE.json */
};

/* Parse Docker's JSON profile format. `name` (the file) prefixes errors, which name the field:
 * "x.json: syscalls[3].args[0].op: unknown operator `SCMP_CMP_FOO`". Unknown keys are errors
 * (a misspelt "syscalls" would deny everything); "comment" is allowed everywhere. */
int secc_profile_parse(const char *name, const char *json, size_t len, struct secc_profile *out,
		       struct berr **err);
/* Read (at most SECC_PROFILE_MAX bytes) and parse a profile file. */
int secc_profile_load(const char *path, struct secc_profile *out, struct berr **err);
void secc_profile_free(struct secc_profile *p);

/* Compile a profile (NULL: Docker's default profile) for this machine: its native architecture
 * and the compat ones the profile maps to it (x86_64: x86, x32; aarch64: arm), rules filtered
 * by the bounding capability set `caps` (the default profile allows mount, unshare, setns...
 * only with CAP_SYS_ADMIN, init_module with CAP_SYS_MODULE, and so on, as Docker's does), by
 * architecture and by the running kernel's version. Syscalls this libseccomp does not know are
 * skipped, as Docker does. Done once in the parent: the result is a plain BPF program. */
int secc_build(const struct secc_profile *p, uint64_t caps, struct secc_filter *out,
	       struct berr **err);

/* The filter for a mode: DEFAULT compiles Docker's default profile (none, silently, when this
 * berth is built without seccomp: Kconfig SECCOMP), UNCONFINED gives an empty filter, PROFILE
 * loads and compiles `path` (an error in a build without seccomp). */
int secc_filter_for(enum secc_mode mode, const char *path, uint64_t caps,
		    struct secc_filter *out, struct berr **err);

/* "unconfined" or a path, from the value after `seccomp=`. */
int secc_parse_opt(const char *value, enum secc_mode *mode, const char **path,
		   struct berr **err);

/* In the child, after no_new_privs (caps_set_no_new_privs) and right before exec: load the
 * filter. Allocates nothing unless it fails. An empty filter does nothing. */
int secc_apply(const struct secc_filter *f, struct berr **err);

void secc_filter_free(struct secc_filter *f);

/* secc_filter_for, with the compiled program cached in <run-dir>/seccomp/ (RAM), keyed by the
 * profile's bytes, the capabilities, the kernel and berth's version. */
int secc_filter_cached(enum secc_mode mode, const char *path, uint64_t caps,
		       struct secc_filter *out, struct berr **err);

/* "4.8" or a uname release "6.1.0-13-arm64" -> major << 16 | minor; 0 if not a version. */
unsigned secc_kernel_version(const char *s);

#endif
