/* `berth images` (`berth image ls`): the images in the store, one line per name, as Docker
 * shows them; and the size and age formats the other image commands share. */
#include "cli.h"
#include "base/err.h"
#include "base/util.h"
#include "image/image.h"
#include "image/ref.h"
#include "image/store.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { O_ALL = 1, O_DIGESTS, O_QUIET, O_FORMAT, O_NO_TRUNC };

const struct cli_opt cmd_images_opts[] = {
	{ O_ALL, 'a', "all", NULL, "Show all images (berth keeps no intermediate ones)" },
	{ O_DIGESTS, 0, "digests", NULL, "Show digests" },
	{ O_FORMAT, 'f', "format", "string", "Output format: table or json" },
	{ O_NO_TRUNC, 0, "no-trunc", NULL, "Don't truncate IDs and digests" },
	{ O_QUIET, 'q', "quiet", NULL, "Only show image IDs" },
	{ 0, 0, NULL, NULL, NULL },
};

/* Docker's sizes: decimal units, three significant digits ("7.05MB", "512kB"). */
void cli_human_size(uint64_t bytes, char *buf, size_t size)
{
	static const char *const units[] = { "B", "kB", "MB", "GB", "TB", "PB", "EB" };
	double v = (double) bytes;
	size_t u = 0;

	while (v >= 1000 && u + 1 < ARRAY_SIZE(units)) {
		v /= 1000;
		u++;
	}
	snprintf(buf, size, "%.3g%s", v, units[u]);
	/* 999.6 rounds to "1e+03": that is the next unit. */
	if (strchr(buf, 'e') && u + 1 < ARRAY_SIZE(units))
		snprintf(buf, size, "1%s", units[u + 1]);
}

/* Docker's "2 days ago": the same steps as its human-readable durations. */
void cli_human_since(int64_t t, char *buf, size_t size)
{
	int64_t s = (int64_t) time(NULL) - t, h;

	if (t < 0) {
		snprintf(buf, size, "N/A");
		return;
	}
	if (s < 0)
		s = 0;
	h = (s + 1800) / 3600;
	if (s < 1)
		snprintf(buf, size, "Less than a second ago");
	else if (s == 1)
		snprintf(buf, size, "1 second ago");
	else if (s < 60)
		snprintf(buf, size, "%lld seconds ago", (long long) s);
	else if (s / 60 == 1)
		snprintf(buf, size, "About a minute ago");
	else if (s < 3600)
		snprintf(buf, size, "%lld minutes ago", (long long) (s / 60));
	else if (h == 1)
		snprintf(buf, size, "About an hour ago");
	else if (h < 48)
		snprintf(buf, size, "%lld hours ago", (long long) h);
	else if (h < 24 * 7 * 2)
		snprintf(buf, size, "%lld days ago", (long long) (h / 24));
	else if (h < 24 * 30 * 2)
		snprintf(buf, size, "%lld weeks ago", (long long) (h / 24 / 7));
	else if (h < 24 * 365 * 2)
		snprintf(buf, size, "%lld months ago", (long long) (h / 24 / 30));
	else
		snprintf(buf, size, "%lld years ago", (long long) (h / 24 / 365));
}

int cli_load_refs(struct store_refs *refs)
{
	struct berr *err = NULL;

	if (store_refs_load(refs, &err) < 0)
		return berr_report(err);
	return EXIT_OK;
}

struct row {
	char repo[REF_STR_SIZE];
	char tag[REF_TAG_MAX + 8];
	char digest[DIGEST_STR_SIZE];
	char id[DIGEST_STR_SIZE];
	char created[32];
	char size[16];
	int64_t created_t;
	uint64_t bytes;
	const struct img_info *info; /* not owned */
};

static int cmp_row(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	int c;

	if (x->created_t != y->created_t)
		return x->created_t > y->created_t ? -1 : 1;
	c = strcmp(x->repo, y->repo);
	return c ? c : strcmp(x->tag, y->tag);
}

