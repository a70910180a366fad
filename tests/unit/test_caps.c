/* Unit tests for core/runtime/caps.c: names, Docker's default set, --cap-add/--cap-drop/ALL/
 * --privileged, the sets for root and non-root, and (as root) applying them in a child. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/err.h"
#include "runtime/caps.h"
#include "runtime/user.h"

#define B(cap) CAPS_BIT(CAP_##cap)

static const uint64_t docker_default = B(CHOWN) | B(DAC_OVERRIDE) | B(FSETID) | B(FOWNER) |
				       B(MKNOD) | B(NET_RAW) | B(SETGID) | B(SETUID) |
				       B(SETFCAP) | B(SETPCAP) | B(NET_BIND_SERVICE) |
				       B(SYS_CHROOT) | B(KILL) | B(AUDIT_WRITE);

static void test_names(void **state)
{
	(void) state;
	assert_int_equal(caps_from_name("CAP_NET_ADMIN"), CAP_NET_ADMIN);
	assert_int_equal(caps_from_name("net_admin"), CAP_NET_ADMIN);
	assert_int_equal(caps_from_name("Net_Admin"), CAP_NET_ADMIN);
	assert_int_equal(caps_from_name("cap_chown"), CAP_CHOWN);
	assert_int_equal(caps_from_name("CHECKPOINT_RESTORE"), 40);
	assert_int_equal(caps_from_name("bogus"), -1);
	assert_int_equal(caps_from_name(""), -1);
	assert_int_equal(caps_from_name("CAP_"), -1);
	assert_int_equal(caps_from_name("ALL"), -1);
	assert_int_equal(caps_from_name(NULL), -1);
	assert_string_equal(caps_name(CAP_CHOWN), "CAP_CHOWN");
	assert_string_equal(caps_name(CAP_SYS_ADMIN), "CAP_SYS_ADMIN");
	assert_string_equal(caps_name(40), "CAP_CHECKPOINT_RESTORE");
	assert_null(caps_name(41));
	assert_null(caps_name(-1));
	/* Every name maps back to its number. */
	for (int c = 0; c <= 40; c++)
		assert_int_equal(caps_from_name(caps_name(c)), c);
}

static void test_default_set(void **state)
{
	char buf[512];

	(void) state;
	assert_int_equal(caps_default(), docker_default);
	assert_int_equal(__builtin_popcountll(caps_default()), 14);
	assert_false(caps_default() & B(SYS_ADMIN));
	assert_false(caps_default() & B(NET_ADMIN));
	/* The mask Docker containers show as CapBnd. */
	assert_int_equal(caps_default(), 0xa80425fbull);
	caps_format(B(CHOWN) | B(KILL), buf, sizeof(buf));
	assert_string_equal(buf, "CAP_CHOWN,CAP_KILL");
	caps_format(0, buf, sizeof(buf));
	assert_string_equal(buf, "");
	/* Cut where the next name does not fit, and said so. */
	caps_format(caps_default(), buf, 20);
	assert_string_equal(buf, "CAP_CHOWN...");
}

static void test_kernel_last(void **state)
{
	int last = caps_kernel_last();

	(void) state;
	assert_true(last >= CAP_AUDIT_READ); /* Linux 3.16 */
	assert_true(last <= 40);
	assert_int_equal(caps_all(40), (UINT64_C(1) << 41) - 1);
	assert_int_equal(caps_all(63), UINT64_MAX);
	assert_int_equal(caps_all(-1), 0);
}

static uint64_t compute(char **add, size_t n_add, char **drop, size_t n_drop, bool priv)
{
	struct caps_opts o = { add, n_add, drop, n_drop, priv };
	struct berr *err = NULL;
	uint64_t m = 0;

	if (caps_compute(&o, 40, &m, &err) < 0)
		fail_msg("%s", err->msg);
	return m;
}

static void test_compute(void **state)
{
	(void) state;
	assert_int_equal(compute(NULL, 0, NULL, 0, false), docker_default);
	assert_int_equal(compute((char *[]) { "NET_ADMIN" }, 1, NULL, 0, false),
			 docker_default | B(NET_ADMIN));
	assert_int_equal(compute(NULL, 0, (char *[]) { "chown", "CAP_KILL" }, 2, false),
			 docker_default & ~(B(CHOWN) | B(KILL)));
	/* Dropping what is not there is fine. */
	assert_int_equal(compute(NULL, 0, (char *[]) { "SYS_ADMIN" }, 1, false), docker_default);
	/* An add beats a drop of the same capability. */
	assert_int_equal(compute((char *[]) { "MKNOD" }, 1, (char *[]) { "mknod" }, 1, false),
			 docker_default);
	/* --cap-add ALL: everything but the drops. */
	assert_int_equal(compute((char *[]) { "ALL" }, 1, (char *[]) { "MKNOD" }, 1, false),
			 caps_all(40) & ~B(MKNOD));
	assert_int_equal(compute((char *[]) { "all" }, 1, (char *[]) { "ALL" }, 1, false),
			 caps_all(40));
	/* --cap-drop ALL: only the adds. */
	assert_int_equal(compute((char *[]) { "NET_BIND_SERVICE" }, 1, (char *[]) { "ALL" }, 1,
				 false),
			 B(NET_BIND_SERVICE));
	assert_int_equal(compute(NULL, 0, (char *[]) { "ALL" }, 1, false), 0);
	/* --privileged: everything, whatever else was said. */
	assert_int_equal(compute(NULL, 0, (char *[]) { "ALL" }, 1, true), caps_all(40));
}

