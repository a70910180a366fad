/* Unit tests for core/image/platform.c: uname machines and cpuinfo of real ARM boards
 * (tests/data/cpuinfo/), --platform strings, and choosing from an index. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/fs.h"
#include "image/manifest.h"
#include "image/platform.h"

#define CPUINFO "tests/data/cpuinfo/"

static void expect_machine(const char *machine, const char *cpuinfo, const char *want)
{
	char buf[PLATFORM_STR_SIZE];
	struct berr *err = NULL;
	struct platform p;

	if (platform_from_machine(machine, cpuinfo, &p, &err) < 0)
		fail_msg("%s + %s: %s", machine, cpuinfo ? cpuinfo : "-", err->msg);
	if (strcmp(platform_format(&p, buf), want) != 0)
		fail_msg("%s + %s: %s, want %s", machine, cpuinfo ? cpuinfo : "-", buf, want);
}

static void test_machines(void **state)
{
	(void) state;
	expect_machine("x86_64", NULL, "linux/amd64");
	expect_machine("i686", NULL, "linux/386");
	expect_machine("i386", NULL, "linux/386");
	expect_machine("aarch64", NULL, "linux/arm64/v8");
	expect_machine("aarch64", CPUINFO "rpi4-armv8.txt", "linux/arm64/v8");
	expect_machine("riscv64", NULL, "linux/riscv64");
	expect_machine("ppc64le", NULL, "linux/ppc64le");
	expect_machine("s390x", NULL, "linux/s390x");
	expect_machine("mipsel", NULL, "linux/mipsle");
	expect_machine("mips64el", NULL, "linux/mips64le");
	expect_machine("loongarch64", NULL, "linux/loong64");
	/* 32-bit ARM from the machine name alone. */
	expect_machine("armv5tel", NULL, "linux/arm/v5");
	expect_machine("armv6l", NULL, "linux/arm/v6");
	expect_machine("armv7l", NULL, "linux/arm/v7");
	expect_machine("armv8l", NULL, "linux/arm/v8");
	expect_machine("arm", NULL, "linux/arm/v7");
	/* A missing cpuinfo is fine. */
	expect_machine("armv7l", CPUINFO "no-such-file", "linux/arm/v7");
}

static void test_cpuinfo_boards(void **state)
{
	(void) state;
	/* Raspberry Pi Zero: the kernel says "CPU architecture: 7" but it is an ARMv6. */
	expect_machine("armv6l", CPUINFO "rpi-zero-armv6.txt", "linux/arm/v6");
	expect_machine("arm", CPUINFO "rpi-zero-armv6.txt", "linux/arm/v6");
	/* Raspberry Pi 3 with a 32-bit OS. */
	expect_machine("armv7l", CPUINFO "rpi3-armv7.txt", "linux/arm/v7");
	expect_machine("arm", CPUINFO "rpi3-armv7.txt", "linux/arm/v7");
	/* 32-bit userland on a 64-bit kernel (Pi 4). */
	expect_machine("armv8l", CPUINFO "rpi4-armv8.txt", "linux/arm/v8");
	/* The lower of the two wins: a v7 kernel name on a v8 CPU is v7. */
	expect_machine("armv7l", CPUINFO "rpi4-armv8.txt", "linux/arm/v7");
	/* ARM926EJ-S: "CPU architecture: 5TEJ". */
	expect_machine("arm", CPUINFO "at91-armv5.txt", "linux/arm/v5");
	expect_machine("armv5tejl", CPUINFO "at91-armv5.txt", "linux/arm/v5");
}

