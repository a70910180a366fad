/* Unit tests for core/image/squashfs*.c: superblock fields, deterministic output whatever the
 * number of threads, tar semantics (last entry wins, implicit parents), and the errors for bad
 * paths, bad attributes and misuse. The kernel and the squashfs tools check the images
 * themselves in tests/system/squashfs.bats. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <zlib.h>

#include "config.h"
#if ENABLE_SQUASHFS_ZSTD
#include <zstd.h>
#endif
#if ENABLE_SQUASHFS_XZ
#include <lzma.h>
#endif

#include "base/err.h"
#include "image/squashfs.h"

struct sb {
	uint32_t magic, inodes, mkfs_time, block_size, fragments;
	uint16_t comp, block_log, flags, no_ids, major, minor;
	uint64_t root, bytes_used, id_table, xattr_table, inode_table, dir_table, frag_table,
		lookup_table;
};

static uint64_t le(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = n - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void sb_parse(const uint8_t *b, struct sb *s)
{
	s->magic = (uint32_t) le(b, 4);
	s->inodes = (uint32_t) le(b + 4, 4);
	s->mkfs_time = (uint32_t) le(b + 8, 4);
	s->block_size = (uint32_t) le(b + 12, 4);
	s->fragments = (uint32_t) le(b + 16, 4);
	s->comp = (uint16_t) le(b + 20, 2);
	s->block_log = (uint16_t) le(b + 22, 2);
	s->flags = (uint16_t) le(b + 24, 2);
	s->no_ids = (uint16_t) le(b + 26, 2);
	s->major = (uint16_t) le(b + 28, 2);
	s->minor = (uint16_t) le(b + 30, 2);
	s->root = le(b + 32, 8);
	s->bytes_used = le(b + 40, 8);
	s->id_table = le(b + 48, 8);
	s->xattr_table = le(b + 56, 8);
	s->inode_table = le(b + 64, 8);
	s->dir_table = le(b + 72, 8);
	s->frag_table = le(b + 80, 8);
	s->lookup_table = le(b + 88, 8);
}

/* An image in an unlinked temporary file. */
struct img {
	int fd;
	struct sqfs_writer *w;
	uint8_t *data;
	size_t size;
};

static struct img *img_new(const struct sqfs_options *o)
{
	struct img *m = calloc(1, sizeof(*m));
	char path[] = "/tmp/berth-test-sqfs.XXXXXX";
	struct berr *err = NULL;

	assert_non_null(m);
	m->fd = mkstemp(path);
	assert_true(m->fd >= 0);
	unlink(path);
	assert_int_equal(sqfs_writer_new(&m->w, m->fd, o, &err), 0);
	assert_null(err);
	return m;
}

/* Finish the image and read it back. */
static void img_finish(struct img *m)
{
	struct berr *err = NULL;
	struct stat st;

	assert_int_equal(sqfs_writer_finish(m->w, &err), 0);
	assert_null(err);
	assert_int_equal(fstat(m->fd, &st), 0);
	m->size = (size_t) st.st_size;
	assert_int_equal(sqfs_writer_image_size(m->w), m->size);
	m->data = malloc(m->size);
	assert_non_null(m->data);
	assert_int_equal(pread(m->fd, m->data, m->size, 0), (ssize_t) m->size);
}

static void img_free(struct img *m)
{
	sqfs_writer_free(m->w);
	close(m->fd);
	free(m->data);
	free(m);
}

static void add(struct img *m, const char *path, mode_t mode)
{
	struct sqfs_attr a = { .mode = mode, .link_target = "target" };
	struct berr *err = NULL;

	assert_int_equal(sqfs_writer_add(m->w, path, &a, &err), 0);
	assert_null(err);
}

/* A file of `size` bytes whose content depends on `seed`, written in uneven pieces. */
static void add_file(struct img *m, const char *path, size_t size, unsigned seed)
{
	struct sqfs_attr a = { .mode = S_IFREG | 0644, .uid = 1000 + seed % 3, .mtime = 1000 };
	struct berr *err = NULL;
	uint8_t *buf = malloc(size + 1);
	size_t off = 0;

	assert_non_null(buf);
	for (size_t i = 0; i < size; i++)
		buf[i] = (uint8_t) ((i * 31 + seed) % 251 + (i / 4096 % 2) * (i % 7));
	assert_int_equal(sqfs_file_begin(m->w, path, &a, &err), 0);
	while (off < size) {
		size_t n = (off / 3 + 7919) % 70000 + 1;

		if (n > size - off)
			n = size - off;
		assert_int_equal(sqfs_file_write(m->w, off, buf + off, n, &err), 0);
		off += n;
	}
	assert_int_equal(sqfs_file_end(m->w, size, &err), 0);
	assert_null(err);
	free(buf);
}

