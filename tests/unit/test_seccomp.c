/* Unit tests for core/runtime/seccomp.c and seccomp_json.c: Docker's JSON profile format and its
 * errors, compiling to BPF, and real filters loaded in forked children: the default profile
 * must refuse namespaces, mounts, module loading and kexec with EPERM while ordinary calls
 * work; capabilities add what they are for; unconfined changes nothing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/err.h"
#include "config.h"
#include "runtime/caps.h"
#include "runtime/seccomp.h"

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif

/* ---- parsing ---- */

static const char full_profile[] =
	"{\n"
	"  \"comment\": \"all the fields\",\n"
	"  \"defaultAction\": \"SCMP_ACT_ERRNO\",\n"
	"  \"defaultErrnoRet\": 38,\n"
	"  \"archMap\": [\n"
	"    { \"architecture\": \"SCMP_ARCH_X86_64\",\n"
	"      \"subArchitectures\": [\"SCMP_ARCH_X86\", \"SCMP_ARCH_X32\"] },\n"
	"    { \"architecture\": \"SCMP_ARCH_AARCH64\", \"subArchitectures\": [\"SCMP_ARCH_ARM\"] }\n"
	"  ],\n"
	"  \"flags\": [\"SECCOMP_FILTER_FLAG_SPEC_ALLOW\"],\n"
	"  \"syscalls\": [\n"
	"    { \"names\": [\"read\", \"write\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": [] },\n"
	"    { \"name\": \"getpid\", \"action\": \"SCMP_ACT_ALLOW\", \"args\": null },\n"
	"    { \"names\": [\"personality\"], \"action\": \"SCMP_ACT_ALLOW\",\n"
	"      \"args\": [{ \"index\": 0, \"value\": 131072, \"valueTwo\": 0, \"op\": \"SCMP_CMP_EQ\" }] },\n"
	"    { \"names\": [\"clone\"], \"action\": \"SCMP_ACT_ALLOW\",\n"
	"      \"args\": [{ \"index\": 0, \"value\": 2114060288, \"valueTwo\": 0,\n"
	"                  \"op\": \"SCMP_CMP_MASKED_EQ\" }],\n"
	"      \"excludes\": { \"caps\": [\"CAP_SYS_ADMIN\"], \"arches\": [\"s390\", \"s390x\"] },\n"
	"      \"comment\": \"s390 has the flags second\" },\n"
	"    { \"names\": [\"ptrace\"], \"action\": \"SCMP_ACT_ALLOW\",\n"
	"      \"includes\": { \"minKernel\": \"4.8\" } },\n"
	"    { \"names\": [\"mount\", \"umount2\"], \"action\": \"SCMP_ACT_ALLOW\",\n"
	"      \"includes\": { \"caps\": [\"CAP_SYS_ADMIN\"] } },\n"
	"    { \"names\": [\"arch_prctl\"], \"action\": \"SCMP_ACT_ALLOW\",\n"
	"      \"includes\": { \"arches\": [\"amd64\", \"x32\"] } },\n"
	"    { \"names\": [\"clone3\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 38 },\n"
	"    { \"names\": [\"kill\"], \"action\": \"SCMP_ACT_KILL_PROCESS\" },\n"
	"    { \"names\": [\"tkill\"], \"action\": \"SCMP_ACT_TRACE\", \"errnoRet\": 7 },\n"
	"    { \"names\": [\"syslog\"], \"action\": \"SCMP_ACT_LOG\" },\n"
	"    { \"names\": [\"reboot\"], \"action\": \"SCMP_ACT_KILL\" },\n"
	"    { \"names\": [\"acct\"], \"action\": \"SCMP_ACT_TRAP\" },\n"
	"    { \"names\": [\"no_such_syscall_anywhere\"], \"action\": \"SCMP_ACT_ALLOW\" }\n"
	"  ]\n"
	"}\n";