/* Does refs key `key` match the user's REPOSITORY[:TAG] filter? */
static bool filter_match(const struct ref *f, const char *key, const char *default_registry)
{
	struct ref r;

	if (img_key_is_dangling(key) || ref_parse(key, default_registry, REF_NO_DEFAULT_TAG, &r, NULL) < 0)
		return false;
	if (strcmp(r.domain, f->domain) != 0 || strcmp(r.path, f->path) != 0)
		return false;
	return f->tag[0] == '\0' || strcmp(f->tag, r.tag) == 0;
}

static void fit(char *s, size_t width)
{
	if (strlen(s) > width && width > 3)
		strcpy(s + width - 3, "...");
}

static void print_table(struct row *rows, size_t n, bool digests)
{
	size_t w_repo = strlen("REPOSITORY"), w_tag = 3, w_dig = strlen("DIGEST"), w_id = 8,
	       w_cr = strlen("CREATED"), w_size = 4, total;

	for (size_t i = 0; i < n; i++) {
		if (strlen(rows[i].repo) > w_repo)
			w_repo = strlen(rows[i].repo);
		if (strlen(rows[i].tag) > w_tag)
			w_tag = strlen(rows[i].tag);
		if (strlen(rows[i].digest) > w_dig)
			w_dig = strlen(rows[i].digest);
		if (strlen(rows[i].id) > w_id)
			w_id = strlen(rows[i].id);
		if (strlen(rows[i].created) > w_cr)
			w_cr = strlen(rows[i].created);
		if (strlen(rows[i].size) > w_size)
			w_size = strlen(rows[i].size);
	}
	/* An 80-column console: long names give way first, then long tags. */
	total = w_repo + w_tag + w_id + w_cr + w_size + 4 * 3 + (digests ? w_dig + 3 : 0);
	if (total > 80 && w_repo > 16) {
		size_t cut = total - 80 < w_repo - 16 ? total - 80 : w_repo - 16;
		w_repo -= cut;
		total -= cut;
	}
	if (total > 80 && w_tag > 10) {
		size_t cut = total - 80 < w_tag - 10 ? total - 80 : w_tag - 10;
		w_tag -= cut;
	}
	if (digests)
		printf("%-*s   %-*s   %-*s   %-*s   %-*s   %s\n", (int) w_repo, "REPOSITORY", (int) w_tag,
		       "TAG", (int) w_dig, "DIGEST", (int) w_id, "IMAGE ID", (int) w_cr, "CREATED", "SIZE");
	else
		printf("%-*s   %-*s   %-*s   %-*s   %s\n", (int) w_repo, "REPOSITORY", (int) w_tag, "TAG",
		       (int) w_id, "IMAGE ID", (int) w_cr, "CREATED", "SIZE");
	for (size_t i = 0; i < n; i++) {
		struct row *r = &rows[i];
		fit(r->repo, w_repo);
		fit(r->tag, w_tag);
		if (digests)
			printf("%-*s   %-*s   %-*s   %-*s   %-*s   %s\n", (int) w_repo, r->repo, (int) w_tag,
			       r->tag, (int) w_dig, r->digest, (int) w_id, r->id, (int) w_cr, r->created,
			       r->size);
		else
			printf("%-*s   %-*s   %-*s   %-*s   %s\n", (int) w_repo, r->repo, (int) w_tag, r->tag,
			       (int) w_id, r->id, (int) w_cr, r->created, r->size);
	}
}