/* An xz block as the kernel reads it: one whole .xz stream with a CRC32 check, one LZMA2
 * filter whose dictionary is `dict` bytes (the kernel allocates that much, the block size but
 * at least 8 KiB, and refuses streams that ask for more). */
static void xz_check_stream(const uint8_t *in, size_t n, uint32_t dict)
{
	static const uint8_t magic[6] = { 0xfd, '7', 'z', 'X', 'Z', 0 };
	const uint8_t *p = in + 12; /* the block header, after the stream header */
	uint8_t flags, props;

	assert_true(n > 12 + 12 + 8);
	assert_memory_equal(in, magic, 6);
	assert_int_equal(in[6], 0);
	assert_int_equal(in[7], 1); /* check type 1: CRC32 */
	assert_memory_equal(in + n - 2, "YZ", 2); /* the stream footer's magic */
	flags = p[1];
	assert_int_equal(flags & 3, 0); /* one filter */
	p += 2;
	for (int f = 0x40; f <= 0x80; f <<= 1) /* compressed and uncompressed sizes, as VLIs */
		if (flags & f)
			while (*p++ & 0x80)
				;
	assert_int_equal(p[0], 0x21); /* LZMA2 */
	assert_int_equal(p[1], 1);    /* one properties byte: the dictionary size */
	props = p[2];
	assert_true(props < 40);
	assert_int_equal((2u | (props & 1u)) << (props / 2 + 11), dict);
}

/* Uncompress `n` bytes at `in` of a gzip (1), xz (4) or zstd (6) image into `out` (room for
 * `cap`); returns the length. */
static size_t unpack(uint16_t comp, const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
	uLongf len = cap;

#if ENABLE_SQUASHFS_XZ
	if (comp == 4) {
		uint64_t limit = 64u << 20;
		size_t in_pos = 0, out_pos = 0;

		assert_int_equal(lzma_stream_buffer_decode(&limit, 0, NULL, in, &in_pos, n, out,
							   &out_pos, cap),
				 LZMA_OK);
		assert_int_equal(in_pos, n);
		return out_pos;
	}
#endif
#if ENABLE_SQUASHFS_ZSTD
	if (comp == 6) {
		size_t r = ZSTD_decompress(out, cap, in, n);

		assert_false(ZSTD_isError(r));
		return r;
	}
#endif
	assert_int_equal(comp, 1);
	assert_int_equal(uncompress(out, &len, in, n), Z_OK);
	return len;
}

/* Read the metadata block at `at` into `out`; returns its length. */
static size_t meta_read(const struct img *m, uint64_t at, uint8_t *out)
{
	uint16_t h = (uint16_t) le(m->data + at, 2);
	size_t n = h & 0x7fff;

	if (h & 0x8000) {
		memcpy(out, m->data + at + 2, n);
		return n;
	}
	return unpack((uint16_t) le(m->data + 20, 2), m->data + at + 2, n, out, 8192);
}

static void test_superblock(void **state)
{
	struct sqfs_options o = { .comp = SQFS_COMP_GZIP, .block_size = 65536, .threads = 1,
				  .mkfs_time = 1234567890 };
	struct img *m = img_new(&o);
	struct sb s;

	(void) state;
	add(m, "etc", S_IFDIR | 0755);
	add_file(m, "etc/hostname", 10, 1);
	add_file(m, "big", 200000, 2);
	add(m, "dev/null", S_IFCHR | 0666);
	img_finish(m);
	sb_parse(m->data, &s);
	assert_int_equal(s.magic, 0x73717368);
	assert_int_equal(s.major, 4);
	assert_int_equal(s.minor, 0);
	assert_int_equal(s.comp, 1);
	assert_int_equal(s.block_size, 65536);
	assert_int_equal(s.block_log, 16);
	assert_int_equal(s.mkfs_time, 1234567890);
	assert_int_equal(s.inodes, 6); /* root, etc, hostname, big, dev, null */
	assert_int_equal(s.fragments, 1);
	assert_int_equal(s.no_ids, 3); /* 0, 1001, 1002 */
	assert_int_equal(s.flags, 0x0020 | 0x0200); /* always fragments, no xattrs */
	assert_int_equal(s.xattr_table, UINT64_MAX);
	assert_int_equal(s.lookup_table, UINT64_MAX);
	/* Table order the kernel checks: inodes < directories < fragments < ids < end. */
	assert_true(s.inode_table > 96);
	assert_true(s.inode_table < s.dir_table);
	assert_true(s.dir_table < s.frag_table);
	assert_true(s.frag_table < s.id_table);
	assert_int_equal(s.id_table + 8, s.bytes_used);
	assert_true(s.bytes_used <= m->size);
	assert_int_equal(m->size % 4096, 0);
	assert_true(m->size - s.bytes_used < 4096);
	img_free(m);
}