static void test_parse_full(void **state)
{
	struct secc_profile p;
	struct berr *err = NULL;

	(void) state;
	if (secc_profile_parse("full.json", full_profile, strlen(full_profile), &p, &err) < 0)
		fail_msg("%s", err->msg);
	assert_int_equal(p.default_action, SECC_ACT_ERRNO);
	assert_int_equal(p.default_errno, 38);
	assert_true(p.arch_map);
	assert_int_equal(p.n_arches, 2);
	assert_int_equal(p.arches[0].n_subs, 2);
	assert_int_equal(p.arches[1].n_subs, 1);
	assert_int_equal(p.flags, 4);
	assert_int_equal(p.n_rules, 14);
	assert_int_equal(p.rules[0].n_names, 2);
	assert_string_equal(p.rules[0].names[1], "write");
	assert_int_equal(p.rules[0].errno_ret, -1);
	assert_string_equal(p.rules[1].names[0], "getpid");
	assert_int_equal(p.rules[2].n_args, 1);
	assert_int_equal(p.rules[2].args[0].value, 131072);
	assert_int_equal(p.rules[2].args[0].op, SECC_OP_EQ);
	assert_int_equal(p.rules[3].args[0].op, SECC_OP_MASKED_EQ);
	assert_int_equal(p.rules[3].excludes_caps, CAPS_BIT(CAP_SYS_ADMIN));
	assert_int_equal(p.rules[3].n_excludes_arches, 2);
	assert_int_equal(p.rules[4].min_kernel, (4u << 16) | 8);
	assert_int_equal(p.rules[5].includes_caps, CAPS_BIT(CAP_SYS_ADMIN));
	assert_int_equal(p.rules[6].n_includes_arches, 2);
	assert_int_equal(p.rules[7].errno_ret, 38);
	assert_int_equal(p.rules[8].action, SECC_ACT_KILL_PROCESS);
	assert_int_equal(p.rules[9].action, SECC_ACT_TRACE);
	assert_int_equal(p.rules[10].action, SECC_ACT_LOG);
	assert_int_equal(p.rules[11].action, SECC_ACT_KILL_THREAD);
	assert_int_equal(p.rules[12].action, SECC_ACT_TRAP);
	if (ENABLE_SECCOMP) {
		/* It compiles: unknown syscalls skipped, rules like the default action dropped. */
		struct secc_filter f;
		if (secc_build(&p, caps_default(), &f, &err) < 0)
			fail_msg("%s", err->msg);
		assert_non_null(f.insns);
		assert_true(f.len > 10);
		assert_int_equal(f.flags, 4);
		secc_filter_free(&f);
	}
	secc_profile_free(&p);

	/* The older flat list of architectures. */
	static const char flat[] = "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":"
				   "[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_X86\"],\"syscalls\":null}";
	assert_int_equal(secc_profile_parse("flat.json", flat, strlen(flat), &p, &err), 0);
	assert_false(p.arch_map);
	assert_int_equal(p.n_arches, 2);
	assert_int_equal(p.n_rules, 0);
	secc_profile_free(&p);
}

static void parse_fails(const char *json, const char *want)
{
	struct secc_profile p;
	struct berr *err = NULL;

	assert_int_equal(secc_profile_parse("t.json", json, strlen(json), &p, &err), -1);
	assert_non_null(err);
	if (strstr(err->msg, want) == NULL)
		fail_msg("`%s` does not say `%s`", err->msg, want);
	assert_non_null(strstr(err->msg, "t.json"));
	assert_int_equal(err->status, EXIT_USAGE);
	assert_null(p.rules);
	assert_null(p.arches);
	berr_free(err);
}

#define DA "\"defaultAction\":\"SCMP_ACT_ERRNO\""

