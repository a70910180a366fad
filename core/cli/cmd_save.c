/* `berth save`: images as an OCI image layout tar, to a file or standard output. */
#include "cli.h"
#include "base/err.h"
#include "base/fs.h"
#include "base/util.h"
#include "image/archive.h"
#include "image/gc.h"
#include "image/image.h"
#include "image/ref.h"
#include "image/store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

enum { O_OUTPUT = 1 };

const struct cli_opt cmd_save_opts[] = {
	{ O_OUTPUT, 'o', "output", "FILE", "Write to a file, instead of STDOUT" },
	{ 0, 0, NULL, NULL, NULL },
};

static int save_to_file(const char *path, const struct arch_save_image *imgs,
			const char *const *labels, size_t n, struct berr **err)
{
	_cleanup_free_ char *tmp = xasprintf("%s.tmp.%ld", path, (long) getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0)
		return berr_make(err, errno, "create `%s`", tmp);
	/* The archive appears whole or not at all. */
	if (arch_save(fd, imgs, labels, n, err) < 0 || fsync(fd) < 0) {
		if (err && *err == NULL)
			berr_make(err, errno, "fsync `%s`", tmp);
		close(fd);
		unlink(tmp);
		return -1;
	}
	if (close(fd) < 0 || rename(tmp, path) < 0) {
		berr_make(err, errno, "write `%s`", path);
		unlink(tmp);
		return -1;
	}
	return fs_fsync_parent(path, err);
}

int cmd_save(struct cli_ctx *ctx, int argc, char **argv)
{
	const char *dreg = ctx->cfg.daemon.default_registry, *output = NULL, *value;
	struct store_refs refs = { 0 };
	struct arch_save_image *imgs;
	const char **labels;
	char (*keys)[STORE_REF_NAME_MAX + 1];
	struct berr *err = NULL;
	struct args a;
	size_t n;
	int id, ret = EXIT_OK, lock;

	args_init(&a, cmd_save_opts, argc, argv, "berth save");
	while ((id = args_next(&a, &value, &err)) != ARGS_DONE) {
		if (id == -1)
			return berr_report(err);
		if (id == ARGS_HELP) {
			command_usage(command_find("save"), stdout);
			return EXIT_OK;
		}
		if (id == O_OUTPUT)
			output = value;
	}
	if (a.i >= argc) {
		berr_usage(&err, "`berth save` requires at least one IMAGE");
		return berr_report(err);
	}
	if (output == NULL && isatty(STDOUT_FILENO)) {
		berr_usage(&err, "refusing to write an archive to a terminal: use -o FILE or redirect");
		return berr_report(err);
	}
	/* Keep a concurrent prune from removing blobs while they are read. */
	lock = gc_lock(false, &err);
	if (lock < 0)
		return berr_report(err);
	if ((ret = cli_load_refs(&refs)) != EXIT_OK) {
		gc_unlock(lock);
		return ret;
	}
	n = (size_t) (argc - a.i);
	imgs = xcalloc(n, sizeof(*imgs));
	labels = xcalloc(n, sizeof(*labels));
	keys = xcalloc(n, sizeof(*keys));
	for (size_t i = 0; i < n; i++) {
		struct img_match m;

		labels[i] = argv[a.i + (int) i];
		if (img_resolve(&refs, labels[i], dreg, &m, &err) < 0) {
			ret = berr_report(err);
			goto out;
		}
		imgs[i].top = m.top;
		memcpy(keys[i], m.key, sizeof(keys[i]));
		imgs[i].key = keys[i][0] ? keys[i] : NULL;
	}
	if (output)
		ret = save_to_file(output, imgs, labels, n, &err);
	else
		ret = arch_save(STDOUT_FILENO, imgs, labels, n, &err);
	ret = ret < 0 ? berr_report(err) : EXIT_OK;
out:
	free(keys);
	free(labels);
	free(imgs);
	store_refs_free(&refs);
	gc_unlock(lock);
	return ret;
}