static void test_flags_xattrs_and_no_fragments(void **state)
{
	struct sqfs_options o = { .comp = SQFS_COMP_GZIP, .threads = 1, .no_fragments = true };
	const struct sqfs_xattr xs[] = { { "trusted.overlay.opaque", "y", 1 },
					 { "user.a", "1", 1 } };
	struct sqfs_attr a = { .mode = S_IFDIR | 0755, .xattrs = xs, .n_xattrs = 2 };
	struct img *m = img_new(&o);
	struct berr *err = NULL;
	struct sb s;

	(void) state;
	assert_int_equal(sqfs_writer_add(m->w, "d", &a, &err), 0);
	a.xattrs = (const struct sqfs_xattr[]){ xs[1], xs[0] }; /* same set, other order */
	assert_int_equal(sqfs_writer_add(m->w, "e", &a, &err), 0);
	add_file(m, "f", 1000, 3);
	img_finish(m);
	sb_parse(m->data, &s);
	assert_int_equal(s.flags, 0x0010); /* no fragments; xattrs present */
	assert_int_equal(s.fragments, 0);
	assert_true(s.id_table < s.xattr_table);
	/* One deduplicated set: the xattr id table says 1 id. */
	assert_int_equal(le(m->data + s.xattr_table + 8, 4), 1);
	img_free(m);
}

/* The same calls give the same bytes, whatever the number of threads. */
static void build_sample(struct img *m)
{
	const struct sqfs_xattr cap = { "security.capability", "\x01\x00\x00\x02", 4 };
	struct sqfs_attr l = { .mode = S_IFLNK | 0777, .link_target = "../lib/x", .mtime = 5 };
	struct berr *err = NULL;
	char name[64];

	for (int i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "dir%d/file%02d", i % 5, 39 - i);
		add_file(m, name, (size_t) (i * 7919 % 300000), (unsigned) i);
	}
	add_file(m, "exact", 131072, 9);
	assert_int_equal(sqfs_writer_add(m->w, "dir1/link", &l, &err), 0);
	l = (struct sqfs_attr){ .mode = S_IFREG | 0755, .xattrs = &cap, .n_xattrs = 1 };
	assert_int_equal(sqfs_file_begin(m->w, "bin/ping", &l, &err), 0);
	assert_int_equal(sqfs_file_write(m->w, 100000, "x", 1, &err), 0);
	assert_int_equal(sqfs_file_end(m->w, 1 << 20, &err), 0);
	assert_int_equal(sqfs_writer_add_hardlink(m->w, "bin/ping6", "bin/ping", &err), 0);
	assert_null(err);
	img_finish(m);
}

static void test_deterministic(void **state)
{
	struct sqfs_options o = { .comp = SQFS_COMP_GZIP, .threads = 1 };
	struct img *a, *b, *c;

	(void) state;
	a = img_new(&o);
	build_sample(a);
	b = img_new(&o);
	build_sample(b);
	o.threads = 4;
	c = img_new(&o);
	build_sample(c);
	assert_int_equal(a->size, b->size);
	assert_memory_equal(a->data, b->data, a->size);
	assert_int_equal(a->size, c->size);
	assert_memory_equal(a->data, c->data, a->size);
	img_free(a);
	img_free(b);
	img_free(c);
}

static void test_deterministic_zstd(void **state)
{
	struct sqfs_options o = { .comp = SQFS_COMP_ZSTD, .threads = 1, .block_size = 4096 };
	struct img *a, *b;

	(void) state;
	a = img_new(&o);
	build_sample(a);
	o.threads = 3;
	b = img_new(&o);
	build_sample(b);
	assert_int_equal(le(a->data + 20, 2), 6);
	assert_int_equal(a->size, b->size);
	assert_memory_equal(a->data, b->data, a->size);
	img_free(a);
	img_free(b);
}

/* xz: the same bytes with 1 thread or 3; metadata blocks are xz streams with an 8 KiB
 * dictionary when blocks are 4 KiB, and no compressor options are stored. Presets 7 to 9
 * write what 6 (the default) does, as they differ only in a dictionary past one block; 0 is a
 * preset of its own. */
