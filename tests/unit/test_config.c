/* Unit tests for core/base/config.c: every key type, the syntax berth.conf accepts, every error
 * with its file:line, named sections, the value parsers, and the printers (which must produce
 * text that loads back to the same configuration). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/config.h"
#include "base/err.h"
#include "base/fs.h"

/* ---- helpers ---- */

static int is_zeroed(const struct berth_config *cfg)
{
	static const struct berth_config zero;

	return memcmp(cfg, &zero, sizeof(zero)) == 0;
}

/* Load `text` (of `len` bytes) as "t.conf"; fail the test on any error. */
static void load_ok_len(struct berth_config *cfg, const char *text, size_t len)
{
	struct berr *err = NULL;

	if (config_load_buffer(cfg, "t.conf", text, len, &err) < 0)
		fail_msg("unexpected error: %s", err->msg);
	assert_null(err);
	assert_non_null(cfg->path);
	assert_string_equal(cfg->path, "t.conf");
}

static void load_ok(struct berth_config *cfg, const char *text)
{
	load_ok_len(cfg, text, strlen(text));
}

/* Load `text` as "t.conf"; it must fail as a usage error, leave cfg zeroed, and the message
 * must contain each of the NULL-terminated substrings. Returns the message (to free). */
static char *load_err_len(const char *text, size_t len, ...)
{
	struct berth_config cfg;
	struct berr *err = NULL;
	const char *want;
	char *msg;
	va_list ap;

	memset(&cfg, 0x5a, sizeof(cfg));
	assert_int_equal(config_load_buffer(&cfg, "t.conf", text, len, &err), -1);
	assert_non_null(err);
	assert_true(is_zeroed(&cfg));
	assert_int_equal(err->status, EXIT_USAGE);
	va_start(ap, len);
	while ((want = va_arg(ap, const char *)) != NULL)
		if (strstr(err->msg, want) == NULL) {
			va_end(ap);
			fail_msg("error `%s`\n  does not contain `%s`", err->msg, want);
		}
	va_end(ap);
	msg = strdup(err->msg);
	berr_free(err);
	return msg;
}

#define load_err(text, ...) free(load_err_len((text), strlen(text), __VA_ARGS__, NULL))

/* Every value of one section instance, compared through the keys table. */
static void assert_section_equal(const char *section, const void *a, const void *b,
				 const char *skip_key)
{
	for (size_t i = 0; i < cfg_n_keys; i++) {
		const struct cfg_key *k = &cfg_keys[i];
		const char *fa = (const char *) a + k->offset, *fb = (const char *) b + k->offset;

		if (strcmp(k->section, section) != 0 || (skip_key && strcmp(k->key, skip_key) == 0))
			continue;
		switch (k->type) {
		case CFG_BOOL:
			if (*(const bool *) fa != *(const bool *) fb)
				fail_msg("[%s] %s differs", section, k->key);
			break;
		case CFG_SIZE:
		case CFG_DURATION:
			if (*(const uint64_t *) fa != *(const uint64_t *) fb)
				fail_msg("[%s] %s differs: %llu vs %llu", section, k->key,
					 (unsigned long long) *(const uint64_t *) fa,
					 (unsigned long long) *(const uint64_t *) fb);
			break;
		default: {
			const char *sa = *(char *const *) fa, *sb = *(char *const *) fb;
			if ((sa == NULL) != (sb == NULL) || (sa && strcmp(sa, sb) != 0))
				fail_msg("[%s] %s differs: `%s` vs `%s`", section, k->key, sa ? sa : "(unset)",
					 sb ? sb : "(unset)");
		}
		}
	}
}

static void assert_config_equal(const struct berth_config *a, const struct berth_config *b,
				const char *skip_registry_key)
{
	assert_section_equal("daemon", &a->daemon, &b->daemon, NULL);
	assert_section_equal("init", &a->init, &b->init, NULL);
	assert_section_equal("store", &a->store, &b->store, NULL);
	assert_section_equal("logs", &a->logs, &b->logs, NULL);
	assert_int_equal(a->n_registries, b->n_registries);
	for (size_t i = 0; i < a->n_registries; i++) {
		assert_string_equal(a->registries[i].name, b->registries[i].name);
		assert_section_equal("registry", &a->registries[i], &b->registries[i], skip_registry_key);
	}
	assert_int_equal(a->n_trusts, b->n_trusts);
	for (size_t i = 0; i < a->n_trusts; i++) {
		assert_string_equal(a->trusts[i].name, b->trusts[i].name);
		assert_section_equal("trust", &a->trusts[i], &b->trusts[i], NULL);
	}
}

/* config_print(cfg), or config_print_defaults() if cfg is NULL, as a malloc'd string. */
static char *print_to_string(const struct berth_config *cfg)
{
	char *text = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&text, &size);

	assert_non_null(out);
	if (cfg)
		config_print(cfg, out);
	else
		config_print_defaults(out);
	assert_int_equal(fclose(out), 0);
	return text;
}

static char tmpdir[64];