static void compute_fails(char **add, size_t n_add, char **drop, size_t n_drop, int last,
			  const char *want)
{
	struct caps_opts o = { add, n_add, drop, n_drop, false };
	struct berr *err = NULL;
	uint64_t m = 1;

	assert_int_equal(caps_compute(&o, last, &m, &err), -1);
	assert_int_equal(m, 0);
	assert_int_equal(err->status, EXIT_USAGE);
	if (strstr(err->msg, want) == NULL)
		fail_msg("`%s` does not say `%s`", err->msg, want);
	berr_free(err);
}

static void test_compute_errors(void **state)
{
	(void) state;
	compute_fails((char *[]) { "NET_ADMIN", "CAP_FLY" }, 2, NULL, 0, 40,
		      "--cap-add: unknown capability `CAP_FLY`");
	compute_fails(NULL, 0, (char *[]) { "" }, 1, 40, "--cap-drop: unknown capability ``");
	/* A kernel older than the capability (CAP_BPF is Linux 5.8). */
	compute_fails((char *[]) { "BPF" }, 1, NULL, 0, 37,
		      "--cap-add: capability `CAP_BPF` is not supported by this kernel");
}

static void test_sets(void **state)
{
	struct caps_sets s;

	(void) state;
	caps_sets_for_user(docker_default, 0, &s);
	assert_int_equal(s.bounding, docker_default);
	assert_int_equal(s.effective, docker_default);
	assert_int_equal(s.permitted, docker_default);
	assert_int_equal(s.inheritable, 0);
	assert_int_equal(s.ambient, 0);
	/* Non-root: only the bounding set, as execve leaves a non-root program. */
	caps_sets_for_user(docker_default | B(NET_ADMIN), 1000, &s);
	assert_int_equal(s.bounding, docker_default | B(NET_ADMIN));
	assert_int_equal(s.effective, 0);
	assert_int_equal(s.permitted, 0);
	assert_int_equal(s.inheritable, 0);
	assert_int_equal(s.ambient, 0);
}

/* ---- applying, in a child ---- */

static uint64_t status_mask(const char *field)
{
	char line[256];
	uint64_t v = UINT64_MAX;
	FILE *f = fopen("/proc/self/status", "r");

	if (f == NULL)
		return v;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, field, strlen(field)) == 0)
			v = strtoull(line + strlen(field) + 1, NULL, 16);
	fclose(f);
	return v;
}

/* Child checks; the exit code says which failed. */
static int child_apply(uint32_t uid)
{
	uint32_t groups[] = { 29, 100 }; /* the kernel keeps them sorted */
	struct user_ids id = { uid, uid ? 1000 : 0, uid ? groups : NULL, uid ? 2 : 0, NULL, NULL };
	uint64_t caps = docker_default & caps_all(caps_kernel_last());
	struct berr *err = NULL;
	struct caps_sets s;
	gid_t got[8];

	caps_sets_for_user(caps, uid, &s);
	if (caps_apply(&s, &id, &err) < 0) {
		fprintf(stderr, "caps_apply: %s\n", err->msg);
		return 10;
	}
	if (caps_set_no_new_privs(&err) < 0 || prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		return 11;
	if (getuid() != uid || geteuid() != uid || getgid() != id.gid)
		return 12;
	if (status_mask("CapBnd:") != caps)
		return 13;
	if (status_mask("CapEff:") != (uid ? 0 : caps) || status_mask("CapPrm:") != (uid ? 0 : caps))
		return 14;
	if (status_mask("CapInh:") != 0 || status_mask("CapAmb:") != 0)
		return 15;
	if (getgroups(8, got) != (int) id.n_groups)
		return 16;
	for (size_t i = 0; i < id.n_groups; i++)
		if (got[i] != groups[i])
			return 17;
	/* Dropped from the bounding set: cannot come back. */
	if (prctl(PR_CAPBSET_READ, CAP_SYS_ADMIN, 0, 0, 0) != 0)
		return 18;
	return 0;
}

static void run_child(uint32_t uid)
{
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0)
		_exit(child_apply(uid));
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) != 0)
		fail_msg("child for uid %u failed check %d", uid, WEXITSTATUS(status));
}

static void test_apply(void **state)
{
	(void) state;
	if (geteuid() != 0 || prctl(PR_CAPBSET_READ, CAP_SETPCAP, 0, 0, 0) != 1) {
		print_message("skipped: applying capabilities needs root with CAP_SETPCAP\n");
		skip();
	}
	run_child(0);
	run_child(1000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_default_set),
		cmocka_unit_test(test_kernel_last),
		cmocka_unit_test(test_compute),
		cmocka_unit_test(test_compute_errors),
		cmocka_unit_test(test_sets),
		cmocka_unit_test(test_apply),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