static void test_deterministic_xz(void **state)
{
	struct sqfs_options o = { .comp = SQFS_COMP_XZ, .threads = 1, .block_size = 4096 };
	struct img *a, *b, *c, *d;
	uint8_t meta[8192];
	struct sb s;
	uint16_t h;

	(void) state;
	if (!ENABLE_SQUASHFS_XZ)
		skip();
	a = img_new(&o);
	build_sample(a);
	o.threads = 3;
	b = img_new(&o);
	build_sample(b);
	sb_parse(a->data, &s);
	assert_int_equal(s.comp, 4);
	assert_int_equal(s.flags & 0x0400, 0); /* no compressor options */
	assert_int_equal(a->size, b->size);
	assert_memory_equal(a->data, b->data, a->size);
	h = (uint16_t) le(a->data + s.inode_table, 2);
	assert_int_equal(h & 0x8000, 0);
	xz_check_stream(a->data + s.inode_table + 2, h & 0x7fff, 8192);
	assert_true(meta_read(a, s.inode_table, meta) > 0);
	o.level = 9;
	c = img_new(&o);
	build_sample(c);
	assert_int_equal(c->size, a->size);
	assert_memory_equal(c->data, a->data, a->size);
	o.level = SQFS_LEVEL_XZ_0;
	d = img_new(&o);
	build_sample(d);
	assert_true(d->size != a->size || memcmp(d->data, a->data, a->size) != 0);
	sb_parse(d->data, &s);
	assert_true(meta_read(d, s.inode_table, meta) > 0);
	img_free(a);
	img_free(b);
	img_free(c);
	img_free(d);
}

static void expect_fail(int r, struct berr **err, const char *part)
{
	assert_int_equal(r, -1);
	assert_non_null(*err);
	if (strstr((*err)->msg, part) == NULL)
		fail_msg("error `%s` does not mention `%s`", (*err)->msg, part);
	berr_free(*err);
	*err = NULL;
}

static void test_bad_paths(void **state)
{
	static const char *const bad[] = { "", "/etc", "a//b", "a/./b", "../x", "a/..", "a/",
					   "./a", "a/../b" };
	struct sqfs_attr d = { .mode = S_IFDIR | 0755 };
	struct img *m = img_new(NULL);
	struct berr *err = NULL;
	char longname[300];
	struct sb s;

	(void) state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(sqfs_writer_add(m->w, bad[i], &d, &err), -1);
		assert_non_null(err);
		berr_free(err);
		err = NULL;
		assert_int_equal(sqfs_file_begin(m->w, bad[i], &d, &err), -1);
		berr_free(err);
		err = NULL;
	}
	expect_fail(sqfs_writer_add(m->w, NULL, &d, &err), &err, "empty path");
	memset(longname, 'x', 256);
	longname[256] = '\0';
	expect_fail(sqfs_writer_add(m->w, longname, &d, &err), &err, "longer than 255");
	longname[255] = '\0';
	add(m, longname, S_IFDIR | 0755);
	/* A file where a directory is needed. */
	add_file(m, "f", 3, 1);
	expect_fail(sqfs_writer_add(m->w, "f/x", &d, &err), &err, "`f` is not a directory");
	/* The root can only be a directory. */
	add(m, ".", S_IFDIR | 0700);
	expect_fail(sqfs_writer_add(m->w, ".", &(struct sqfs_attr){ .mode = S_IFIFO }, &err),
		    &err, "root");
	img_finish(m);
	sb_parse(m->data, &s);
	assert_int_equal(s.inodes, 3); /* root, the long-named directory, f */
	img_free(m);
}

static void test_bad_attrs(void **state)
{
	struct img *m = img_new(NULL);
	struct berr *err = NULL;
	struct sqfs_attr a = { .mode = S_IFLNK | 0777 };
	struct sqfs_xattr x[2] = { { "system.posix_acl_access", "", 0 }, { "user.", "", 0 } };
	char target[5000];

	(void) state;
	expect_fail(sqfs_writer_add(m->w, "l", &a, &err), &err, "symlink target");
	memset(target, 't', sizeof(target) - 1);
	target[sizeof(target) - 1] = '\0';
	a.link_target = target;
	expect_fail(sqfs_writer_add(m->w, "l", &a, &err), &err, "symlink target");
	a = (struct sqfs_attr){ .mode = S_IFCHR, .rdev = makedev(5000, 1) };
	expect_fail(sqfs_writer_add(m->w, "c", &a, &err), &err, "does not fit");
	a = (struct sqfs_attr){ .mode = S_IFREG | 0644 };
	expect_fail(sqfs_writer_add(m->w, "r", &a, &err), &err, "unsupported file type");
	a = (struct sqfs_attr){ .mode = S_IFDIR | 0755, .xattrs = x, .n_xattrs = 1 };
	expect_fail(sqfs_writer_add(m->w, "d", &a, &err), &err, "only user., trusted.");
	a.xattrs = x + 1;
	expect_fail(sqfs_writer_add(m->w, "d", &a, &err), &err, "empty");
	x[0] = (struct sqfs_xattr){ "user.a", "1", 1 };
	x[1] = x[0];
	a.xattrs = x;
	a.n_xattrs = 2;
	expect_fail(sqfs_writer_add(m->w, "d", &a, &err), &err, "given twice");
	a = (struct sqfs_attr){ .mode = S_IFDIR | 0755 };
	expect_fail(sqfs_file_begin(m->w, "d", &a, &err), &err, "regular files only");
	img_free(m);
}