static int group_setup(void **state)
{
	(void) state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/berth-test-config.XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int group_teardown(void **state)
{
	struct berr *err = NULL;

	(void) state;
	if (fs_rm_rf(tmpdir, &err) < 0) {
		berr_free(err);
		return -1;
	}
	return 0;
}

static void write_conf(char *path, const char *name, const char *text)
{
	FILE *f;

	snprintf(path, PATH_MAX, "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

/* ---- defaults and values ---- */

static void test_defaults(void **state)
{
	struct berth_config cfg, empty;
	struct berr *err = NULL;

	(void) state;
	assert_int_equal(config_defaults(&cfg, &err), 0);
	assert_null(cfg.path);
	assert_string_equal(cfg.daemon.data_root, "/var/lib/berth");
	assert_string_equal(cfg.daemon.run_dir, "/run/berth");
	assert_string_equal(cfg.daemon.log_level, "warn");
	assert_string_equal(cfg.daemon.network, "host");
	assert_int_equal(cfg.logs.max_size, 1024 * 1024);
	assert_false(cfg.logs.persist);
	assert_string_equal(cfg.daemon.apps_dir, "/etc/berth/apps");
	assert_string_equal(cfg.daemon.compose_file, "/etc/berth/compose.yaml");
	assert_string_equal(cfg.daemon.default_registry, "docker.io");
	assert_null(cfg.init.data_device);
	assert_string_equal(cfg.init.data_fstype, "ext4");
	assert_string_equal(cfg.init.data_mount, "/data");
	assert_null(cfg.init.hostname);
	assert_null(cfg.init.watchdog_device);
	assert_int_equal(cfg.init.watchdog_timeout, 30000);
	assert_false(cfg.init.console_shell);
	assert_int_equal(cfg.n_registries, 0);
	assert_null(cfg.registries);
	assert_int_equal(cfg.n_trusts, 0);
	assert_null(cfg.trusts);

	/* An empty file, or one of comments and blanks only, is the defaults. */
	load_ok(&empty, "");
	assert_config_equal(&cfg, &empty, NULL);
	config_free(&empty);
	assert_true(is_zeroed(&empty));
	load_ok(&empty, "# nothing\n; nothing either\n\n   \n\t\n[daemon]\n[init]\n");
	assert_config_equal(&cfg, &empty, NULL);
	config_free(&empty);
	config_free(&cfg);
	/* config_free twice is harmless. */
	config_free(&cfg);
}

static void test_every_key(void **state)
{
	struct berth_config cfg;

	(void) state;
	load_ok(&cfg,
		"[daemon]\n"
		"data-root = /data/berth\n"
		"run-dir = /run/b\n"
		"log-level = debug\n"
		"network = none\n"
		"log-size = 256k\n"
		"apps-dir = /data/apps\n"
		"compose-file = /data/compose.yaml\n"
		"default-registry = registry.local:5000\n"
		"[init]\n"
		"data-device = /dev/mmcblk0p3\n"
		"data-fstype = f2fs\n"
		"data-mount = /mnt/data\n"
		"hostname = board-01.lan\n"
		"watchdog-device = /dev/watchdog0\n"
		"watchdog-timeout = 2m\n"
		"console-shell = yes\n"
		"[registry \"registry.local:5000\"]\n"
		"username = robot\n"
		"password = s3cret\n"
		"ca-file = /etc/berth/ca.pem\n"
		"insecure = true\n"
		"mirror = mirror.local\n"
		"[trust \"registry.local:5000/apps/\"]\n"
		"public-key = /etc/berth/apps.pub\n"
		"policy = warn\n");
	assert_string_equal(cfg.daemon.data_root, "/data/berth");
	assert_string_equal(cfg.daemon.run_dir, "/run/b");
	assert_string_equal(cfg.daemon.log_level, "debug");
	assert_string_equal(cfg.daemon.network, "none");
	assert_int_equal(cfg.logs.max_size, 256 * 1024); /* the old name still works */
	assert_string_equal(cfg.daemon.apps_dir, "/data/apps");
	assert_string_equal(cfg.daemon.compose_file, "/data/compose.yaml");
	assert_string_equal(cfg.daemon.default_registry, "registry.local:5000");
	assert_string_equal(cfg.init.data_device, "/dev/mmcblk0p3");
	assert_string_equal(cfg.init.data_fstype, "f2fs");
	assert_string_equal(cfg.init.data_mount, "/mnt/data");
	assert_string_equal(cfg.init.hostname, "board-01.lan");
	assert_string_equal(cfg.init.watchdog_device, "/dev/watchdog0");
	assert_int_equal(cfg.init.watchdog_timeout, 120000);
	assert_true(cfg.init.console_shell);
	assert_int_equal(cfg.n_registries, 1);
	assert_string_equal(cfg.registries[0].name, "registry.local:5000");
	assert_string_equal(cfg.registries[0].username, "robot");
	assert_string_equal(cfg.registries[0].password, "s3cret");
	assert_string_equal(cfg.registries[0].ca_file, "/etc/berth/ca.pem");
	assert_true(cfg.registries[0].insecure);
	assert_string_equal(cfg.registries[0].mirror, "mirror.local");
	assert_int_equal(cfg.n_trusts, 1);
	assert_string_equal(cfg.trusts[0].name, "registry.local:5000/apps/");
	assert_string_equal(cfg.trusts[0].public_key, "/etc/berth/apps.pub");
	assert_string_equal(cfg.trusts[0].policy, "warn");
	config_free(&cfg);
	assert_true(is_zeroed(&cfg));
}

static void test_bool_forms(void **state)
{
	static const struct {
		const char *text;
		bool want;
	} forms[] = {
		{ "yes", true }, { "no", false }, { "true", true }, { "false", false },
		{ "on", true }, { "off", false }, { "1", true }, { "0", false },
		{ "YES", true }, { "False", false }, { "On", true }, { "OFF", false },
	};
	char text[128];

	(void) state;
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		struct berth_config cfg;
		bool b = !forms[i].want;

		assert_int_equal(parse_bool(forms[i].text, &b), 0);
		assert_int_equal(b, forms[i].want);
		/* The default is "no", so start from the opposite to see the value land. */
		snprintf(text, sizeof(text), "[init]\nconsole-shell = %s\n", forms[i].text);
		load_ok(&cfg, text);
		assert_int_equal(cfg.init.console_shell, forms[i].want);
		config_free(&cfg);
	}
}

static void test_size_values(void **state)
{
	static const struct {
		const char *text;
		uint64_t want;
	} sizes[] = {
		{ "0", 0 }, { "512", 512 }, { "1b", 1 }, { "4k", 4096 }, { "4K", 4096 },
		{ "4kb", 4096 }, { "4KiB", 4096 }, { "16m", 16u << 20 }, { "16M", 16u << 20 },
		{ "16mb", 16u << 20 }, { "16MiB", 16u << 20 }, { "1g", 1ull << 30 },
		{ "2GB", 2ull << 30 }, { "3gib", 3ull << 30 }, { "1t", 1ull << 40 }, { "5TiB", 5ull << 40 },
		{ "0k", 0 },
	};
	char text[128];

	(void) state;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct berth_config cfg;
		uint64_t v = 12345;

		assert_int_equal(parse_size(sizes[i].text, &v), 0);
		assert_int_equal(v, sizes[i].want);
		/* Through the one unconstrained size key, whose floor is 8K. */
		snprintf(text, sizeof(text), "[logs]\nmax-size = %s\n", sizes[i].text);
		if (sizes[i].want < 8192) {
			load_err(text, "t.conf:2: bad value", "must be at least 8K");
			continue;
		}
		load_ok(&cfg, text);
		assert_int_equal(cfg.logs.max_size, sizes[i].want);
		config_free(&cfg);
	}
}

static void test_duration_values(void **state)
{
	static const struct {
		const char *text;
		uint64_t want;
	} durs[] = {
		{ "0", 0 }, { "0ms", 0 }, { "0s", 0 }, { "500ms", 500 }, { "10s", 10000 },
		{ "5m", 300000 }, { "1h", 3600000 }, { "2H", 7200000 }, { "1500MS", 1500 },
	};
	char text[128];

	(void) state;
	for (size_t i = 0; i < sizeof(durs) / sizeof(durs[0]); i++) {
		struct berth_config cfg;
		uint64_t v = 12345;

		assert_int_equal(parse_duration_ms(durs[i].text, &v), 0);
		assert_int_equal(v, durs[i].want);
		snprintf(text, sizeof(text), "[init]\nwatchdog-timeout = %s\n", durs[i].text);
		load_ok(&cfg, text);
		assert_int_equal(cfg.init.watchdog_timeout, durs[i].want);
		config_free(&cfg);
	}
}

static void test_parser_edge_cases(void **state)
{
	static const char *const bad_sizes[] = {
		"", "k", "-1", "+1", " 1", "1 ", "1 k", "1.5k", "1kk", "1x", "0x10", "1e3",
		"99999999999999999999",  /* more than 64 bits */
		"18446744073709551616",  /* 2^64 */
		"17179869184g",          /* 2^34 GiB = 2^64 bytes */
		"16777216t",             /* 2^24 TiB = 2^64 bytes */
	};
	static const char *const bad_durations[] = {
		"", "10", "1", "ms", "-1s", "1.5s", "1 s", "1d", "1sec", "10min",
		"5124095576031h",        /* just over 2^64 ms */
		"99999999999999999999ms",
	};
	static const char *const bad_bools[] = { "", "2", "y", "n", "yes ", " no", "enable", "tru" };
	uint64_t v;
	bool b;

	(void) state;
	for (size_t i = 0; i < sizeof(bad_sizes) / sizeof(bad_sizes[0]); i++) {
		v = 7;
		if (parse_size(bad_sizes[i], &v) != -1)
			fail_msg("parse_size accepted `%s`", bad_sizes[i]);
		assert_int_equal(v, 7); /* untouched on error */
	}
	for (size_t i = 0; i < sizeof(bad_durations) / sizeof(bad_durations[0]); i++) {
		v = 7;
		if (parse_duration_ms(bad_durations[i], &v) != -1)
			fail_msg("parse_duration_ms accepted `%s`", bad_durations[i]);
		assert_int_equal(v, 7);
	}
	for (size_t i = 0; i < sizeof(bad_bools) / sizeof(bad_bools[0]); i++)
		if (parse_bool(bad_bools[i], &b) != -1)
			fail_msg("parse_bool accepted `%s`", bad_bools[i]);

	/* The largest values that fit. */
	assert_int_equal(parse_size("9223372036854775807", &v), 0);
	assert_int_equal(v, 9223372036854775807ull);
	assert_int_equal(parse_size("16777215t", &v), 0);
	assert_int_equal(v, 16777215ull << 40);
	assert_int_equal(parse_size("17179869183g", &v), 0);
	assert_int_equal(v, 17179869183ull << 30);
	assert_int_equal(parse_duration_ms("5124095576030h", &v), 0);
	assert_int_equal(v, 5124095576030ull * 3600000ull);
	assert_int_equal(parse_duration_ms("0000000000000000000000000000000", &v), 0);
	assert_int_equal(v, 0);
}

/* ---- syntax ---- */

static void test_quoting_comments_and_layout(void **state)
{
	struct berth_config cfg;

	(void) state;
	load_ok(&cfg,
		"# a comment\n"
		"; another\n"
		"   [daemon]   ; trailing comment on a header\n"
		"\tnetwork = none ; inline comment\n"
		"    log-level=info\n"
		"data-root   =   /srv/berth   \n"
		"[registry \"r.example:443\"]  # hash comment after a header\n"
		"  username = \"a;b\"\n"
		"  password = \"  spaced out  \"\n"
		"mirror = \"m.example\"\n");
	assert_string_equal(cfg.daemon.network, "none");
	assert_string_equal(cfg.daemon.log_level, "info");
	assert_string_equal(cfg.daemon.data_root, "/srv/berth");
	assert_int_equal(cfg.n_registries, 1);
	assert_string_equal(cfg.registries[0].username, "a;b");
	assert_string_equal(cfg.registries[0].password, "  spaced out  ");
	assert_string_equal(cfg.registries[0].mirror, "m.example");
	config_free(&cfg);

	/* An empty string is a value (for keys that allow it); `""` is the same. */
	load_ok(&cfg, "[registry \"h\"]\nusername =\npassword = \"\"\n");
	assert_string_equal(cfg.registries[0].username, "");
	assert_string_equal(cfg.registries[0].password, "");
	config_free(&cfg);
}

static void test_crlf_bom_and_no_final_newline(void **state)
{
	struct berth_config cfg;

	(void) state;
	load_ok(&cfg, "\xEF\xBB\xBF[daemon]\r\nnetwork = none\r\nlog-size = 2M\r\n\r\n[init]\r\nhostname = b1");
	assert_string_equal(cfg.daemon.network, "none");
	assert_int_equal(cfg.logs.max_size, 2u << 20);
	assert_string_equal(cfg.init.hostname, "b1");
	config_free(&cfg);

	/* CRLF line numbers are right too. */
	load_err("[daemon]\r\n\r\nnetwrk = none\r\n", "t.conf:3: unknown key 'netwrk' in [daemon]");
	/* The BOM is skipped only at the very start. */
	load_err("[daemon]\n\xEF\xBB\xBFnetwork = none\n", "t.conf:2: unknown key");
}

/* public-key may be given once per key file; the printed config gives them back one a line. */
static void test_public_key_list(void **state)
{
	struct berth_config cfg, again;
	char *text;

	(void) state;
	load_ok(&cfg, "[trust \"r.example/app\"]\npublic-key = /etc/a.pub\n"
		      "public-key = /etc/b.pub\npolicy = require\n");
	assert_string_equal(cfg.trusts[0].public_key, "/etc/a.pub\n/etc/b.pub");
	text = print_to_string(&cfg);
	assert_non_null(strstr(text, "public-key = /etc/a.pub\npublic-key = /etc/b.pub\n"));
	load_ok(&again, text);
	assert_string_equal(again.trusts[0].public_key, "/etc/a.pub\n/etc/b.pub");
	free(text);
	config_free(&again);
	config_free(&cfg);
	load_err("[trust \"x\"]\npublic-key = /a.pub\npublic-key = b.pub\n",
		 "t.conf:3: bad value 'b.pub' for 'public-key'");
}

static void test_named_sections(void **state)
{
	struct berth_config cfg;
	const struct cfg_registry *r;

	(void) state;
	load_ok(&cfg,
		"[registry \"a.example\"]\n"
		"username = alice\n"
		"[registry \"b.example:5000\"]\n"
		"insecure = yes\n"
		"[trust \"a.example/\"]\n"
		"public-key = /etc/a.pub\n"
		"[registry \"a.example\"]\n"   /* repeated: merged into the first */
		"password = pw\n"
		"[trust \"b.example:5000/x\"]\n"
		"[trust \"a.example/\"]\n"
		"policy = off\n"
		"[registry \"empty.example\"]\n");
	assert_int_equal(cfg.n_registries, 3);
	assert_string_equal(cfg.registries[0].name, "a.example");
	assert_string_equal(cfg.registries[0].username, "alice");
	assert_string_equal(cfg.registries[0].password, "pw");
	assert_false(cfg.registries[0].insecure); /* default applied */
	assert_null(cfg.registries[0].mirror);
	assert_string_equal(cfg.registries[1].name, "b.example:5000");
	assert_true(cfg.registries[1].insecure);
	assert_null(cfg.registries[1].username);
	assert_string_equal(cfg.registries[2].name, "empty.example");
	assert_false(cfg.registries[2].insecure);

	assert_int_equal(cfg.n_trusts, 2);
	assert_string_equal(cfg.trusts[0].name, "a.example/");
	assert_string_equal(cfg.trusts[0].public_key, "/etc/a.pub");
	assert_string_equal(cfg.trusts[0].policy, "off");
	assert_string_equal(cfg.trusts[1].name, "b.example:5000/x");
	assert_string_equal(cfg.trusts[1].policy, "require"); /* default applied */
	assert_null(cfg.trusts[1].public_key);

	r = config_find_registry(&cfg, "b.example:5000");
	assert_ptr_equal(r, &cfg.registries[1]);
	r = config_find_registry(&cfg, "a.example");
	assert_ptr_equal(r, &cfg.registries[0]);
	assert_null(config_find_registry(&cfg, "b.example"));
	assert_null(config_find_registry(&cfg, "A.EXAMPLE"));
	assert_null(config_find_registry(&cfg, ""));
	config_free(&cfg);
	assert_true(is_zeroed(&cfg));
	assert_null(config_find_registry(&cfg, "a.example"));

	/* A key set in both instances of a repeated section is set twice. */
	load_err("[registry \"h\"]\nusername = a\n[registry \"h\"]\nusername = b\n",
		 "t.conf:4: key 'username' is set twice in [registry]");
	/* The same key in two different registries is fine. */
	load_ok(&cfg, "[registry \"h1\"]\nusername = a\n[registry \"h2\"]\nusername = b\n");
	assert_string_equal(cfg.registries[1].username, "b");
	config_free(&cfg);
	/* Spaces around the section name are allowed. */
	load_ok(&cfg, "[  registry   \"h:1\"  ]\n[ init ]\nhostname = x\n");
	assert_string_equal(cfg.registries[0].name, "h:1");
	assert_string_equal(cfg.init.hostname, "x");
	config_free(&cfg);
}

static void test_64_named_sections_is_the_limit(void **state)
{
	struct berth_config cfg;
	char *text = malloc(70 * 64), *p;

	(void) state;
	assert_non_null(text);
	p = text;
	for (int i = 0; i < 64; i++)
		p += sprintf(p, "[registry \"r%d.example\"]\n[trust \"t%d/\"]\n", i, i);
	load_ok(&cfg, text);
	assert_int_equal(cfg.n_registries, 64);
	assert_int_equal(cfg.n_trusts, 64);
	config_free(&cfg);

	p = text;
	for (int i = 0; i < 65; i++)
		p += sprintf(p, "[registry \"r%d.example\"]\n", i);
	p += sprintf(p, "username = ignored\n");
	load_err(text, "t.conf:65: more than 64 [registry] sections");
	free(text);
}

/* ---- errors ---- */

static void test_unknown_key(void **state)
{
	(void) state;
	load_err("[daemon]\nlog-levle = info\n",
		 "t.conf:2: unknown key 'log-levle' in [daemon]; did you mean 'log-level'?");
	load_err("[init]\n\nwatchdog-timeot = 1s\n",
		 "t.conf:3: unknown key 'watchdog-timeot' in [init]; did you mean 'watchdog-timeout'?");
	load_err("[registry \"h\"]\npasword = x\n",
		 "t.conf:2: unknown key 'pasword' in [registry]; did you mean 'password'?");
	/* A key from another section is unknown here, and not suggested. */
	{
		char *msg = load_err_len("[daemon]\nhostname = x\n", 22, "t.conf:2: unknown key 'hostname' in [daemon]", NULL);
		assert_null(strstr(msg, "did you mean"));
		free(msg);
	}
	/* Far from every key: no suggestion, but a pointer to the list. */
	{
		const char *text = "[daemon]\nfrobnicate = 1\n";
		char *msg = load_err_len(text, strlen(text), "t.conf:2: unknown key 'frobnicate' in [daemon]",
					 "berth config --defaults", NULL);
		assert_null(strstr(msg, "did you mean"));
		free(msg);
	}
	/* Keys are case-sensitive. */
	load_err("[daemon]\nNetwork = host\n", "t.conf:2: unknown key 'Network' in [daemon]; did you mean 'network'?");
}

static void test_acceptance_typo_in_berth_conf(void **state)
{
	struct berth_config cfg;
	struct berr *err = NULL;
	char path[PATH_MAX];

	(void) state;
	write_conf(path, "berth.conf", "# board config\n[daemon]\nnetwork = host\nlog-sise = 2M\n");
	assert_int_equal(config_load(&cfg, path, true, &err), -1);
	assert_non_null(err);
	assert_int_equal(err->status, EXIT_USAGE);
	if (strstr(err->msg, "berth.conf:4: unknown key 'log-sise' in [daemon]") == NULL)
		fail_msg("`%s`", err->msg);
	assert_true(is_zeroed(&cfg));
	berr_free(err);
	unlink(path);
}

static void test_section_errors(void **state)
{
	(void) state;
	load_err("[daemon]\n[bogus]\nx = 1\n", "t.conf:2: unknown section [bogus]", "[daemon], [init]");
	load_err("network = host\n", "t.conf:1: key 'network' is outside any section", "[daemon]");
	load_err("\n\n[registry]\n", "t.conf:3: [registry] needs a name: [registry \"HOST:PORT\"]");
	load_err("[trust]\n", "t.conf:1: [trust] needs a name: [trust \"PREFIX\"]");
	load_err("[registry \"\"]\n", "t.conf:1: [registry] needs a name");
	load_err("[daemon \"x\"]\n", "t.conf:1: [daemon] takes no name");
	load_err("[init \"\"]\n", "t.conf:1: [init] takes no name");
	load_err("[registry host]\n", "t.conf:1: section name must be quoted");
	load_err("[registry \"host]\n", "t.conf:1: section name must be quoted");
	load_err("[registry \"a\"b\"]\n", "t.conf:1: section name must be quoted");
	load_err("[daemon\nnetwork = host\n", "t.conf:1: section header is missing its closing ']'");
	load_err("[daemon] network = host\n", "t.conf:1: text after the section header");
	load_err("[registry \"bad host\"]\n", "t.conf:1: [registry \"bad host\"]:", "must be a host name");
	load_err("[registry \"h:0\"]\n", "t.conf:1: [registry \"h:0\"]:", "port must be a number from 1 to 65535");
	load_err("[registry \"h:65536\"]\n", "port must be a number");
	load_err("[registry \"h:\"]\n", "port must be a number");
	load_err("[registry \":5000\"]\n", "must be a host name");
	load_err("[registry \"h/x\"]\n", "must be a host name");
	/* Keys under a bad header are not reported again. */
	{
		const char *text = "[bogus]\nnetwork = host\nfoo = bar\n";
		char *msg = load_err_len(text, strlen(text), "t.conf:1: unknown section", NULL);
		assert_null(strchr(msg, '\n'));
		free(msg);
	}
	/* A later good header ends the bad section. */
	load_err("[bogus]\n[daemon]\nnetwrk = none\n", "t.conf:1: unknown section",
		 "t.conf:3: unknown key 'netwrk' in [daemon]");
}

static void test_line_errors(void **state)
{
	(void) state;
	load_err("[daemon]\njust some words\n", "t.conf:2: expected `key = value`, a [section] or a comment");
	load_err("[daemon]\nnetwork = host\nnetwork = none\n", "t.conf:3: key 'network' is set twice in [daemon]");
	load_err("[registry \"h\"]\nusername = \"a ; b\"\n", "t.conf:2: value of 'username' has no closing quote");
}

static void test_bad_values(void **state)
{
	(void) state;
	load_err("[init]\nconsole-shell = maybe\n",
		 "t.conf:2: bad value 'maybe' for 'console-shell' in [init]: must be yes or no");
	load_err("[registry \"h\"]\ninsecure = 2\n", "t.conf:2: bad value '2' for 'insecure' in [registry]");
	load_err("[daemon]\nlog-size = 12q\n",
		 "t.conf:2: bad value '12q' for 'log-size' in [daemon]: must be a size");
	load_err("[daemon]\nlog-size = -1\n", "t.conf:2: bad value '-1' for 'log-size'");
	load_err("[daemon]\nlog-size = 99999999999999999999\n", "t.conf:2: bad value", "must be a size");
	load_err("[init]\nwatchdog-timeout = 10\n",
		 "t.conf:2: bad value '10' for 'watchdog-timeout' in [init]: must be a duration");
	load_err("[init]\nwatchdog-timeout = 1d\n", "t.conf:2: bad value '1d'");
	load_err("[daemon]\nlayer-mount-idle = 25h\n",
		 "t.conf:2: bad value '25h' for 'layer-mount-idle' in [daemon]: must be a duration from 0s to 24h");
	load_err("[daemon]\nnetwork = bridge\n",
		 "t.conf:2: bad value 'bridge' for 'network' in [daemon]: must be one of: host|none");
	load_err("[daemon]\nlog-level = HOST\n", "must be one of: error|warn|info|debug");
	load_err("[daemon]\nlog-level = warn|info\n", "must be one of");
	load_err("[daemon]\nlog-level = war\n", "must be one of");
	load_err("[trust \"x/\"]\npolicy = maybe\n", "t.conf:2: bad value 'maybe' for 'policy' in [trust]",
		 "require|warn|off");
	load_err("[daemon]\ndata-root = var/lib/berth\n",
		 "t.conf:2: bad value 'var/lib/berth' for 'data-root' in [daemon]: must be an absolute path");
	load_err("[trust \"x\"]\npublic-key = key.pem\n", "t.conf:2: bad value 'key.pem' for 'public-key'",
		 "absolute path");
	load_err("[daemon]\napps-dir =\n", "t.conf:2: bad value '' for 'apps-dir'", "absolute path");
	load_err("[daemon]\ndefault-registry = docker.io/library\n",
		 "t.conf:2: bad value 'docker.io/library' for 'default-registry' in [daemon]: must be a host name");
	load_err("[registry \"h\"]\nmirror = m:99999\n",
		 "t.conf:2: bad value 'm:99999' for 'mirror' in [registry]: port must be a number");
	load_err("[registry \"h\"]\nmirror = \n", "t.conf:2: bad value '' for 'mirror'", "must be a host name");
	load_err("[init]\nhostname = -board\n", "t.conf:2: bad value '-board' for 'hostname'",
		 "must start with a letter or digit");
	load_err("[init]\nhostname = my_board\n", "t.conf:2: bad value 'my_board' for 'hostname'",
		 "letters, digits");
	load_err("[init]\nhostname = "
		 "a1234567890123456789012345678901234567890123456789012345678901234\n",
		 "t.conf:2: bad value", "must be 1 to 64 characters");
	load_err("[init]\ndata-device =\n", "t.conf:2: bad value '' for 'data-device' in [init]: must not be empty");
	load_err("[store]\ncompression = lzma\n",
		 "t.conf:2: bad value 'lzma' for 'compression' in [store]: must be one of: zstd|gzip|xz");
	load_err("[store]\ncompression-level = 23\n",
		 "t.conf:2: bad value '23' for 'compression-level' in [store]",
		 "1-22 for zstd, 1-9 for gzip, 0-9 for xz");
	load_err("[store]\ncompression-level = -1\n", "t.conf:2: bad value '-1' for 'compression-level'");
	load_err("[init]\ndata-fstype = \"\"\n", "t.conf:2: bad value '' for 'data-fstype'", "must not be empty");
}

static void test_log_size_alias(void **state)
{
	struct berth_config cfg;

	(void) state;
	load_ok(&cfg, "[logs]\nmax-size = 64k\npersist = yes\n");
	assert_int_equal(cfg.logs.max_size, 64 * 1024);
	assert_true(cfg.logs.persist);
	config_free(&cfg);
	/* The old [daemon] name and the new one together: which one wins would be a guess. */
	load_err("[logs]\nmax-size = 64k\n[daemon]\nlog-size = 32k\n",
		 "t.conf:4: 'log-size' in [daemon] is the old name of 'max-size' in [logs]",
		 "keep only [logs] max-size");
	load_err("[logs]\nmax-size = 1k\n", "t.conf:2: bad value '1k' for 'max-size' in [logs]: must be at least 8K");
	load_err("[logs]\npersist = maybe\n", "t.conf:2: bad value 'maybe' for 'persist' in [logs]");
}

static void test_long_line(void **state)
{
	static char text[9000];
	struct berth_config cfg;

	(void) state;
	/* Over 4096 bytes: an error naming its line, and the loader carries on after it. */
	strcpy(text, "[daemon]\nnetwork = none\nlog-size = ");
	memset(text + strlen(text), '1', 5000);
	strcat(text, "\nnetwrk = x\n");
	load_err(text, "t.conf:3: the line is longer than 4096 bytes", "t.conf:4: unknown key 'netwrk'");
	/* A long comment is only a comment. */
	memset(text, 0, sizeof(text));
	strcpy(text, "[daemon]\n# ");
	memset(text + strlen(text), 'x', 1100);
	strcat(text, "\nnetwork = none\n");
	load_ok(&cfg, text);
	assert_string_equal(cfg.daemon.network, "none");
	config_free(&cfg);
	/* Values longer than inih's own line buffer (a registry token), with an inline comment. */
	memset(text, 0, sizeof(text));
	strcpy(text, "[registry \"h\"]\npassword = ");
	memset(text + strlen(text), 'p', 3000);
	strcat(text, "   ; a token\nusername = \"");
	memset(text + strlen(text), 'u', 1500);
	strcat(text, "\"\ninsecure = yes\n");
	load_ok(&cfg, text);
	memset(text, 0, sizeof(text));
	assert_int_equal(strlen(cfg.registries[0].password), 3000);
	assert_int_equal(strspn(cfg.registries[0].password, "p"), 3000);
	assert_int_equal(strlen(cfg.registries[0].username), 1500);
	assert_true(cfg.registries[0].insecure);
	config_free(&cfg);
	/* A line of ordinary length is fine. */
	strcpy(text, "[registry \"h\"]\npassword = ");
	memset(text + 26, 'p', 150);
	text[26 + 150] = '\0';
	load_ok(&cfg, text);
	assert_int_equal(strlen(cfg.registries[0].password), 150);
	config_free(&cfg);
}

static void test_nul_byte(void **state)
{
	static const char text[] = "[daemon]\nnetwork = no\0ne\nlog-level = info\n";

	(void) state;
	free(load_err_len(text, sizeof(text) - 1, "t.conf:2: the line holds a NUL byte", NULL));
	/* In a header too, and in a comment. */
	{
		static const char t2[] = "[dae\0mon]\n";
		static const char t3[] = "[daemon]\n# \0\nx\n";
		free(load_err_len(t2, sizeof(t2) - 1, "t.conf:1: the line holds a NUL byte", NULL));
		free(load_err_len(t3, sizeof(t3) - 1, "t.conf:2: the line holds a NUL byte",
				  "t.conf:3: expected `key = value`", NULL));
	}
}

static void test_several_errors_each_with_its_line(void **state)
{
	const char *text =
		"[daemon]\n"             /* 1 */
		"network = bridge\n"     /* 2 */
		"log-size = 1q\n"        /* 3 */
		"\n"                     /* 4 */
		"[init]\n"               /* 5 */
		"console-shell = perhaps\n" /* 6 */
		"hostname = ok\n"        /* 7 */
		"[nope]\n"               /* 8 */
		"[trust \"p/\"]\n"       /* 9 */
		"policy = never\n";      /* 10 */
	char *msg = load_err_len(text, strlen(text),
				 "t.conf:2: bad value 'bridge'",
				 "t.conf:3: bad value '1q'",
				 "t.conf:6: bad value 'perhaps'",
				 "t.conf:8: unknown section [nope]",
				 "t.conf:10: bad value 'never'", NULL);
	int lines = 1;

	(void) state;
	for (const char *p = msg; *p; p++)
		lines += *p == '\n';
	assert_int_equal(lines, 5);
	/* One per line, each starting with the file name. */
	assert_true(strncmp(msg, "t.conf:2: ", 10) == 0);
	assert_non_null(strstr(msg, "\nt.conf:10: "));
	free(msg);
}

static void test_error_list_is_capped(void **state)
{
	char *text = malloc(40 * 30), *p = text, *msg;
	int lines = 1;

	(void) state;
	assert_non_null(text);
	p += sprintf(p, "[daemon]\n");
	for (int i = 0; i < 30; i++)
		p += sprintf(p, "bad-key-%d = 1\n", i);
	msg = load_err_len(text, strlen(text), "t.conf:2: unknown key 'bad-key-0'",
			   "t.conf:20: unknown key 'bad-key-18'", "too many errors", NULL);
	for (const char *q = msg; *q; q++)
		lines += *q == '\n';
	assert_int_equal(lines, 20);
	assert_null(strstr(msg, "bad-key-25"));
	free(msg);
	free(text);
}

static void test_config_load_files(void **state)
{
	struct berth_config cfg, defaults;
	struct berr *err = NULL;
	char path[PATH_MAX];

	(void) state;
	assert_int_equal(config_defaults(&defaults, &err), 0);

	/* Missing and optional: the defaults. */
	snprintf(path, sizeof(path), "%s/absent.conf", tmpdir);
	assert_int_equal(config_load(&cfg, path, false, &err), 0);
	assert_null(err);
	assert_config_equal(&defaults, &cfg, NULL);
	config_free(&cfg);

	/* Missing and required: a usage error naming the file. */
	memset(&cfg, 0x5a, sizeof(cfg));
	assert_int_equal(config_load(&cfg, path, true, &err), -1);
	assert_non_null(err);
	assert_int_equal(err->status, EXIT_USAGE);
	assert_int_equal(err->errcode, ENOENT);
	assert_non_null(strstr(err->msg, "config: open `"));
	assert_non_null(strstr(err->msg, "absent.conf`"));
	berr_free(err);
	err = NULL;

	/* A real file. */
	write_conf(path, "good.conf", "[daemon]\nnetwork = none\n[registry \"r:5000\"]\nusername = u\n");
	assert_int_equal(config_load(&cfg, path, true, &err), 0);
	assert_string_equal(cfg.path, path);
	assert_string_equal(cfg.daemon.network, "none");
	assert_string_equal(config_find_registry(&cfg, "r:5000")->username, "u");
	config_free(&cfg);

	/* A directory is not a config file, whether or not one must exist. */
	assert_int_equal(config_load(&cfg, tmpdir, false, &err), -1);
	assert_non_null(err);
	assert_int_equal(err->errcode, EISDIR);
	berr_free(err);
	config_free(&defaults);
}

/* ---- printing ---- */

static void test_print_masks_password(void **state)
{
	struct berth_config cfg;
	char *text;

	(void) state;
	load_ok(&cfg, "[registry \"r.example\"]\nusername = robot\npassword = hunter2-secret\n");
	text = print_to_string(&cfg);
	assert_null(strstr(text, "hunter2"));
	assert_non_null(strstr(text, "password = ********\n"));
	assert_non_null(strstr(text, "username = robot\n"));
	assert_non_null(strstr(text, "[registry \"r.example\"]\n"));
	assert_non_null(strstr(text, "# effective configuration from t.conf\n"));
	/* Unset keys are shown commented out. */
	assert_non_null(strstr(text, "# mirror =\n"));
	assert_non_null(strstr(text, "# hostname =\n"));
	free(text);
	config_free(&cfg);

	assert_int_equal(config_defaults(&cfg, NULL), 0);
	text = print_to_string(&cfg);
	assert_non_null(strstr(text, "(defaults: no file)"));
	free(text);
	config_free(&cfg);
}

static void test_print_round_trip(void **state)
{
	struct berth_config cfg, back;
	char *text;

	(void) state;
	load_ok(&cfg,
		"[daemon]\n"
		"log-level = debug\n"
		"network = none\n"
		"log-size = 10000\n"         /* not a whole KiB */
		"default-registry = reg.lan:5000\n"
		"[init]\n"
		"data-device = /dev/sda3\n"
		"hostname = b-1\n"
		"watchdog-device = /dev/watchdog\n"
		"watchdog-timeout = 1500ms\n"
		"console-shell = on\n"
		"[registry \"reg.lan:5000\"]\n"
		"username = \" padded user \"\n"
		"password = p\n"
		"ca-file = /etc/ca.pem\n"
		"insecure = 1\n"
		"mirror = m.lan:8080\n"
		"[registry \"other\"]\n"
		"username = \"\"quoted\"\"\n"
		"[trust \"reg.lan:5000/\"]\n"
		"public-key = /etc/k.pub\n"
		"policy = warn\n"
		"[trust \"docker.io/library/\"]\n");
	assert_string_equal(cfg.registries[0].username, " padded user ");
	assert_string_equal(cfg.registries[1].username, "\"quoted\"");
	text = print_to_string(&cfg);
	load_ok(&back, text);
	assert_config_equal(&cfg, &back, "password");
	assert_string_equal(back.registries[0].password, "********");
	assert_null(back.registries[1].password);
	free(text);
	config_free(&back);

	/* Other sizes and durations print in their largest whole unit and load back. */
	{
		static const char *const sizes[] = { "8k", "8193", "9000", "1023k", "1025k", "3M", "5G", "7T", "1024T" };
		static const char *const durs[] = { "0", "1ms", "999ms", "1s", "61s", "1m", "90m", "1h", "48h" };
		for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			char in[128];
			snprintf(in, sizeof(in), "[logs]\nmax-size = %s\n[init]\nwatchdog-timeout = %s\n",
				 sizes[i], durs[i]);
			config_free(&cfg);
			load_ok(&cfg, in);
			text = print_to_string(&cfg);
			load_ok(&back, text);
			assert_config_equal(&cfg, &back, NULL);
			free(text);
			config_free(&back);
		}
	}
	config_free(&cfg);
}