static void test_bad_machines(void **state)
{
	static const struct {
		const char *machine, *msg;
	} bad[] = {
		{ "vax", "not an architecture berth knows" },
		{ "", "not an architecture berth knows" },
		{ "armv7b", "big-endian" },
		{ "armeb", "big-endian" },
		{ "armv4tl", "older than any OCI arm variant" },
		{ "armaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "not an architecture" },
	};
	struct platform p;

	(void) state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct berr *err = NULL;
		assert_int_equal(platform_from_machine(bad[i].machine, NULL, &p, &err), -1);
		if (strstr(err->msg, bad[i].msg) == NULL)
			fail_msg("%s: `%s` does not say `%s`", bad[i].machine, err->msg, bad[i].msg);
		berr_free(err);
	}
}

static void test_detect(void **state)
{
	struct berr *err = NULL;
	struct platform p;

	(void) state;
	/* Whatever this machine is, it is a Linux berth knows. */
	if (platform_detect(NULL, &p, &err) < 0)
		fail_msg("%s", err->msg);
	assert_string_equal(p.os, "linux");
	assert_true(p.arch[0] != '\0');
}

static void expect_parse(const char *in, const char *want)
{
	char buf[PLATFORM_STR_SIZE];
	struct berr *err = NULL;
	struct platform p;

	if (platform_parse(in, &p, &err) < 0)
		fail_msg("%s: %s", in, err->msg);
	if (strcmp(platform_format(&p, buf), want) != 0)
		fail_msg("%s: %s, want %s", in, buf, want);
}

static void test_parse(void **state)
{
	static const char *bad[] = {
		"linux", "linux/", "/arm", "linux/arm/", "linux/arm/v7/x", "", "linux//v7",
		"linux/arm v7", "linux/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		"linux/arm/v7aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	};
	struct platform p;

	(void) state;
	expect_parse("linux/arm/v7", "linux/arm/v7");
	expect_parse("linux/arm/7", "linux/arm/v7");
	expect_parse("linux/arm", "linux/arm/v7");
	expect_parse("linux/armhf", "linux/arm/v7");
	expect_parse("linux/armel", "linux/arm/v6");
	expect_parse("linux/arm64", "linux/arm64/v8");
	expect_parse("linux/arm64/v8", "linux/arm64/v8");
	expect_parse("linux/aarch64", "linux/arm64/v8");
	expect_parse("linux/x86_64", "linux/amd64");
	expect_parse("Linux/AMD64", "linux/amd64");
	expect_parse("linux/amd64/v3", "linux/amd64/v3");
	expect_parse("linux/i386", "linux/386");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct berr *err = NULL;
		if (platform_parse(bad[i], &p, &err) != -1)
			fail_msg("`%s` was accepted", bad[i]);
		assert_int_equal(err->status, EXIT_USAGE);
		berr_free(err);
	}
}

static struct platform plat(const char *s)
{
	struct platform p;

	assert_int_equal(platform_parse(s, &p, NULL), 0);
	return p;
}

static void test_rank(void **state)
{
	struct platform v7 = plat("linux/arm/v7"), v6 = plat("linux/arm/v6");
	struct platform v5 = plat("linux/arm/v5"), v8 = plat("linux/arm/v8");
	struct platform a64 = plat("linux/arm64"), amd = plat("linux/amd64");
	struct platform amd3 = plat("linux/amd64/v3");
	struct platform win = plat("windows/amd64");
	struct platform a64_bare = { "linux", "arm64", "" };

	(void) state;
	assert_int_equal(platform_rank(&v7, &v7), 0);
	assert_int_equal(platform_rank(&v7, &v6), 1);
	assert_int_equal(platform_rank(&v7, &v5), 2);
	assert_int_equal(platform_rank(&v7, &v8), -1);
	assert_int_equal(platform_rank(&v6, &v7), -1);
	assert_int_equal(platform_rank(&v8, &v5), 3);
	assert_int_equal(platform_rank(&v7, &a64), -1);
	assert_int_equal(platform_rank(&a64, &v7), -1);
	/* arm64 with no variant is v8. */
	assert_int_equal(platform_rank(&a64, &a64_bare), 0);
	assert_int_equal(platform_rank(&a64_bare, &a64), 0);
	assert_int_equal(platform_rank(&amd, &amd), 0);
	assert_int_equal(platform_rank(&amd, &amd3), -1);
	assert_int_equal(platform_rank(&amd3, &amd), 1);
	assert_int_equal(platform_rank(&amd, &win), -1);
}