static void test_options(void **state)
{
	struct sqfs_options o = { .block_size = 3000 };
	struct sqfs_writer *w = NULL;
	struct berr *err = NULL;

	(void) state;
	expect_fail(sqfs_writer_new(&w, -1, &o, &err), &err, "block size");
	o = (struct sqfs_options){ .block_size = 2 << 20 };
	expect_fail(sqfs_writer_new(&w, -1, &o, &err), &err, "block size");
	o = (struct sqfs_options){ .comp = SQFS_COMP_GZIP, .level = 10 };
	expect_fail(sqfs_writer_new(&w, -1, &o, &err), &err, "level");
	o = (struct sqfs_options){ .comp = SQFS_COMP_ZSTD, .level = 23 };
	expect_fail(sqfs_writer_new(&w, -1, &o, &err), &err,
		    ENABLE_SQUASHFS_ZSTD ? "level 23 out of range 1..22" : "CONFIG_SQUASHFS_ZSTD");
	o = (struct sqfs_options){ .comp = SQFS_COMP_XZ, .level = 10 };
	expect_fail(sqfs_writer_new(&w, -1, &o, &err), &err,
		    ENABLE_SQUASHFS_XZ ? "level 10 out of range 0..9" : "CONFIG_SQUASHFS_XZ");
	o = (struct sqfs_options){ .comp = SQFS_COMP_XZ, .level = -2 };
	expect_fail(sqfs_writer_new(&w, -1, &o, &err), &err,
		    ENABLE_SQUASHFS_XZ ? "level -2 out of range" : "CONFIG_SQUASHFS_XZ");
	o = (struct sqfs_options){ .comp = 2 }; /* lzma: no kernel reads it any more */
	expect_fail(sqfs_writer_new(&w, -1, &o, &err), &err, "not supported");
	assert_null(w);
}

static void test_hardlinks(void **state)
{
	struct img *m = img_new(NULL);
	struct berr *err = NULL;
	struct sb s;

	(void) state;
	add(m, "d", S_IFDIR | 0755);
	add_file(m, "d/f", 10, 1);
	expect_fail(sqfs_writer_add_hardlink(m->w, "g", "missing", &err), &err, "does not exist");
	expect_fail(sqfs_writer_add_hardlink(m->w, "g", "d", &err), &err, "is a directory");
	expect_fail(sqfs_writer_add_hardlink(m->w, "g", "/d/f", &err), &err, "relative");
	assert_int_equal(sqfs_writer_add_hardlink(m->w, "x/g", "d/f", &err), 0);
	assert_int_equal(sqfs_writer_add_hardlink(m->w, "d/f", "d/f", &err), 0);
	/* Replacing the target keeps the link on the old inode. */
	add_file(m, "d/f", 20, 2);
	/* A link that replaces the directory holding its own target. */
	add_file(m, "k/t", 30, 4);
	assert_int_equal(sqfs_writer_add_hardlink(m->w, "k", "k/t", &err), 0);
	img_finish(m);
	sb_parse(m->data, &s);
	/* root, d, x, old d/f (now only x/g), new d/f, k (the old k/t) */
	assert_int_equal(s.inodes, 6);
	img_free(m);
}

/* Tar semantics: the last entry for a path wins. */
static void test_last_one_wins(void **state)
{
	struct img *m = img_new(NULL);
	struct sqfs_attr a = { .mode = S_IFDIR | 0700, .uid = 7, .mtime = 99 };
	struct berr *err = NULL;
	uint8_t blk[8192];
	struct sb s;

	(void) state;
	/* Children before their directory: implicit parents, then the entry's attributes. */
	add_file(m, "a/b/c", 5, 1);
	add(m, "a/b/d", S_IFIFO | 0644);
	assert_int_equal(sqfs_writer_add(m->w, "a", &a, &err), 0);
	/* A directory over a directory keeps the children. */
	add(m, "a/b", S_IFDIR | 0755);
	/* A file over a directory removes the subtree... */
	add_file(m, "x/y/z", 5, 2);
	add_file(m, "x", 7, 3);
	/* ...a directory over a file replaces it. */
	add_file(m, "p", 7, 3);
	add(m, "p", S_IFDIR | 0755);
	/* Non-directories replace each other. */
	add(m, "q", S_IFIFO | 0644);
	add(m, "q", S_IFSOCK | 0644);
	img_finish(m);
	sb_parse(m->data, &s);
	/* root, a, a/b, a/b/c, a/b/d, x (file), p (dir), q (socket) */
	assert_int_equal(s.inodes, 8);
	assert_int_equal(s.no_ids, 4); /* 0, 7, 1001 (a/b/c), 1000 (x) */
	/* The root comes last in the inode table; it is inode number s.inodes. */
	assert_int_equal(meta_read(m, s.inode_table + (s.root >> 16), blk) > (s.root & 0xffff), 1);
	assert_int_equal(le(blk + (s.root & 0xffff) + 12, 4), s.inodes);
	img_free(m);
}

