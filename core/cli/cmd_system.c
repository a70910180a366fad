/* `berth system df`: what the store takes on flash and what `berth image prune` would free.
 * Containers count their writable layers, volumes their data. `berth system prune-mounts`:
 * release the layer mounts that no container uses. */
#include "cli.h"
#include "base/err.h"
#include "base/util.h"
#include "image/gc.h"
#include "image/image.h"
#include "image/mount.h"
#include "image/store.h"
#include "base/fs.h"
#include "runtime/record.h"
#include "runtime/volume.h"
#include <unistd.h>

#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/paths.h"

enum { O_FORMAT = 1 };

const struct cli_opt cmd_system_opts[] = {
	{ O_FORMAT, 'f', "format", "string", "Output format: table or json" },
	{ 0, 0, NULL, NULL, NULL },
};

static uint64_t dir_bytes(const char *dir, const char *suffix)
{
	struct dirent *de;
	uint64_t total = 0;
	DIR *d = opendir(dir);

	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		struct stat st;
		size_t n = strlen(de->d_name), sl = strlen(suffix);
		if (n < sl || strcmp(de->d_name + n - sl, suffix) != 0)
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
			total += (uint64_t) st.st_size;
	}
	closedir(d);
	return total;
}

/* Containers: their writable layers; reclaimable when stopped. Volumes: their data;
 * reclaimable when no record uses them. */
struct usage {
	size_t total, active;
	uint64_t size, reclaimable;
};