static void test_print_defaults(void **state)
{
	struct berth_config cfg, defaults;
	char *text, want[128];

	(void) state;
	text = print_to_string(NULL);
	for (size_t i = 0; i < cfg_n_keys; i++) {
		snprintf(want, sizeof(want), "\n%s = ", cfg_keys[i].key);
		if (strstr(text, want) == NULL) {
			snprintf(want, sizeof(want), "\n# %s =", cfg_keys[i].key);
			if (strstr(text, want) == NULL)
				fail_msg("key `%s` missing from the defaults dump", cfg_keys[i].key);
		}
		if (strstr(text, cfg_keys[i].desc) == NULL)
			fail_msg("description of `%s` missing", cfg_keys[i].key);
		if (cfg_keys[i].choices && strstr(text, cfg_keys[i].choices) == NULL)
			fail_msg("choices of `%s` missing", cfg_keys[i].key);
	}
	assert_non_null(strstr(text, "[daemon]\n"));
	assert_non_null(strstr(text, "[init]\n"));
	assert_non_null(strstr(text, "# [registry \"HOST:PORT\"]"));
	assert_non_null(strstr(text, "# [trust \"PREFIX\"]"));

	/* The dump is itself a config, and it loads to the defaults. */
	load_ok(&cfg, text);
	assert_int_equal(config_defaults(&defaults, NULL), 0);
	assert_config_equal(&defaults, &cfg, NULL);
	config_free(&cfg);
	free(text);

	/* And the effective config of the defaults loads to the defaults too. */
	text = print_to_string(&defaults);
	load_ok(&cfg, text);
	assert_config_equal(&defaults, &cfg, NULL);
	config_free(&cfg);
	config_free(&defaults);
	free(text);
}