static void test_inode_fields(void **state)
{
	struct img *m = img_new(&(struct sqfs_options){ .threads = 1 });
	struct sqfs_attr a = { .mode = S_IFDIR | 04755, .uid = 0, .mtime = -5 };
	struct berr *err = NULL;
	uint8_t blk[8192];
	const uint8_t *r;
	struct sb s;

	(void) state;
	assert_int_equal(sqfs_writer_add(m->w, ".", &a, &err), 0);
	a = (struct sqfs_attr){ .mode = S_IFIFO | 0600, .mtime = (int64_t) 1 << 40 };
	assert_int_equal(sqfs_writer_add(m->w, "fifo", &a, &err), 0);
	img_finish(m);
	sb_parse(m->data, &s);
	meta_read(m, s.inode_table, blk);
	/* fifo first (basic ipc: type 6), mtime clamped up to 2^32 - 1, numbered 1, nlink 1. */
	assert_int_equal(le(blk, 2), 6);
	assert_int_equal(le(blk + 2, 2), 0600); /* permissions only: the type is the inode type */
	assert_int_equal(le(blk + 8, 4), UINT32_MAX);
	assert_int_equal(le(blk + 12, 4), 1);
	assert_int_equal(le(blk + 16, 4), 1);
	/* The root: a basic directory, mtime clamped to 0, 2 links, parent = inodes + 1. */
	r = blk + (s.root & 0xffff);
	assert_int_equal(le(r, 2), 1);
	assert_int_equal(le(r + 2, 2), 04755);
	assert_int_equal(le(r + 8, 4), 0);
	assert_int_equal(le(r + 12, 4), 2);
	assert_int_equal(le(r + 20, 4), 2);
	assert_int_equal(le(r + 28, 4), 3);
	img_free(m);
}

static void test_file_misuse(void **state)
{
	struct img *m = img_new(NULL);
	struct sqfs_attr f = { .mode = S_IFREG | 0644 };
	struct berr *err = NULL;

	(void) state;
	expect_fail(sqfs_file_write(m->w, 0, "x", 1, &err), &err, "without an open file");
	expect_fail(sqfs_file_end(m->w, 0, &err), &err, "without an open file");
	assert_int_equal(sqfs_file_begin(m->w, "f", &f, &err), 0);
	assert_int_equal(sqfs_file_write(m->w, 10, "abc", 3, &err), 0);
	expect_fail(sqfs_file_write(m->w, 11, "x", 1, &err), &err, "before the end");
	expect_fail(sqfs_writer_add(m->w, "d", &(struct sqfs_attr){ .mode = S_IFDIR }, &err),
		    &err, "still open");
	expect_fail(sqfs_writer_finish(m->w, &err), &err, "still open");
	expect_fail(sqfs_file_end(m->w, 12, &err), &err, "below");
	assert_int_equal(sqfs_file_end(m->w, 13, &err), 0);
	img_finish(m);
	expect_fail(sqfs_writer_add(m->w, "d", &(struct sqfs_attr){ .mode = S_IFDIR }, &err),
		    &err, "already finished");
	img_free(m);
}

static void test_add_xattr(void **state)
{
	const struct sqfs_xattr opq = { "trusted.overlay.opaque", "y", 1 };
	const struct sqfs_xattr u = { "user.k", "v", 1 };
	struct sqfs_attr a = { .mode = S_IFDIR | 0755, .xattrs = &u, .n_xattrs = 1 };
	struct img *m = img_new(NULL);
	struct berr *err = NULL;
	struct sb s;

	(void) state;
	/* Marker before the directory's own entry: the directory is implicit until then. */
	assert_int_equal(sqfs_writer_add_xattr(m->w, "d", &opq, &err), 0);
	assert_int_equal(sqfs_writer_add(m->w, "d", &a, &err), 0);
	/* And after it, on another directory with the same attributes: the same set. */
	assert_int_equal(sqfs_writer_add(m->w, "e", &a, &err), 0);
	assert_int_equal(sqfs_writer_add_xattr(m->w, "e", &opq, &err), 0);
	expect_fail(sqfs_writer_add_xattr(m->w, "e", &(struct sqfs_xattr){ "bad", "", 0 }, &err),
		    &err, "only user.");
	img_finish(m);
	sb_parse(m->data, &s);
	assert_int_equal(s.inodes, 3);
	assert_int_equal(le(m->data + s.xattr_table + 8, 4), 1);
	img_free(m);
}