static void container_usage(struct usage *u)
{
	struct rec_list l = { 0 };
	struct berr *e = NULL;

	memset(u, 0, sizeof(*u));
	if (rec_list_load(&l, &e) < 0) {
		berr_free(e);
		return;
	}
	for (size_t i = 0; i < l.n; i++) {
		char dir[PATH_MAX];
		uint64_t bytes = 0;
		int fd;

		u->total++;
		if (paths_container(dir, sizeof(dir), l.v[i].cfg.id) == 0 &&
		    (fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
			bytes = fs_tree_size_at(fd, "upper");
			close(fd);
		}
		u->size += bytes;
		if (l.v[i].st.status == REC_RUNNING)
			u->active++;
		else
			u->reclaimable += bytes;
	}
	rec_list_free(&l);
}

static void volume_usage(struct usage *u)
{
	struct vol_list l = { 0 };
	struct berr *e = NULL;

	memset(u, 0, sizeof(*u));
	if (vol_list_load(&l, &e) < 0) {
		berr_free(e);
		return;
	}
	for (size_t i = 0; i < l.n; i++) {
		char dir[PATH_MAX], **ids = NULL;
		size_t n_ids = 0;
		uint64_t bytes = 0;
		int fd;

		u->total++;
		if (paths_volume_dir(dir, sizeof(dir), l.v[i].name) == 0 &&
		    (fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
			bytes = fs_tree_size_at(fd, "_data");
			close(fd);
		}
		u->size += bytes;
		if (vol_users(l.v[i].name, &ids, &n_ids, &e) < 0) {
			berr_free(e);
			e = NULL;
			n_ids = 1; /* unknown: not reclaimable */
		}
		if (n_ids)
			u->active++;
		else
			u->reclaimable += bytes;
		vol_ids_free(ids, ids ? n_ids : 0);
	}
	vol_list_free(&l);
}

static int df(struct cli_ctx *ctx, enum out_format fmt)
{
	struct gc_opts o = { .dry_run = true, .dangling = true, .tmp = true };
	struct store_refs refs = { 0 };
	struct img_list list = { 0 };
	struct gc_inuse inuse = { 0 };
	struct berr *err = NULL;
	struct gc_stats st;
	char dir[PATH_MAX], s1[16], s2[16];
	size_t total = 0, active = 0;
	uint64_t size = 0;
	struct usage cu, vu;
	int ret;

	(void) ctx;
	if ((ret = cli_load_refs(&refs)) != EXIT_OK)
		return ret;
	img_list_load(&refs, &list, NULL);
	if (gc_inuse_load(&inuse, &err) < 0 || gc_run(&o, &st, &err) < 0) {
		img_list_free(&list);
		store_refs_free(&refs);
		return berr_report(err);
	}
	for (size_t i = 0; i < list.n; i++) {
		bool in_use = false;

		total++;
		if (list.v[i].ok)
			for (size_t k = 0; k < list.v[i].img.n_layers; k++)
				if (gc_inuse_has(&inuse, list.v[i].img.chain_ids[k].hex))
					in_use = true;
		active += in_use;
	}
	container_usage(&cu);
	volume_usage(&vu);
	if (paths_blobs_dir(dir, sizeof(dir)) == 0)
		size += dir_bytes(dir, "");
	if (paths_layers_dir(dir, sizeof(dir)) == 0)
		size += dir_bytes(dir, ".sqfs");
	if (fmt == OUT_JSON) {
		json_t *arr = json_array();
		char *s;
		json_array_append_new(arr, json_pack("{s:s, s:I, s:I, s:I, s:I}", "Type", "Images",
						     "TotalCount", (json_int_t) total, "Active",
						     (json_int_t) active, "Size", (json_int_t) size,
						     "Reclaimable", (json_int_t) st.bytes));
		json_array_append_new(arr, json_pack("{s:s, s:I, s:I, s:I, s:I}", "Type", "Containers",
						     "TotalCount", (json_int_t) cu.total, "Active", (json_int_t) cu.active,
						     "Size", (json_int_t) cu.size, "Reclaimable", (json_int_t) cu.reclaimable));
		json_array_append_new(arr, json_pack("{s:s, s:I, s:I, s:I, s:I}", "Type", "Local Volumes",
						     "TotalCount", (json_int_t) vu.total, "Active", (json_int_t) vu.active,
						     "Size", (json_int_t) vu.size, "Reclaimable", (json_int_t) vu.reclaimable));
		s = json_dumps(arr, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		json_decref(arr);
		if (s) {
			puts(s);
			free(s);
		}
	} else {
		char rec[40];
		cli_human_size(size, s1, sizeof(s1));
		cli_human_size(st.bytes, s2, sizeof(s2));
		snprintf(rec, sizeof(rec), "%s (%d%%)", s2, size ? (int) (st.bytes * 100 / size) : 0);
		printf("%-15s %-8s %-8s %-10s %s\n", "TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE");
		printf("%-15s %-8zu %-8zu %-10s %s\n", "Images", total, active, s1, rec);
		const struct usage *us[2] = { &cu, &vu };
		const char *names[2] = { "Containers", "Local Volumes" };
		for (int k = 0; k < 2; k++) {
			cli_human_size(us[k]->size, s1, sizeof(s1));
			cli_human_size(us[k]->reclaimable, s2, sizeof(s2));
			snprintf(rec, sizeof(rec), "%s (%d%%)", s2,
				 us[k]->size ? (int) (us[k]->reclaimable * 100 / us[k]->size) : 0);
			printf("%-15s %-8zu %-8zu %-10s %s\n", names[k], us[k]->total, us[k]->active, s1, rec);
		}
	}
	gc_inuse_free(&inuse);
	img_list_free(&list);
	store_refs_free(&refs);
	return EXIT_OK;
}

/* Layer mounts outlive the containers that used them, so the next start finds the layer
 * mounted and its page cache warm; this lets them go (before unmounting the data root, say). */
static int prune_mounts(int argc, char **argv)
{
	static const struct cli_opt none[] = { { 0, 0, NULL, NULL, NULL } };
	struct berr *err = NULL;
	const char *value;
	struct args a;
	int id, n;

	args_init(&a, none, argc, argv, "berth system prune-mounts");
	while ((id = args_next(&a, &value, &err)) != ARGS_DONE) {
		if (id == -1)
			return berr_report(err);
		if (id == ARGS_HELP) {
			args_print_usage(stdout, "berth system prune-mounts",
					 "Release the layer mounts that no container uses", none);
			return EXIT_OK;
		}
	}
	if (a.i < argc) {
		berr_usage(&err, "`berth system prune-mounts` takes no arguments");
		return berr_report(err);
	}
	n = layer_release_unused(&err);
	if (n < 0)
		return berr_report(err);
	printf("Released %d layer mount%s\n", n, n == 1 ? "" : "s");
	return EXIT_OK;
}

static void system_usage(FILE *out)
{
	fprintf(out, "Usage: berth system COMMAND\n\nManage berth\n\nCommands:\n"
		"  df            Show flash usage of images, containers and volumes\n"
		"  prune-mounts  Release the layer mounts no container uses\n"
		"\nRun 'berth system COMMAND --help' for more information on a command.\n");
}

int cmd_system(struct cli_ctx *ctx, int argc, char **argv)
{
	enum out_format fmt = OUT_TABLE;
	struct berr *err = NULL;
	const char *value;
	struct args a;
	int id;

	if (argc < 2) {
		system_usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
		system_usage(stdout);
		return EXIT_OK;
	}
	if (strcmp(argv[1], "prune-mounts") == 0)
		return prune_mounts(argc - 1, argv + 1);
	if (strcmp(argv[1], "df") != 0) {
		berr_usage(&err, "unknown command `berth system %s`; see `berth system --help`", argv[1]);
		return berr_report(err);
	}
	args_init(&a, cmd_system_opts, argc - 1, argv + 1, "berth system df");
	while ((id = args_next(&a, &value, &err)) != ARGS_DONE) {
		if (id == -1)
			return berr_report(err);
		if (id == ARGS_HELP) {
			args_print_usage(stdout, "berth system df [OPTIONS]",
					 "Show flash usage: images, containers, volumes", cmd_system_opts);
			return EXIT_OK;
		}
		if (id == O_FORMAT && cli_parse_format(value, &fmt, &err) < 0)
			return berr_report(err);
	}
	if (a.i < argc - 1) {
		berr_usage(&err, "`berth system df` takes no arguments");
		return berr_report(err);
	}
	return df(ctx, fmt);
}
