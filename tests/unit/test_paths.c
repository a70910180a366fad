/* Unit tests for core/base/paths.c: the root and run dir, every builder's output, and the
 * validation of path components that come from outside. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <string.h>

#include "base/paths.h"

static int reset(void **state)
{
	(void) state;
	assert_int_equal(paths_init("/data/berth", "/run/b"), 0);
	return 0;
}

static void test_defaults(void **state)
{
	(void) state;
	assert_int_equal(paths_init(NULL, NULL), 0);
	assert_string_equal(paths_root(), PATHS_DEFAULT_ROOT);
	assert_string_equal(paths_run_dir(), PATHS_DEFAULT_RUN_DIR);
}

static void test_init_absolute_only(void **state)
{
	(void) state;
	errno = 0;
	assert_int_equal(paths_init("data/berth", "/run/b"), -1);
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_int_equal(paths_init("/data", "run"), -1);
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_int_equal(paths_init("", "/run"), -1);
	assert_int_equal(errno, EINVAL);
	/* A failed init changes nothing. */
	assert_string_equal(paths_root(), "/data/berth");
	assert_string_equal(paths_run_dir(), "/run/b");
}

static void test_init_strips_trailing_slashes(void **state)
{
	char buf[PATH_MAX];

	(void) state;
	assert_int_equal(paths_init("/data/berth///", "/run/b/"), 0);
	assert_string_equal(paths_root(), "/data/berth");
	assert_string_equal(paths_run_dir(), "/run/b");
	assert_int_equal(paths_refs(buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/data/berth/refs.json");
	/* "/" stays "/". */
	assert_int_equal(paths_init("/", "//"), 0);
	assert_string_equal(paths_root(), "/");
	assert_string_equal(paths_run_dir(), "/");
}

static void test_init_too_long(void **state)
{
	char big[PATH_MAX + 10];

	(void) state;
	memset(big, 'a', sizeof(big) - 1);
	big[0] = '/';
	big[sizeof(big) - 1] = '\0';
	errno = 0;
	assert_int_equal(paths_init(big, "/run"), -1);
	assert_int_equal(errno, ENAMETOOLONG);
	errno = 0;
	assert_int_equal(paths_init("/data", big), -1);
	assert_int_equal(errno, ENAMETOOLONG);
	assert_string_equal(paths_root(), "/data/berth");
	/* PATH_MAX - 1 bytes still fit. */
	big[PATH_MAX - 1] = '\0';
	assert_int_equal(paths_init(big, "/run"), 0);
	assert_int_equal(strlen(paths_root()), PATH_MAX - 1);
}

static void test_builders(void **state)
{
	char buf[PATH_MAX];

	(void) state;
	assert_int_equal(paths_blobs_dir(buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/data/berth/blobs/sha256");
	assert_int_equal(paths_blob(buf, sizeof(buf), "abc123"), 0);
	assert_string_equal(buf, "/data/berth/blobs/sha256/abc123");
	assert_int_equal(paths_layers_dir(buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/data/berth/layers");
	assert_int_equal(paths_layer(buf, sizeof(buf), "c0ffee"), 0);
	assert_string_equal(buf, "/data/berth/layers/c0ffee.sqfs");
	assert_int_equal(paths_layer_dir(buf, sizeof(buf), "c0ffee"), 0);
	assert_string_equal(buf, "/data/berth/layers/c0ffee");
	assert_int_equal(paths_refs(buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/data/berth/refs.json");
	assert_int_equal(paths_containers_dir(buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/data/berth/containers");
	assert_int_equal(paths_container(buf, sizeof(buf), "web"), 0);
	assert_string_equal(buf, "/data/berth/containers/web");
	assert_int_equal(paths_volume(buf, sizeof(buf), "db"), 0);
	assert_string_equal(buf, "/data/berth/volumes/db/_data");
	assert_int_equal(paths_state(buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/data/berth/state.json");
	assert_int_equal(paths_last_shutdown(buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/data/berth/last-shutdown");
	assert_int_equal(paths_tmp_dir(buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/data/berth/tmp");
	assert_int_equal(paths_partial(buf, sizeof(buf), "ff00"), 0);
	assert_string_equal(buf, "/data/berth/tmp/ff00.partial");
	assert_int_equal(paths_socket(buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/run/b/berth.sock");
	assert_int_equal(paths_layer_mount(buf, sizeof(buf), "c0ffee"), 0);
	assert_string_equal(buf, "/run/b/layers/c0ffee");
}

typedef int (*builder_fn)(char *, size_t, const char *);

static const builder_fn component_builders[] = {
	paths_blob, paths_layer, paths_layer_dir, paths_container,
	paths_volume, paths_partial, paths_layer_mount,
};

static void test_component_validation(void **state)
{
	char name256[257], name255[256], buf[PATH_MAX];
	const char *bad[] = { "", ".", "..", "a/b", "/abs", "trailing/", name256 };

	(void) state;
	memset(name256, 'x', 256);
	name256[256] = '\0';
	memset(name255, 'x', 255);
	name255[255] = '\0';

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(paths_component_ok(bad[i]), 0);
	assert_int_equal(paths_component_ok(name255), 1);
	assert_int_equal(paths_component_ok("..."), 1);
	assert_int_equal(paths_component_ok(".hidden"), 1);
	assert_int_equal(paths_component_ok("a..b"), 1);

	for (size_t b = 0; b < sizeof(component_builders) / sizeof(component_builders[0]); b++) {
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			errno = 0;
			assert_int_equal(component_builders[b](buf, sizeof(buf), bad[i]), -1);
			assert_int_equal(errno, EINVAL);
		}
		assert_int_equal(component_builders[b](buf, sizeof(buf), name255), 0);
		assert_non_null(strstr(buf, name255));
	}
}

static void test_result_too_long(void **state)
{
	char small[20];

	(void) state;
	/* "/data/berth/containers/web" is 26 bytes. */
	memset(small, 'Z', sizeof(small));
	errno = 0;
	assert_int_equal(paths_container(small, sizeof(small), "web"), -1);
	assert_int_equal(errno, ENAMETOOLONG);
	assert_string_equal(small, "");
	errno = 0;
	assert_int_equal(paths_state(small, sizeof(small)), -1);
	assert_int_equal(errno, ENAMETOOLONG);
	errno = 0;
	assert_int_equal(paths_socket(small, 17), -1); /* "/run/b/berth.sock" + NUL is 18 */
	assert_int_equal(errno, ENAMETOOLONG);
	assert_int_equal(paths_socket(small, 18), 0);
	assert_string_equal(small, "/run/b/berth.sock");
	/* A zero-size buffer is not written to. */
	errno = 0;
	assert_int_equal(paths_refs(NULL, 0), -1);
	assert_int_equal(errno, ENAMETOOLONG);
}

static void test_long_root_makes_builders_fail(void **state)
{
	char root[PATH_MAX], buf[PATH_MAX];

	(void) state;
	memset(root, 'r', sizeof(root) - 1);
	root[0] = '/';
	root[PATH_MAX - 10] = '\0';
	assert_int_equal(paths_init(root, "/run"), 0);
	errno = 0;
	assert_int_equal(paths_containers_dir(buf, sizeof(buf)), -1);
	assert_int_equal(errno, ENAMETOOLONG);
	errno = 0;
	assert_int_equal(paths_blob(buf, sizeof(buf), "abc"), -1);
	assert_int_equal(errno, ENAMETOOLONG);
	/* The bad component is reported before the length. */
	errno = 0;
	assert_int_equal(paths_blob(buf, sizeof(buf), ".."), -1);
	assert_int_equal(errno, EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_defaults, reset),
		cmocka_unit_test_setup(test_init_absolute_only, reset),
		cmocka_unit_test_setup(test_init_strips_trailing_slashes, reset),
		cmocka_unit_test_setup(test_init_too_long, reset),
		cmocka_unit_test_setup(test_builders, reset),
		cmocka_unit_test_setup(test_component_validation, reset),
		cmocka_unit_test_setup(test_result_too_long, reset),
		cmocka_unit_test_setup(test_long_root_makes_builders_fail, reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