/* A file with the given bytes, written in uneven pieces. */
static void add_bytes(struct img *m, const char *path, const uint8_t *buf, size_t size)
{
	struct sqfs_attr a = { .mode = S_IFREG | 0644 };
	struct berr *err = NULL;
	size_t off = 0;

	assert_int_equal(sqfs_file_begin(m->w, path, &a, &err), 0);
	while (off < size) {
		size_t n = (off / 5 + 1000) % 3000 + 1;

		if (n > size - off)
			n = size - off;
		assert_int_equal(sqfs_file_write(m->w, off, buf + off, n, &err), 0);
		off += n;
	}
	assert_int_equal(sqfs_file_end(m->w, size, &err), 0);
	assert_null(err);
}

struct reg_inode {
	uint32_t start, frag, off, size, blocks[4];
};

/* The basic regular-file inodes of a flat image, in name order (inodes 1, 2, ...). */
static void reg_inodes(const struct img *m, struct reg_inode *out, int n)
{
	uint8_t blk[8192];
	const uint8_t *p = blk;
	struct sb s;

	sb_parse(m->data, &s);
	meta_read(m, s.inode_table, blk);
	for (int i = 0; i < n; i++) {
		assert_int_equal(le(p, 2), 2);
		assert_int_equal(le(p + 12, 4), i + 1);
		out[i].start = (uint32_t) le(p + 16, 4);
		out[i].frag = (uint32_t) le(p + 20, 4);
		out[i].off = (uint32_t) le(p + 24, 4);
		out[i].size = (uint32_t) le(p + 28, 4);
		p += 32;
		for (uint32_t k = 0; k < out[i].size / s.block_size; k++, p += 4)
			out[i].blocks[k] = (uint32_t) le(p, 4);
	}
}

/* Identical files share their data; a file whose blocks start another file's run shares them
 * and keeps its own tail; one that differs in the middle gets all of its blocks stored, the
 * same bytes as before the difference. Same bytes with 1 thread or 3. */
static void test_duplicates(void **state)
{
	struct sqfs_options o = { .comp = SQFS_COMP_GZIP, .block_size = 4096, .threads = 1 };
	enum { A = 3 * 4096 + 100 };
	uint8_t *a = malloc(A), *d = malloc(A), c[A], small[500], blk[4096];
	struct reg_inode r[6];
	struct img *m[2];
	uLongf len = sizeof(blk);
	uint32_t seed = 7;

	(void) state;
	assert_non_null(a);
	assert_non_null(d);
	for (size_t i = 0; i < A; i++) {
		seed = seed * 1103515245 + 12345;
		a[i] = (uint8_t) ((seed >> 16) % 16 + 'a'); /* compressible, never all zero */
	}
	memcpy(c, a, A);
	c[A - 1] ^= 1;
	memcpy(d, a, A);
	d[4096 + 7] ^= 1;
	memset(small, 's', sizeof(small));
	for (int t = 0; t < 2; t++) {
		m[t] = img_new(&o);
		add_bytes(m[t], "a", a, A);
		add_bytes(m[t], "b", a, A);
		add_bytes(m[t], "c", c, A);
		add_bytes(m[t], "d", d, A);
		add_bytes(m[t], "e", small, sizeof(small));
		add_bytes(m[t], "f", small, sizeof(small));
		img_finish(m[t]);
		o.threads = 3;
	}
	assert_int_equal(m[0]->size, m[1]->size);
	assert_memory_equal(m[0]->data, m[1]->data, m[0]->size);
	reg_inodes(m[0], r, 6);
	assert_int_equal(r[1].start, r[0].start);
	assert_int_equal(r[1].frag, r[0].frag);
	assert_int_equal(r[1].off, r[0].off);
	assert_memory_equal(r[1].blocks, r[0].blocks, sizeof(r[0].blocks));
	assert_int_equal(r[2].start, r[0].start);
	assert_true(r[2].frag != r[0].frag || r[2].off != r[0].off);
	assert_true(r[3].start > r[0].start);
	assert_int_equal(r[3].blocks[0], r[0].blocks[0]);
	assert_memory_equal(m[0]->data + r[3].start, m[0]->data + r[0].start, r[0].blocks[0]);
	assert_int_equal(uncompress(blk, &len, m[0]->data + r[3].start + r[3].blocks[0],
				    r[3].blocks[1]), Z_OK);
	assert_int_equal(len, 4096);
	assert_memory_equal(blk, d + 4096, 4096);
	assert_int_equal(r[5].frag, r[4].frag);
	assert_int_equal(r[5].off, r[4].off);
	img_free(m[0]);
	img_free(m[1]);
	free(a);
	free(d);
}