static void test_parse_errors(void **state)
{
	(void) state;
	parse_fails("", "t.json");
	parse_fails("{\"defaultAction\": }", "t.json`: line 1: ");
	parse_fails("[]", "(top): expected an object");
	parse_fails("{}", "defaultAction: expected a string");
	parse_fails("{\"defaultAction\":\"SCMP_ACT_MAYBE\"}", "defaultAction: unknown action `SCMP_ACT_MAYBE`");
	parse_fails("{" DA ",\"sycalls\":[]}", "(top): unknown key `sycalls`");
	parse_fails("{" DA "," DA "}", "duplicate");
	parse_fails("{" DA ",\"defaultErrnoRet\":-1}", "defaultErrnoRet: -1 is out of range");
	parse_fails("{" DA ",\"defaultErrnoRet\":\"1\"}", "defaultErrnoRet: expected an integer");
	parse_fails("{" DA ",\"listenerPath\":\"/run/x.sock\"}", "not supported");
	parse_fails("{\"defaultAction\":\"SCMP_ACT_NOTIFY\"}", "SCMP_ACT_NOTIFY is not supported");
	parse_fails("{" DA ",\"architectures\":[\"SCMP_ARCH_Z80\"]}",
		    "architectures[0]: unknown architecture `SCMP_ARCH_Z80`");
	parse_fails("{" DA ",\"architectures\":[],\"archMap\":[]}", "either");
	parse_fails("{" DA ",\"archMap\":[{\"architecture\":\"SCMP_ARCH_ARM\",\"sub\":[]}]}",
		    "archMap[0]: unknown key `sub`");
	parse_fails("{" DA ",\"archMap\":[{\"architecture\":\"SCMP_ARCH_AARCH64\","
		    "\"subArchitectures\":[\"SCMP_ARCH_ARM\", 7]}]}",
		    "archMap[0].subArchitectures[1]: expected a string");
	parse_fails("{" DA ",\"flags\":[\"SECCOMP_FILTER_FLAG_NEW_LISTENER\"]}",
		    "flags[0]: unknown flag");
	parse_fails("{" DA ",\"syscalls\":{}}", "syscalls: expected an array");
	parse_fails("{" DA ",\"syscalls\":[1]}", "syscalls[0]: expected an object");
	parse_fails("{" DA ",\"syscalls\":[{\"action\":\"SCMP_ACT_ALLOW\"}]}", "syscalls[0]: no `names`");
	parse_fails("{" DA ",\"syscalls\":[{\"names\":[\"read\"]}]}", "syscalls[0].action: expected a string");
	parse_fails("{" DA ",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ALLOW\"},"
		    "{\"names\":[\"\"],\"action\":\"SCMP_ACT_ALLOW\"}]}",
		    "syscalls[1].names[0]: expected a name of 1 to 64 characters");
	parse_fails("{" DA ",\"syscalls\":[{\"names\":[\"re\\u0000ad\"],\"action\":\"SCMP_ACT_ALLOW\"}]}",
		    "\\u0000 is not allowed"); /* jansson refuses NUL in strings */
	parse_fails("{" DA ",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ALLOW\","
		    "\"errnoRet\":1}]}",
		    "syscalls[0].errnoRet: only for SCMP_ACT_ERRNO");
	parse_fails("{" DA ",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ERRNO\","
		    "\"errnoRet\":70000}]}",
		    "syscalls[0].errnoRet: 70000 is out of range 0-65535");
	parse_fails("{" DA ",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ALLOW\","
		    "\"args\":[{\"index\":6,\"value\":1,\"op\":\"SCMP_CMP_EQ\"}]}]}",
		    "syscalls[0].args[0].index: 6 is out of range 0-5");
	parse_fails("{" DA ",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ALLOW\","
		    "\"args\":[{\"index\":0,\"value\":1,\"op\":\"SCMP_CMP_ABOUT\"}]}]}",
		    "syscalls[0].args[0].op: unknown operator `SCMP_CMP_ABOUT`");
	parse_fails("{" DA ",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ALLOW\","
		    "\"args\":[{\"index\":0,\"value\":-1,\"op\":\"SCMP_CMP_EQ\"}]}]}",
		    "syscalls[0].args[0].value: -1 is out of range");
	parse_fails("{" DA ",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ALLOW\","
		    "\"args\":[{\"index\":0,\"op\":\"SCMP_CMP_EQ\",\"valueThree\":1}]}]}",
		    "syscalls[0].args[0]: unknown key `valueThree`");
	parse_fails("{" DA ",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ALLOW\","
		    "\"args\":[{\"index\":0,\"op\":\"SCMP_CMP_EQ\"},{\"index\":1,\"op\":\"SCMP_CMP_EQ\"},"
		    "{\"index\":2,\"op\":\"SCMP_CMP_EQ\"},{\"index\":3,\"op\":\"SCMP_CMP_EQ\"},"
		    "{\"index\":4,\"op\":\"SCMP_CMP_EQ\"},{\"index\":5,\"op\":\"SCMP_CMP_EQ\"},"
		    "{\"index\":0,\"op\":\"SCMP_CMP_EQ\"}]}]}",
		    "syscalls[0].args: more than 6 conditions");
	parse_fails("{" DA ",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ALLOW\","
		    "\"includes\":{\"caps\":[\"CAP_FLY\"]}}]}",
		    "syscalls[0].includes.caps[0]: unknown capability `CAP_FLY`");
	parse_fails("{" DA ",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ALLOW\","
		    "\"includes\":{\"minKernel\":\"four\"}}]}",
		    "syscalls[0].includes.minKernel: `four` is not a kernel version");
	parse_fails("{" DA ",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ALLOW\","
		    "\"excludes\":{\"minKernel\":\"4.8\"}}]}",
		    "syscalls[0].excludes.minKernel: only allowed in `includes`");
	parse_fails("{" DA ",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ALLOW\","
		    "\"includes\":{\"kernel\":\"4.8\"}}]}",
		    "syscalls[0].includes: unknown key `kernel`");
}

