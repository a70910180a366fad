/* Unit tests for core/image/digest.c: known SHA-256 vectors, streaming in pieces, files,
 * digest string parsing, and chain ids checked against values computed independently. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "image/digest.h"

#define EMPTY "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define ABC "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
/* sha256 of "layer0", "layer1", "layer2": diff ids for the chain id test. */
#define L0 "sha256:4fbec69b941195fd56f8212a5000e304129451d82efca94ff0e0fb2d5355472e"
#define L1 "sha256:77ea7eee3d80b1a38f83906dd3048e2689457eb90e18a7d12f839c5ae37106a2"
#define L2 "sha256:95cf1a2e1698fe3ca1fcc3f653119146b271d0b62e487ec264441e886a11bd06"
#define X100K "d69e68988157833272305aaf21f453c800346e8a3640db6578e260215542e5d4"

static void test_buffer_vectors(void **state)
{
	struct digest d;

	(void) state;
	assert_int_equal(digest_buffer("", 0, &d, NULL), 0);
	assert_string_equal(d.hex, EMPTY);
	assert_int_equal(digest_buffer("abc", 3, &d, NULL), 0);
	assert_string_equal(d.hex, ABC);
}

static void test_streaming(void **state)
{
	struct digest_ctx ctx;
	struct digest d;
	char *big = malloc(100000);

	(void) state;
	assert_non_null(big);
	memset(big, 'x', 100000);
	digest_init(&ctx);
	/* Odd-sized pieces cross the 64-byte block boundary in every way. */
	for (size_t off = 0, step = 1; off < 100000; off += step, step = step * 3 % 997 + 1)
		digest_update(&ctx, big + off, off + step > 100000 ? 100000 - off : step);
	assert_int_equal(ctx.size, 100000);
	assert_int_equal(digest_final(&ctx, &d, NULL), 0);
	assert_string_equal(d.hex, X100K);
	digest_ctx_free(&ctx); /* harmless after final */
	free(big);

	/* A context dropped without finishing. */
	digest_init(&ctx);
	digest_update(&ctx, "abc", 3);
	digest_ctx_free(&ctx);
}

/* Hash `len` bytes of `data` in pieces of varying size, with or without the CPU's SHA
 * instructions. */
static void hash_pieces(const unsigned char *data, size_t len, bool accel, struct digest *d)
{
	struct digest_ctx ctx;
	bool was = digest_set_accel(accel);

	digest_init(&ctx);
	for (size_t off = 0, step = 1; off < len; off += step, step = step * 7 % 211 + 1)
		digest_update(&ctx, data + off, off + step > len ? len - off : step);
	assert_int_equal(digest_final(&ctx, d, NULL), 0);
	digest_set_accel(was);
}

/* The SHA-instruction path (where the CPU has one) and mbedtls give the same digests, for
 * every length around the padding boundaries and for long inputs, whole or in pieces. */
static void test_accel_matches_software(void **state)
{
	static const char two[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	unsigned char *data = malloc(70000);
	struct digest a, b;
	uint32_t x = 12345;
	bool have;

	(void) state;
	assert_non_null(data);
	for (size_t i = 0; i < 70000; i++) {
		x = x * 1103515245u + 12345u;
		data[i] = (unsigned char) (x >> 16);
	}
	have = digest_set_accel(true);
	if (!have)
		print_message("no SHA instructions on this CPU: both paths are mbedtls\n");
	for (int accel = 0; accel < 2; accel++) {
		bool was = digest_set_accel(accel);

		assert_int_equal(digest_buffer(two, strlen(two), &a, NULL), 0);
		assert_string_equal(a.hex, "248d6a61d20638b8e5c026930c3e6039"
					   "a33ce45964ff2167f6ecedd419db06c1");
		assert_int_equal(digest_buffer("", 0, &a, NULL), 0);
		assert_string_equal(a.hex, EMPTY);
		assert_int_equal(digest_buffer("abc", 3, &a, NULL), 0);
		assert_string_equal(a.hex, ABC);
		digest_set_accel(was);
	}
	for (size_t len = 0; len <= 300; len++) {
		digest_set_accel(false);
		assert_int_equal(digest_buffer(data, len, &a, NULL), 0);
		digest_set_accel(true);
		assert_int_equal(digest_buffer(data, len, &b, NULL), 0);
		assert_string_equal(a.hex, b.hex);
	}
	for (size_t len = 1000; len <= 70000; len += 23001) {
		hash_pieces(data, len, false, &a);
		hash_pieces(data, len, true, &b);
		assert_string_equal(a.hex, b.hex);
		assert_int_equal(digest_buffer(data, len, &b, NULL), 0);
		assert_string_equal(a.hex, b.hex);
	}
	free(data);
}

static void test_file_and_fd(void **state)
{
	char path[] = "/tmp/berth-test-digest.XXXXXX";
	struct berr *err = NULL;
	struct digest d;
	uint64_t size = 0;
	int fd = mkstemp(path);

	(void) state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "abc", 3), 3);
	assert_int_equal(digest_file(path, &d, &size, &err), 0);
	assert_string_equal(d.hex, ABC);
	assert_int_equal(size, 3);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	assert_int_equal(digest_fd(fd, &d, &size, &err), 0);
	assert_string_equal(d.hex, ABC);
	close(fd);
	unlink(path);
	assert_int_equal(digest_file(path, &d, &size, &err), -1);
	assert_non_null(strstr(err->msg, "No such file"));
	berr_free(err);
}

