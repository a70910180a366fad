/* `berth version`: version, git revision, Kconfig features and the libraries linked in. */
#include "cli.h"
#include "base/err.h"
#include "base/util.h"
#include "config.h"

#include <archive.h>
#include <jansson.h>
#include <mbedtls/version.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <yaml.h>

enum { O_FORMAT = 1 };

const struct cli_opt cmd_version_opts[] = {
	{ O_FORMAT, 'f', "format", "string", "Output format: table or json" },
	{ 0, 0, NULL, NULL, NULL },
};

static const struct {
	const char *name;
	int on;
} features[] = {
	{ "init", ENABLE_INIT },
	{ "tls", ENABLE_TLS },
	{ "signatures", ENABLE_SIGNATURES },
	{ "seccomp", ENABLE_SECCOMP },
	{ "compose", ENABLE_COMPOSE },
	{ "build", ENABLE_BUILD },
	{ "squashfs-writer", ENABLE_SQUASHFS_WRITER },
	{ "squashfs-zstd", ENABLE_SQUASHFS_ZSTD },
	{ "squashfs-libdeflate", ENABLE_SQUASHFS_LIBDEFLATE },
	{ "squashfs-xz", ENABLE_SQUASHFS_XZ },
	{ "cgroup-v1", ENABLE_CGROUP_V1 },
};

struct lib_version {
	const char *name;
	char version[64];
};

/* Versions of what is linked in, asked of the libraries themselves where they can tell. */
static size_t library_versions(struct lib_version *out)
{
	size_t n = 0;
	const char *av = archive_version_string(); /* "libarchive 3.6.2" */

	out[n].name = "libarchive";
	snprintf(out[n++].version, sizeof(out[0].version), "%s", strchr(av, ' ') ? strchr(av, ' ') + 1 : av);
	out[n].name = "mbedtls";
	mbedtls_version_get_string(out[n++].version);
	out[n].name = "jansson";
	snprintf(out[n++].version, sizeof(out[0].version), "%s", jansson_version_str());
	out[n].name = "inih";
	snprintf(out[n++].version, sizeof(out[0].version), "(no version API)");
	if (ENABLE_SECCOMP) {
		const struct scmp_version *v = seccomp_version();
		out[n].name = "libseccomp";
		snprintf(out[n++].version, sizeof(out[0].version), "%u.%u.%u", v->major, v->minor, v->micro);
	}
	if (ENABLE_COMPOSE) {
		out[n].name = "libyaml";
		snprintf(out[n++].version, sizeof(out[0].version), "%s", yaml_get_version_string());
	}
	return n;
}

int cmd_version(struct cli_ctx *ctx, int argc, char **argv)
{
	enum out_format fmt = OUT_TABLE;
	struct lib_version libs[8];
	struct berr *err = NULL;
	const char *value;
	struct args a;
	size_t nlibs;
	int id;

	(void) ctx;
	args_init(&a, cmd_version_opts, argc, argv, "berth version");
	while ((id = args_next(&a, &value, &err)) != ARGS_DONE) {
		if (id == -1)
			return berr_report(err);
		if (id == ARGS_HELP) {
			command_usage(command_find("version"), stdout);
			return EXIT_OK;
		}
		if (id == O_FORMAT && cli_parse_format(value, &fmt, &err) < 0)
			return berr_report(err);
	}
	if (a.i < argc) {
		berr_usage(&err, "`berth version` takes no arguments");
		return berr_report(err);
	}
	nlibs = library_versions(libs);
	if (fmt == OUT_JSON) {
		json_t *root = json_object(), *feat = json_array(), *jl = json_object();
		char *s;
		for (size_t i = 0; i < ARRAY_SIZE(features); i++)
			if (features[i].on)
				json_array_append_new(feat, json_string(features[i].name));
		for (size_t i = 0; i < nlibs; i++)
			json_object_set_new(jl, libs[i].name, json_string(libs[i].version));
		json_object_set_new(root, "version", json_string(BERTH_VERSION));
		json_object_set_new(root, "git", json_string(BERTH_GIT_REV));
		json_object_set_new(root, "features", feat);
		json_object_set_new(root, "libraries", jl);
		s = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		json_decref(root);
		if (s == NULL)
			return EXIT_BERTH;
		puts(s);
		free(s);
		return EXIT_OK;
	}
	printf("berth %s (git %s)\n", BERTH_VERSION, BERTH_GIT_REV);
	printf("features:");
	for (size_t i = 0; i < ARRAY_SIZE(features); i++)
		printf(" %c%s", features[i].on ? '+' : '-', features[i].name);
	printf("\nlibraries:\n");
	for (size_t i = 0; i < nlibs; i++)
		printf("  %-12s %s\n", libs[i].name, libs[i].version);
	return EXIT_OK;
}