static void test_parse_limits(void **state)
{
	struct secc_profile p;
	struct berr *err = NULL;
	size_t cap = SECC_PROFILE_MAX + 64, len;
	char *big = malloc(cap);

	(void) state;
	assert_non_null(big);
	/* Too many names in one entry. */
	len = (size_t) snprintf(big, cap, "{" DA ",\"syscalls\":[{\"action\":\"SCMP_ACT_ALLOW\","
				"\"names\":[");
	for (unsigned i = 0; i <= SECC_NAMES_MAX; i++)
		len += (size_t) snprintf(big + len, cap - len, "%s\"n%u\"", i ? "," : "", i);
	len += (size_t) snprintf(big + len, cap - len, "]}]}");
	assert_int_equal(secc_profile_parse("t.json", big, len, &p, &err), -1);
	assert_non_null(strstr(err->msg, "syscalls[0].names: more than 1024 entries"));
	berr_free(err);
	err = NULL;
	/* Too large a document, whatever it holds. */
	memset(big, ' ', SECC_PROFILE_MAX + 1);
	assert_int_equal(secc_profile_parse("t.json", big, SECC_PROFILE_MAX + 1, &p, &err), -1);
	assert_non_null(strstr(err->msg, "larger than"));
	berr_free(err);
	free(big);
}

static void test_opts_and_kernel_version(void **state)
{
	enum secc_mode mode = SECC_MODE_DEFAULT;
	struct berr *err = NULL;
	const char *path = NULL;

	(void) state;
	assert_int_equal(secc_parse_opt("unconfined", &mode, &path, &err), 0);
	assert_int_equal(mode, SECC_MODE_UNCONFINED);
	assert_null(path);
	assert_int_equal(secc_parse_opt("/etc/berth/p.json", &mode, &path, &err), 0);
	assert_int_equal(mode, SECC_MODE_PROFILE);
	assert_string_equal(path, "/etc/berth/p.json");
	assert_int_equal(secc_parse_opt("", &mode, &path, &err), -1);
	assert_int_equal(err->status, EXIT_USAGE);
	berr_free(err);

	assert_int_equal(secc_kernel_version("4.8"), (4u << 16) | 8);
	assert_int_equal(secc_kernel_version("6.1.0-13-arm64"), (6u << 16) | 1);
	assert_int_equal(secc_kernel_version("5"), 5u << 16);
	assert_int_equal(secc_kernel_version("x"), 0);
	assert_int_equal(secc_kernel_version("4."), 0);
	assert_int_equal(secc_kernel_version(""), 0);
}

static void test_profile_file(void **state)
{
	char path[] = "/tmp/berth-test-seccomp.XXXXXX";
	static const char doc[] = "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":"
				  "[{\"names\":[\"getppid\"],\"action\":\"SCMP_ACT_ERRNO\"}]}";
	struct secc_filter f;
	struct berr *err = NULL;
	int fd = mkstemp(path);

	(void) state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, doc, strlen(doc)), (ssize_t) strlen(doc));
	close(fd);
	if (ENABLE_SECCOMP) {
		assert_int_equal(secc_filter_for(SECC_MODE_PROFILE, path, 0, &f, &err), 0);
		assert_non_null(f.insns);
		secc_filter_free(&f);
		assert_int_equal(secc_filter_for(SECC_MODE_PROFILE, "/nonexistent.json", 0, &f, &err), -1);
		assert_int_equal(err->status, EXIT_USAGE);
		assert_non_null(strstr(err->msg, "/nonexistent.json"));
		berr_free(err);
	} else {
		/* A build without seccomp says so when asked for a profile... */
		assert_int_equal(secc_filter_for(SECC_MODE_PROFILE, path, 0, &f, &err), -1);
		assert_non_null(strstr(err->msg, "built without seccomp"));
		berr_free(err);
		/* ...and runs unconfined by default. */
		assert_int_equal(secc_filter_for(SECC_MODE_DEFAULT, NULL, 0, &f, &err), 0);
		assert_null(f.insns);
	}
	assert_int_equal(secc_filter_for(SECC_MODE_UNCONFINED, NULL, 0, &f, &err), 0);
	assert_null(f.insns);
	assert_int_equal(f.len, 0);
	unlink(path);
}