static void test_keys_table(void **state)
{
	(void) state;
	assert_true(cfg_n_keys > 0);
	for (size_t i = 0; i < cfg_n_keys; i++) {
		const struct cfg_key *k = &cfg_keys[i];
		assert_non_null(k->section);
		assert_non_null(k->key);
		assert_non_null(k->desc);
		assert_true(k->type != CFG_ENUM || k->choices != NULL);
		/* Every default passes its own validation: load it. */
		if (k->def && (strcmp(k->section, "daemon") == 0 || strcmp(k->section, "init") == 0)) {
			char text[256];
			struct berth_config cfg;
			snprintf(text, sizeof(text), "[%s]\n%s = %s\n", k->section, k->key, k->def);
			load_ok(&cfg, text);
			config_free(&cfg);
		}
		for (size_t j = 0; j < i; j++)
			assert_false(strcmp(k->section, cfg_keys[j].section) == 0 &&
				     strcmp(k->key, cfg_keys[j].key) == 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_every_key),
		cmocka_unit_test(test_bool_forms),
		cmocka_unit_test(test_size_values),
		cmocka_unit_test(test_duration_values),
		cmocka_unit_test(test_parser_edge_cases),
		cmocka_unit_test(test_quoting_comments_and_layout),
		cmocka_unit_test(test_crlf_bom_and_no_final_newline),
		cmocka_unit_test(test_named_sections),
		cmocka_unit_test(test_public_key_list),
		cmocka_unit_test(test_64_named_sections_is_the_limit),
		cmocka_unit_test(test_unknown_key),
		cmocka_unit_test(test_acceptance_typo_in_berth_conf),
		cmocka_unit_test(test_section_errors),
		cmocka_unit_test(test_line_errors),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_long_line),
		cmocka_unit_test(test_log_size_alias),
		cmocka_unit_test(test_nul_byte),
		cmocka_unit_test(test_several_errors_each_with_its_line),
		cmocka_unit_test(test_error_list_is_capped),
		cmocka_unit_test(test_config_load_files),
		cmocka_unit_test(test_print_masks_password),
		cmocka_unit_test(test_print_round_trip),
		cmocka_unit_test(test_print_defaults),
		cmocka_unit_test(test_keys_table),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
