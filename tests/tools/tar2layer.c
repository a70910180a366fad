/* Test and benchmark driver for layer conversion: a (compressed) tar stream to squashfs.
 * Usage: tar2layer [-c gzip|zstd|xz] [-l LEVEL] [-b BLOCK] [-j THREADS] [-t TIME] IN OUT.sqfs
 *        tar2layer --store ROOT --chain HEX [--diff-id sha256:HEX] [--dir] [options] IN
 * IN may be `-` for stdin. The first form writes OUT and prints the stream's diff_id; the
 * second stores the layer as ROOT/layers/HEX.sqfs through layer_convert (atomic, checked),
 * or with --dir as the directory ROOT/layers/HEX/ through layer_convert_dir. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "base/paths.h"
#include "image/digest.h"
#include "image/layer.h"

static int usage(void)
{
	fprintf(stderr, "usage: tar2layer [-c gzip|zstd|xz] [-l LEVEL] [-b BLOCK] [-j THREADS] [-t TIME] IN OUT\n"
			"       tar2layer --store ROOT --chain HEX [--diff-id sha256:HEX] [--dir] [options] IN\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct sqfs_options opt = { .comp = SQFS_COMP_ZSTD };
	const char *store = NULL, *chain = NULL, *diff = NULL, *in, *out = NULL;
	struct layer_stats st = { 0 };
	struct digest d = { { 0 } }, cid = { { 0 } }, want = { { 0 } };
	struct berr *err = NULL;
	char buf[DIGEST_STR_SIZE];
	int i, in_fd, out_fd, dir = 0, level_set = 0;

	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--dir") == 0) {
			dir = 1;
			continue;
		}
		if (v == NULL)
			return usage();
		if (strcmp(a, "-c") == 0) {
			if ((opt.comp = sqfs_comp_named(v)) == 0)
				return usage();
		} else if (strcmp(a, "-l") == 0) {
			opt.level = atoi(v);
			level_set = 1;
		} else if (strcmp(a, "-b") == 0)
			opt.block_size = (uint32_t) strtoul(v, NULL, 0);
		else if (strcmp(a, "-j") == 0)
			opt.threads = atoi(v);
		else if (strcmp(a, "-t") == 0)
			opt.mkfs_time = (uint32_t) strtoul(v, NULL, 0);
		else if (strcmp(a, "--store") == 0)
			store = v;
		else if (strcmp(a, "--chain") == 0)
			chain = v;
		else if (strcmp(a, "--diff-id") == 0)
			diff = v;
		else
			return usage();
		i++;
	}
	if (i >= argc)
		return usage();
	/* -l 0 is the default, except that xz has a preset 0 of its own. */
	if (level_set)
		opt.level = sqfs_level_given(opt.comp, opt.level);
	in = argv[i++];
	if (!store) {
		if (i >= argc)
			return usage();
		out = argv[i];
	}
	in_fd = strcmp(in, "-") == 0 ? 0 : open(in, O_RDONLY | O_CLOEXEC);
	if (in_fd < 0) {
		perror(in);
		return 1;
	}
	if (store) {
		if (chain == NULL || paths_init(store, "/run/berth") < 0 ||
		    digest_parse_hex(chain, &cid, &err) < 0 || (diff && digest_parse(diff, "--diff-id", &want, &err) < 0))
			return err ? berr_report(err) : usage();
		if ((dir ? layer_convert_dir(in_fd, &want, &cid, &st, &err)
			 : layer_convert(in_fd, &want, &cid, &opt, &st, &err)) < 0)
			return berr_report(err);
		printf("%llu entries, %llu tar bytes, %llu image bytes\n", (unsigned long long) st.entries,
		       (unsigned long long) st.tar_bytes, (unsigned long long) st.image_bytes);
		return 0;
	}
	out_fd = open(out, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (out_fd < 0) {
		perror(out);
		return 1;
	}
	if (layer_convert_fd(in_fd, out_fd, &opt, &d, &st, &err) < 0) {
		unlink(out);
		return berr_report(err);
	}
	if (close(out_fd) < 0) {
		perror(out);
		return 1;
	}
	printf("%s\n", digest_format(&d, buf));
	return 0;
}