/* ---- real filters in children ---- */

/* Each check in the child returns its number on failure. */
#define CHECK(n, cond)                                                                      \
	do {                                                                                \
		if (!(cond)) {                                                              \
			fprintf(stderr, "check %d failed: %s (errno %d)\n", n, #cond, errno); \
			return n;                                                           \
		}                                                                           \
	} while (0)

static bool fails_with(long ret, int e)
{
	return ret == -1 && errno == e;
}

static int default_checks(void)
{
	int fds[2], status;
	pid_t pid;
	long r;

	/* Ordinary work. */
	CHECK(1, getpid() > 0);
	CHECK(2, pipe(fds) == 0 && write(fds[1], "x", 1) == 1);
	CHECK(3, socket(AF_UNIX, SOCK_STREAM, 0) >= 0);
	pid = fork(); /* clone without namespace flags */
	if (pid == 0)
		_exit(7);
	CHECK(4, pid > 0 && waitpid(pid, &status, 0) == pid && WEXITSTATUS(status) == 7);
	CHECK(5, personality(0xffffffff) >= 0);
	/* What the profile refuses. */
	CHECK(10, fails_with(unshare(CLONE_NEWUSER), EPERM));
	CHECK(11, fails_with(unshare(0), EPERM));
	CHECK(12, fails_with(mount("none", "/nonexistent-berth", "tmpfs", 0, NULL), EPERM));
	CHECK(13, fails_with(umount2("/nonexistent-berth", 0), EPERM));
	CHECK(14, fails_with(syscall(SYS_init_module, NULL, 0, ""), EPERM));
	CHECK(15, fails_with(syscall(SYS_finit_module, -1, "", 0), EPERM));
	CHECK(16, fails_with(syscall(SYS_kexec_load, 0, 0, NULL, 0), EPERM));
	CHECK(17, fails_with(syscall(SYS_setns, -1, 0), EPERM));
	CHECK(18, fails_with(syscall(SYS_reboot, 0, 0, 0, NULL), EPERM));
	CHECK(19, fails_with(socket(AF_VSOCK, SOCK_STREAM, 0), EPERM));
	CHECK(20, fails_with(personality(0x0040000 /* ADDR_NO_RANDOMIZE */), EPERM));
#ifdef SYS_clone3
	/* clone3 looks absent, so libcs fall back to clone. */
	CHECK(21, fails_with(syscall(SYS_clone3, NULL, 0), ENOSYS));
#endif
	/* Namespace flags in clone. */
	r = syscall(SYS_clone, (unsigned long) CLONE_NEWNET | SIGCHLD, NULL, NULL, NULL, NULL);
	if (r == 0)
		_exit(0);
	CHECK(22, fails_with(r, EPERM));
	return 0;
}

/* With CAP_SYS_ADMIN in the bounding set, mount and unshare reach the kernel. */
static int sys_admin_checks(void)
{
	CHECK(30, unshare(0) == 0);
	CHECK(31, fails_with(mount("none", "/nonexistent-berth", "tmpfs", MS_REMOUNT, NULL), ENOENT));
	/* Still no module loading: that is CAP_SYS_MODULE's. */
	CHECK(32, fails_with(syscall(SYS_init_module, NULL, 0, ""), EPERM));
#ifdef SYS_clone3
	CHECK(33, !fails_with(syscall(SYS_clone3, NULL, 0), ENOSYS));
#endif
	return 0;
}

static int unconfined_checks(void)
{
	CHECK(40, unshare(0) == 0);
#ifdef SYS_clone3
	CHECK(41, !fails_with(syscall(SYS_clone3, NULL, 0), ENOSYS));
#endif
	CHECK(42, !fails_with(socket(AF_VSOCK, SOCK_STREAM, 0), EPERM) || geteuid() != 0);
	return 0;
}

static int custom_checks(void)
{
	CHECK(50, fails_with(syscall(SYS_getppid), 99));
	CHECK(51, fails_with(dup(1000), EPERM));
	CHECK(52, dup(0) >= 0);
	/* Conditions on the same argument are alternatives. */
	CHECK(53, fails_with(dup2(0, 500), EPERM));
	CHECK(54, fails_with(dup2(0, 501), EPERM));
	CHECK(55, dup2(0, 502) == 502);
	/* Included only with CAP_SYS_ADMIN, which this child has not. */
	CHECK(56, fails_with(mkdir("/nonexistent-berth/x", 0755), ENOENT));
	/* excludes: not with CAP_CHOWN, which it has. */
	CHECK(57, fails_with(rmdir("/nonexistent-berth/x"), ENOENT));
	return 0;
}

static void run_filtered(const struct secc_filter *f, int (*checks)(void))
{
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		struct berr *err = NULL;
		if (caps_set_no_new_privs(&err) < 0 || secc_apply(f, &err) < 0) {
			fprintf(stderr, "%s\n", err->msg);
			_exit(99);
		}
		_exit(checks());
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status))
		fail_msg("child killed by signal %d", WTERMSIG(status));
	if (WEXITSTATUS(status) != 0)
		fail_msg("child failed check %d", WEXITSTATUS(status));
}