static void test_parse(void **state)
{
	struct berr *err = NULL;
	char buf[DIGEST_STR_SIZE];
	struct digest d, e;

	(void) state;
	assert_int_equal(digest_parse("sha256:" ABC, NULL, &d, &err), 0);
	assert_string_equal(d.hex, ABC);
	assert_string_equal(digest_format(&d, buf), "sha256:" ABC);
	assert_true(digest_valid("sha256:" ABC));
	assert_true(digest_is_set(&d));
	assert_int_equal(digest_parse_hex(ABC, &e, &err), 0);
	assert_true(digest_equal(&d, &e));
	digest_clear(&e);
	assert_false(digest_is_set(&e));
	assert_false(digest_equal(&e, &e)); /* unset equals nothing */
	assert_false(digest_equal(&d, &e));

	static const struct {
		const char *in, *msg;
	} bad[] = {
		{ ABC, "invalid checksum digest format" },
		{ "", "invalid checksum digest format" },
		{ "sha256:", "length 0" },
		{ "sha256:" ABC "0", "length 65" },
		{ "sha256:abc", "length 3" },
		{ "sha512:" ABC ABC, "unsupported digest algorithm" },
		{ "SHA256:" ABC, "unsupported digest algorithm" },
		{ ":" ABC, "unsupported digest algorithm" },
		{ "sha256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD",
		  "lowercase hex" },
		{ "sha256:ga7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
		  "lowercase hex" },
		{ "sha256: a7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
		  "lowercase hex" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(digest_parse(bad[i].in, "layers[2].digest", &d, &err), -1);
		if (strstr(err->msg, bad[i].msg) == NULL || strstr(err->msg, "layers[2].digest") == NULL)
			fail_msg("`%s`: error `%s` does not say `%s`", bad[i].in, err->msg, bad[i].msg);
		assert_false(digest_is_set(&d));
		assert_false(digest_valid(bad[i].in));
		berr_free(err);
		err = NULL;
	}
	assert_int_equal(digest_parse_hex("sha256:" ABC, &d, &err), -1);
	berr_free(err);
	/* Control characters never reach a message raw. */
	err = NULL;
	assert_int_equal(digest_parse("sha256:\x1b[2J", NULL, &d, &err), -1);
	assert_null(strchr(err->msg, '\x1b'));
	berr_free(err);
}

static void test_chain_ids(void **state)
{
	struct berr *err = NULL;
	struct digest diff[3], chain[3];

	(void) state;
	assert_int_equal(digest_parse(L0, NULL, &diff[0], &err), 0);
	assert_int_equal(digest_parse(L1, NULL, &diff[1], &err), 0);
	assert_int_equal(digest_parse(L2, NULL, &diff[2], &err), 0);
	assert_int_equal(digest_chain_ids(diff, 3, chain, &err), 0);
	assert_true(digest_equal(&chain[0], &diff[0]));
	assert_string_equal(chain[1].hex,
			    "ef232af0eb422cdfd7917631657cd8ed2bfd5b9461b37c427aa0d3e0a19adf79");
	assert_string_equal(chain[2].hex,
			    "7ad3896338947cc04ee0b35b50d400ff32538d63f42f85ec87feac78bf71a54d");
	/* One step at a time gives the same. */
	struct digest one;
	assert_int_equal(digest_chain(&chain[1], &diff[2], &one, &err), 0);
	assert_true(digest_equal(&one, &chain[2]));
	/* An unset diff id is refused. */
	digest_clear(&diff[1]);
	assert_int_equal(digest_chain_ids(diff, 3, chain, &err), -1);
	assert_non_null(strstr(err->msg, "layer 1"));
	berr_free(err);
	assert_int_equal(digest_chain_ids(diff, 0, chain, NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buffer_vectors),
		cmocka_unit_test(test_streaming),
		cmocka_unit_test(test_accel_matches_software),
		cmocka_unit_test(test_file_and_fd),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_chain_ids),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