/* Blocks that are compressed already (a flat byte histogram, no repeats) are stored raw
 * without the slow compression, for gzip, zstd and xz alike; text is compressed, and so is a
 * block that only looks random byte by byte but repeats within deflate's window. Every block
 * reads back as it was written, and 1 thread or 2 give the same bytes. */
static void test_incompressible_stored_raw(void **state)
{
	enum { B = 131072, N = 2 * B };
	enum sqfs_comp comps[] = { SQFS_COMP_GZIP, SQFS_COMP_ZSTD, SQFS_COMP_XZ };
	uint8_t *rnd = malloc(N), *txt = malloc(N), *rep = malloc(N), *blk = malloc(B);
	const uint8_t *src[3];
	uint32_t x = 99;

	(void) state;
	assert_non_null(rnd);
	assert_non_null(txt);
	assert_non_null(rep);
	assert_non_null(blk);
	for (size_t i = 0; i < N; i++) {
		x = x * 1103515245u + 12345u;
		rnd[i] = (uint8_t) (x >> 16);
		txt[i] = (uint8_t) ("the quick brown fox jumps over a lazy dog\n"[i % 42] ^
				    (i / 4096 % 3 == 0 ? (x >> 24) % 2 : 0));
		rep[i] = rnd[(i % 16384) ^ 0x9000]; /* 16 KiB of noise, over and over */
	}
	src[0] = rep;
	src[1] = rnd;
	src[2] = txt;
	for (size_t c = 0; c < sizeof(comps) / sizeof(comps[0]); c++) {
		struct sqfs_options o = { .comp = comps[c], .block_size = B, .threads = 1,
					  .level = comps[c] == SQFS_COMP_ZSTD ? 15 : 9 };
		struct reg_inode r[3];
		struct img *m[2];

		if ((comps[c] == SQFS_COMP_ZSTD && !ENABLE_SQUASHFS_ZSTD) ||
		    (comps[c] == SQFS_COMP_XZ && !ENABLE_SQUASHFS_XZ))
			continue;
		for (int t = 0; t < 2; t++) {
			m[t] = img_new(&o);
			add_bytes(m[t], "a-repeats", rep, N);
			add_bytes(m[t], "b-random", rnd, N);
			add_bytes(m[t], "c-text", txt, N);
			img_finish(m[t]);
			o.threads = 2;
		}
		assert_int_equal(m[0]->size, m[1]->size);
		assert_memory_equal(m[0]->data, m[1]->data, m[0]->size);
		reg_inodes(m[0], r, 3);
		for (int f = 0; f < 3; f++) {
			uint64_t at = r[f].start;

			assert_int_equal(r[f].size, N);
			for (int k = 0; k < 2; k++) {
				uint32_t size = r[f].blocks[k] & ~(1u << 24);
				bool raw = (r[f].blocks[k] & (1u << 24)) != 0;

				/* random: raw; text and repeats: compressed */
				assert_int_equal(raw, f == 1);
				if (raw) {
					assert_int_equal(size, B);
					memcpy(blk, m[0]->data + at, B);
				} else {
					assert_true(size < B / 2);
					if (o.comp == SQFS_COMP_XZ)
						xz_check_stream(m[0]->data + at, size, B);
					assert_int_equal(unpack((uint16_t) o.comp, m[0]->data + at,
								size, blk, B),
							 B);
				}
				assert_memory_equal(blk, src[f] + (size_t) k * B, B);
				at += size;
			}
		}
		img_free(m[0]);
		img_free(m[1]);
	}
	free(rnd);
	free(txt);
	free(rep);
	free(blk);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_superblock),
		cmocka_unit_test(test_flags_xattrs_and_no_fragments),
		cmocka_unit_test(test_deterministic),
		cmocka_unit_test(test_deterministic_zstd),
		cmocka_unit_test(test_deterministic_xz),
		cmocka_unit_test(test_bad_paths),
		cmocka_unit_test(test_bad_attrs),
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_hardlinks),
		cmocka_unit_test(test_last_one_wins),
		cmocka_unit_test(test_inode_fields),
		cmocka_unit_test(test_file_misuse),
		cmocka_unit_test(test_add_xattr),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_incompressible_stored_raw),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