static int print_json(struct row *rows, size_t n)
{
	json_t *arr = json_array();
	char *s;

	for (size_t i = 0; i < n; i++) {
		struct row *r = &rows[i];
		char id[DIGEST_STR_SIZE], top[DIGEST_STR_SIZE];
		json_t *o = json_object();

		json_object_set_new(o, "Repository", json_string(r->repo));
		json_object_set_new(o, "Tag", json_string(r->tag));
		json_object_set_new(o, "Digest", json_string(digest_format(&r->info->top, top)));
		json_object_set_new(o, "ID", r->info->ok ? json_string(digest_format(&r->info->img.id, id)) :
					     json_null());
		json_object_set_new(o, "CreatedAt", r->info->ok && r->info->img.cfg.created ?
					     json_string(r->info->img.cfg.created) : json_null());
		json_object_set_new(o, "CreatedSince", json_string(r->created));
		json_object_set_new(o, "Size", json_integer((json_int_t) r->bytes));
		if (!r->info->ok)
			json_object_set_new(o, "Problem", json_string(r->info->problem));
		json_array_append_new(arr, o);
	}
	s = json_dumps(arr, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(arr);
	if (s == NULL)
		return -1;
	puts(s);
	free(s);
	return 0;
}

int cmd_images(struct cli_ctx *ctx, int argc, char **argv)
{
	const char *dreg = ctx->cfg.daemon.default_registry, *value;
	struct store_refs refs = { 0 };
	struct img_list list = { 0 };
	enum out_format fmt = OUT_TABLE;
	bool digests = false, quiet = false, no_trunc = false, has_filter = false;
	struct berr *err = NULL;
	struct ref filter;
	struct row *rows;
	size_t n = 0;
	struct args a;
	int id, ret;

	args_init(&a, cmd_images_opts, argc, argv, "berth images");
	while ((id = args_next(&a, &value, &err)) != ARGS_DONE) {
		switch (id) {
		case -1:
			return berr_report(err);
		case ARGS_HELP:
			command_usage(command_find("images"), stdout);
			return EXIT_OK;
		case O_DIGESTS:
			digests = true;
			break;
		case O_QUIET:
			quiet = true;
			break;
		case O_NO_TRUNC:
			no_trunc = true;
			break;
		case O_FORMAT:
			if (cli_parse_format(value, &fmt, &err) < 0)
				return berr_report(err);
			break;
		}
	}
	if (argc - a.i > 1) {
		berr_usage(&err, "`berth images` takes at most one REPOSITORY[:TAG]");
		return berr_report(err);
	}
	if (a.i < argc) {
		if (ref_parse(argv[a.i], dreg, REF_NO_DEFAULT_TAG, &filter, &err) < 0)
			return berr_report(err);
		has_filter = true;
	}
	if ((ret = cli_load_refs(&refs)) != EXIT_OK)
		return ret;
	img_list_load(&refs, &list, NULL);
	rows = xcalloc(refs.n ? refs.n : 1, sizeof(*rows));
	for (size_t i = 0; i < list.n; i++) {
		const struct img_info *info = &list.v[i];
		for (size_t k = 0; k < info->n_keys; k++) {
			const char *key = info->keys[k];
			struct row *r;

			if (has_filter && !filter_match(&filter, key, dreg))
				continue;
			/* A dangling key only shows while the image has no name. */
			if (img_key_is_dangling(key) && info->n_keys > 1)
				continue;
			r = &rows[n++];
			r->info = info;
			img_key_split(key, dreg, r->repo, sizeof(r->repo), r->tag, sizeof(r->tag));
			digest_format(&info->top, r->digest);
			if (!no_trunc)
				r->digest[7 + IMG_SHORT_ID_LEN] = '\0';
			if (info->ok) {
				if (no_trunc)
					digest_format(&info->img.id, r->id);
				else
					snprintf(r->id, sizeof(r->id), "%.*s", IMG_SHORT_ID_LEN, info->img.id.hex);
				r->created_t = img_parse_time(info->img.cfg.created);
			} else {
				snprintf(r->id, sizeof(r->id), "<broken>");
				r->created_t = -1;
			}
			cli_human_since(r->created_t, r->created, sizeof(r->created));
			r->bytes = info->size;
			cli_human_size(info->size, r->size, sizeof(r->size));
		}
	}
	if (n > 1)
		qsort(rows, n, sizeof(*rows), cmp_row);
	ret = EXIT_OK;
	if (quiet) {
		/* Each image once, as Docker does. */
		for (size_t i = 0; i < n; i++) {
			bool seen = false;
			for (size_t j = 0; j < i; j++)
				if (strcmp(rows[j].id, rows[i].id) == 0)
					seen = true;
			if (!seen)
				puts(rows[i].id);
		}
	} else if (fmt == OUT_JSON) {
		if (print_json(rows, n) < 0)
			ret = EXIT_BERTH;
	} else {
		print_table(rows, n, digests);
	}
	free(rows);
	img_list_free(&list);
	store_refs_free(&refs);
	return ret;
}