static void test_default_filter(void **state)
{
	struct secc_filter f;
	struct berr *err = NULL;

	(void) state;
	if (!ENABLE_SECCOMP)
		skip();
	if (secc_build(NULL, caps_default(), &f, &err) < 0)
		fail_msg("%s", err->msg);
	assert_non_null(f.insns);
	assert_true(f.len > 100);
	assert_true(f.len <= BPF_MAXINSNS);
	/* A real BPF program ends in returns. */
	assert_int_equal(BPF_CLASS(f.insns[f.len - 1].code), BPF_RET);
	run_filtered(&f, default_checks);
	secc_filter_free(&f);

	if (secc_build(NULL, caps_default() | CAPS_BIT(CAP_SYS_ADMIN), &f, &err) < 0)
		fail_msg("%s", err->msg);
	if (geteuid() == 0)
		run_filtered(&f, sys_admin_checks);
	secc_filter_free(&f);

	/* secc_filter_for gives the same for DEFAULT. */
	assert_int_equal(secc_filter_for(SECC_MODE_DEFAULT, NULL, caps_default(), &f, &err), 0);
	run_filtered(&f, default_checks);
	secc_filter_free(&f);
}

static void test_unconfined(void **state)
{
	struct secc_filter f;
	struct berr *err = NULL;

	(void) state;
	if (geteuid() != 0)
		skip(); /* unshare(0) and vsock need nothing, but keep the checks honest */
	assert_int_equal(secc_filter_for(SECC_MODE_UNCONFINED, NULL, 0, &f, &err), 0);
	run_filtered(&f, unconfined_checks);
	secc_filter_free(&f);
}

static void test_custom_filter(void **state)
{
	static const char doc[] =
		"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":["
		"{\"names\":[\"getppid\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":99},"
		"{\"names\":[\"dup\"],\"action\":\"SCMP_ACT_ERRNO\","
		" \"args\":[{\"index\":0,\"value\":1000,\"op\":\"SCMP_CMP_EQ\"}]},"
		"{\"names\":[\"dup2\"],\"action\":\"SCMP_ACT_ERRNO\","
		" \"args\":[{\"index\":1,\"value\":500,\"op\":\"SCMP_CMP_EQ\"},"
		"           {\"index\":1,\"value\":501,\"op\":\"SCMP_CMP_EQ\"}]},"
		"{\"names\":[\"mkdir\",\"mkdirat\"],\"action\":\"SCMP_ACT_ERRNO\","
		" \"includes\":{\"caps\":[\"CAP_SYS_ADMIN\"]}},"
		"{\"names\":[\"rmdir\",\"unlinkat\"],\"action\":\"SCMP_ACT_ERRNO\","
		" \"excludes\":{\"caps\":[\"CAP_CHOWN\"]}},"
		"{\"names\":[\"getpid\"],\"action\":\"SCMP_ACT_ALLOW\"}"
		"]}";
	struct secc_profile p;
	struct secc_filter f;
	struct berr *err = NULL;

	(void) state;
	if (!ENABLE_SECCOMP)
		skip();
	if (secc_profile_parse("custom.json", doc, strlen(doc), &p, &err) < 0)
		fail_msg("%s", err->msg);
	if (secc_build(&p, caps_default(), &f, &err) < 0)
		fail_msg("%s", err->msg);
	run_filtered(&f, custom_checks);
	secc_filter_free(&f);
	secc_profile_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_full),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_parse_limits),
		cmocka_unit_test(test_opts_and_kernel_version),
		cmocka_unit_test(test_profile_file),
		cmocka_unit_test(test_default_filter),
		cmocka_unit_test(test_unconfined),
		cmocka_unit_test(test_custom_filter),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