static void parse_index(const char *name, struct manifest *m)
{
	char path[256], *data = NULL;
	struct berr *err = NULL;
	size_t len;

	snprintf(path, sizeof(path), "tests/data/manifests/%s", name);
	if (fs_read_file(path, 1 << 20, &data, &len, &err) < 0 ||
	    manifest_parse(data, len, NULL, m, &err) < 0)
		fail_msg("%s: %s", name, err->msg);
	free(data);
}

static size_t select_for(const struct manifest *m, const char *want)
{
	struct platform p = plat(want);
	struct berr *err = NULL;
	size_t i = 999;

	if (platform_select(&p, m->manifests, m->n_manifests, &i, &err) < 0)
		fail_msg("%s: %s", want, err->msg);
	return i;
}

static void test_select(void **state)
{
	struct berr *err = NULL;
	struct platform p;
	struct manifest m;
	size_t i;

	(void) state;
	/* amd64, arm/v5, arm/v7, arm64/v8, 386, mips64le, ppc64le, s390x */
	parse_index("docker-list.json", &m);
	assert_int_equal(select_for(&m, "linux/amd64"), 0);
	assert_int_equal(select_for(&m, "linux/arm/v7"), 2);
	assert_int_equal(select_for(&m, "linux/arm/v8"), 2);
	assert_int_equal(select_for(&m, "linux/arm/v6"), 1);
	assert_int_equal(select_for(&m, "linux/arm/v5"), 1);
	assert_int_equal(select_for(&m, "linux/arm64"), 3);
	assert_int_equal(select_for(&m, "linux/s390x"), 7);
	p = plat("linux/riscv64");
	assert_int_equal(platform_select(&p, m.manifests, m.n_manifests, &i, &err), -1);
	assert_non_null(strstr(err->msg, "no image for platform linux/riscv64; the image offers: "
					 "linux/amd64, linux/arm/v5, linux/arm/v7, linux/arm64/v8"));
	berr_free(err);
	err = NULL;
	manifest_free(&m);

	/* amd64, arm/v6, arm/v7, arm64/v8, riscv64, then two attestations (unknown/unknown). */
	parse_index("oci-index.json", &m);
	assert_int_equal(select_for(&m, "linux/arm/v7"), 2);
	assert_int_equal(select_for(&m, "linux/arm/v6"), 1);
	assert_int_equal(select_for(&m, "linux/riscv64"), 4);
	p = plat("linux/arm/v5");
	assert_int_equal(platform_select(&p, m.manifests, m.n_manifests, &i, &err), -1);
	assert_null(strstr(err->msg, "unknown"));
	berr_free(err);
	err = NULL;
	/* Entries without a platform, or that are indexes, are never chosen. */
	m.manifests[2].has_platform = false;
	assert_int_equal(select_for(&m, "linux/arm/v7"), 1);
	free(m.manifests[1].media_type);
	m.manifests[1].media_type = strdup(MT_OCI_INDEX);
	p = plat("linux/arm/v7");
	assert_int_equal(platform_select(&p, m.manifests, m.n_manifests, &i, &err), -1);
	berr_free(err);
	manifest_free(&m);

	/* An empty index. */
	err = NULL;
	assert_int_equal(platform_select(&p, NULL, 0, &i, &err), -1);
	assert_non_null(strstr(err->msg, "no platforms"));
	berr_free(err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_machines),
		cmocka_unit_test(test_cpuinfo_boards),
		cmocka_unit_test(test_bad_machines),
		cmocka_unit_test(test_detect),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_rank),
		cmocka_unit_test(test_select),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
