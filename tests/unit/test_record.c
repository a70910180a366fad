/* Unit tests for core/runtime/record.c and record_json.c in a mkdtemp data root: names and
 * ids, times, the JSON round trip, corrupt and half-written files, liveness against real
 * forked children, lookups, removal (with -f and -v), repair, and the GC keeping the images
 * records use. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/err.h"
#include "base/fs.h"
#include "base/paths.h"
#include "base/util.h"
#include "image/gc.h"
#include "image/manifest.h"
#include "image/store.h"
#include "runtime/record.h"
#include "runtime/volume.h"

static char root[64];

static int setup(void **state)
{
	(void) state;
	snprintf(root, sizeof(root), "/tmp/berth-test-record.XXXXXX");
	if (mkdtemp(root) == NULL || paths_init(root, "/run/berth-test-record") < 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	struct berr *err = NULL;

	(void) state;
	if (fs_rm_rf(root, &err) < 0) {
		fprintf(stderr, "teardown: %s\n", err->msg);
		berr_free(err);
		return -1;
	}
	return 0;
}

static void strv_set(struct rec_strv *v, const char *const *s, size_t n)
{
	v->v = calloc(n + 1, sizeof(*v->v));
	v->n = n;
	for (size_t i = 0; i < n; i++)
		v->v[i] = strdup(s[i]);
}

/* A config as `berth run` would fill it; `name` may be NULL for a random one. */
static void make_config(struct rec_config *c, const char *name)
{
	static const char *const argv[] = { "python3", "app.py" };
	static const char *const env[] = { "PATH=/usr/bin", "A=b c" };

	memset(c, 0, sizeof(*c));
	if (name)
		snprintf(c->name, sizeof(c->name), "%s", name);
	c->image = strdup("my-finance");
	c->image_id = strdup("sha256:2222222222222222222222222222222222222222222222222222222222222222");
	strv_set(&c->argv, argv, 2);
	strv_set(&c->cmd, argv, 2);
	strv_set(&c->env, env, 2);
	c->workdir = strdup("/app");
}

static void add_volume(struct rec_config *c, const char *name, const char *dst, bool anon)
{
	c->mounts = realloc(c->mounts, (c->n_mounts + 1) * sizeof(*c->mounts));
	memset(&c->mounts[c->n_mounts], 0, sizeof(*c->mounts));
	c->mounts[c->n_mounts].type = REC_MOUNT_VOLUME;
	c->mounts[c->n_mounts].name = strdup(name);
	c->mounts[c->n_mounts].destination = strdup(dst);
	c->mounts[c->n_mounts].anonymous = anon;
	c->n_mounts++;
}

static void create(const char *name, char id[REC_ID_LEN + 1])
{
	struct rec_config c;
	struct berr *err = NULL;

	make_config(&c, name);
	assert_int_equal(rec_create(&c, &err), 0);
	memcpy(id, c.id, REC_ID_LEN + 1);
	rec_config_free(&c);
}

/* A child that waits on a pipe: alive until the pipe is closed. */
static pid_t spawn_waiter(int *wfd)
{
	int p[2];
	pid_t pid;

	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char c;
		close(p[1]);
		while (read(p[0], &c, 1) < 0 && errno == EINTR)
			;
		_exit(7);
	}
	close(p[0]);
	*wfd = p[1];
	return pid;
}

static void mark_running(const char *id, pid_t pid)
{
	struct rec_state st = { 0 };
	struct berr *err = NULL;

	assert_int_equal(rec_state_set_running(&st, pid, &err), 0);
	assert_int_equal(rec_save_state(id, &st, &err), 0);
	rec_state_free(&st);
}

static void write_file(const char *id, const char *file, const char *data)
{
	char path[PATH_MAX];
	FILE *f;

	assert_int_equal(paths_container_file(path, sizeof(path), id, file), 0);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(data, f);
	fclose(f);
}

/* ---- tests ---- */

static void test_names(void **state)
{
	char buf[REC_NAME_MAX + 1], big[REC_NAME_MAX + 2];

	(void) state;
	assert_true(rec_name_valid("web"));
	assert_true(rec_name_valid("/web"));
	assert_true(rec_name_valid("a1"));
	assert_true(rec_name_valid("my_app.v2-b"));
	assert_false(rec_name_valid("a"));
	assert_false(rec_name_valid(""));
	assert_false(rec_name_valid("/"));
	assert_false(rec_name_valid("_web"));
	assert_false(rec_name_valid("-web"));
	assert_false(rec_name_valid("we b"));
	assert_false(rec_name_valid("we/b"));
	assert_false(rec_name_valid("caf\xc3\xa9"));
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_false(rec_name_valid(big));
	big[REC_NAME_MAX] = '\0';
	assert_true(rec_name_valid(big));
	for (int i = 0; i < 50; i++) {
		rec_name_random(buf, sizeof(buf));
		assert_true(rec_name_valid(buf));
		assert_non_null(strchr(buf, '_'));
	}
}

static void test_ids(void **state)
{
	char a[REC_ID_LEN + 1], b[REC_ID_LEN + 1];
	struct berr *err = NULL;
	bool digits;

	(void) state;
	assert_int_equal(rec_id_new(a, &err), 0);
	assert_int_equal(rec_id_new(b, &err), 0);
	assert_true(rec_id_valid(a));
	assert_string_not_equal(a, b);
	digits = true;
	for (int i = 0; i < REC_SHORT_ID_LEN; i++)
		if (a[i] > '9')
			digits = false;
	assert_false(digits);
	assert_false(rec_id_valid("abc"));
	b[5] = 'G';
	assert_false(rec_id_valid(b));
}

static void test_times(void **state)
{
	char buf[48];
	int64_t ns;

	(void) state;
	rec_time_format(0, buf, sizeof(buf));
	assert_string_equal(buf, "0001-01-01T00:00:00Z");
	assert_int_equal(rec_time_parse(buf, &ns), 0);
	assert_int_equal(ns, 0);
	rec_time_format(1704164645123456789LL, buf, sizeof(buf));
	assert_string_equal(buf, "2024-01-02T03:04:05.123456789Z");
	assert_int_equal(rec_time_parse(buf, &ns), 0);
	assert_int_equal(ns, 1704164645123456789LL);
	rec_time_format(1704164645500000000LL, buf, sizeof(buf));
	assert_string_equal(buf, "2024-01-02T03:04:05.5Z");
	assert_int_equal(rec_time_parse("2024-01-02T03:04:05Z", &ns), 0);
	assert_int_equal(ns, 1704164645000000000LL);
	assert_int_equal(rec_time_parse("2024-01-02T03:04:05", &ns), -1);
	assert_int_equal(rec_time_parse("2024-01-02T03:04:05+01:00", &ns), -1);
	assert_int_equal(rec_time_parse("2024-13-02T03:04:05Z", &ns), -1);
	assert_int_equal(rec_time_parse("2024-01-02T03:04:05.1234567891Z", &ns), -1);
	assert_int_equal(rec_time_parse("2024-01-02T03:04:05.Z", &ns), -1);
	assert_int_equal(rec_time_parse("", &ns), -1);
}

static void test_restart_parse(void **state)
{
	enum rec_restart r;
	struct berr *err = NULL;
	int max;

	(void) state;
	assert_int_equal(rec_restart_parse("on-failure:5", &r, &max, &err), 0);
	assert_int_equal(r, REC_RESTART_ON_FAILURE);
	assert_int_equal(max, 5);
	assert_int_equal(rec_restart_parse("unless-stopped", &r, &max, &err), 0);
	assert_int_equal(r, REC_RESTART_UNLESS_STOPPED);
	assert_int_equal(rec_restart_parse("sometimes", &r, &max, &err), -1);
	assert_int_equal(err->status, EXIT_USAGE);
	berr_free(err);
	err = NULL;
	assert_int_equal(rec_restart_parse("on-failure:-1", &r, &max, &err), -1);
	berr_free(err);
}

static void test_json_round_trip(void **state)
{
	struct rec_config c, d;
	struct rec_state s = { 0 }, t;
	struct berr *err = NULL;
	char *text;

	(void) state;
	make_config(&c, "web");
	memset(c.id, 'a', REC_ID_LEN);
	c.image_digest = strdup("sha256:3333333333333333333333333333333333333333333333333333333333333333");
	c.hostname = strdup("board");
	c.user = strdup("1000:1000");
	c.created = 1704164645123456789LL;
	c.memory = 64 << 20;
	c.nano_cpus = 500000000;
	c.pids_limit = 100;
	c.restart = REC_RESTART_ON_FAILURE;
	c.restart_max = 3;
	add_volume(&c, "my-finance-data", "/etc/finance", false);
	c.mounts = realloc(c.mounts, 3 * sizeof(*c.mounts));
	c.mounts[1] = (struct rec_mount){ .type = REC_MOUNT_BIND, .source = strdup("/srv/x"),
					  .destination = strdup("/x"), .readonly = true };
	c.mounts[2] = (struct rec_mount){ .type = REC_MOUNT_TMPFS, .destination = strdup("/run"),
					  .options = strdup("size=1m") };
	c.n_mounts = 3;
	c.labels = calloc(1, sizeof(*c.labels));
	c.labels[0].key = strdup("app");
	c.labels[0].value = strdup("finance");
	c.n_labels = 1;
	text = rec_config_dump(&c);
	assert_non_null(text);
	assert_int_equal(rec_config_parse(text, strlen(text), "config.json", &d, &err), 0);
	free(text);
	assert_string_equal(d.id, c.id);
	assert_string_equal(d.name, "web");
	assert_string_equal(d.image, "my-finance");
	assert_string_equal(d.image_digest, c.image_digest);
	assert_int_equal(d.argv.n, 2);
	assert_string_equal(d.argv.v[1], "app.py");
	assert_null(d.entrypoint.v);
	assert_int_equal(d.env.n, 2);
	assert_string_equal(d.env.v[1], "A=b c");
	assert_string_equal(d.workdir, "/app");
	assert_string_equal(d.hostname, "board");
	assert_string_equal(d.user, "1000:1000");
	assert_int_equal(d.created, c.created);
	assert_int_equal(d.memory, 64 << 20);
	assert_int_equal(d.nano_cpus, 500000000);
	assert_int_equal(d.pids_limit, 100);
	assert_int_equal(d.restart, REC_RESTART_ON_FAILURE);
	assert_int_equal(d.restart_max, 3);
	assert_int_equal(d.n_mounts, 3);
	assert_int_equal(d.mounts[0].type, REC_MOUNT_VOLUME);
	assert_string_equal(d.mounts[0].name, "my-finance-data");
	assert_int_equal(d.mounts[1].type, REC_MOUNT_BIND);
	assert_string_equal(d.mounts[1].source, "/srv/x");
	assert_true(d.mounts[1].readonly);
	assert_int_equal(d.mounts[2].type, REC_MOUNT_TMPFS);
	assert_string_equal(d.mounts[2].options, "size=1m");
	assert_int_equal(d.n_labels, 1);
	assert_string_equal(d.labels[0].value, "finance");
	rec_config_free(&c);
	rec_config_free(&d);

	s.status = REC_EXITED;
	s.exit_code = 137;
	s.oom_killed = true;
	s.started = 1704164645000000001LL;
	s.finished = 1704164700000000000LL;
	s.restart_count = 4;
	s.error = strdup("killed");
	text = rec_state_dump(&s);
	assert_int_equal(rec_state_parse(text, strlen(text), "state.json", &t, &err), 0);
	free(text);
	assert_int_equal(t.status, REC_EXITED);
	assert_int_equal(t.exit_code, 137);
	assert_true(t.oom_killed);
	assert_int_equal(t.started, s.started);
	assert_int_equal(t.finished, s.finished);
	assert_int_equal(t.restart_count, 4);
	assert_string_equal(t.error, "killed");
	rec_state_free(&s);
	rec_state_free(&t);
}

static void expect_bad_config(const char *text, const char *needle)
{
	struct rec_config c;
	struct berr *err = NULL;

	assert_int_equal(rec_config_parse(text, strlen(text), "/x/config.json", &c, &err), -1);
	assert_non_null(err);
	assert_non_null(strstr(err->msg, "/x/config.json"));
	if (needle && strstr(err->msg, needle) == NULL)
		fail_msg("`%s` not in `%s`", needle, err->msg);
	berr_free(err);
}

static int parse_state(const char *text, struct rec_state *s, struct berr **err)
{
	return rec_state_parse(text, strlen(text), "s", s, err);
}

static void test_json_corrupt(void **state)
{
	static const char id[] = "\"Id\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"";
	char buf[1024];
	struct rec_state s;
	struct berr *err = NULL;

	(void) state;
	expect_bad_config("", "corrupt");
	expect_bad_config("{\"Id\":\"aaaa", "corrupt");
	expect_bad_config("[]", "not an object");
	expect_bad_config("{\"Id\":\"xyz\",\"Name\":\"web\",\"Image\":\"i\"}", "Id");
	snprintf(buf, sizeof(buf), "{%s,\"Name\":\"w\",\"Image\":\"i\"}", id);
	expect_bad_config(buf, "Name");
	snprintf(buf, sizeof(buf), "{%s,\"Name\":\"web\"}", id);
	expect_bad_config(buf, "Image");
	snprintf(buf, sizeof(buf), "{%s,\"Name\":\"web\",\"Image\":\"i\",\"Argv\":[1]}", id);
	expect_bad_config(buf, "Argv");
	snprintf(buf, sizeof(buf), "{%s,\"Name\":\"web\",\"Image\":\"i\",\"Memory\":-1}", id);
	expect_bad_config(buf, "Memory");
	snprintf(buf, sizeof(buf), "{%s,\"Name\":\"web\",\"Image\":\"i\",\"Created\":\"yesterday\"}", id);
	expect_bad_config(buf, "Created");
	snprintf(buf, sizeof(buf), "{%s,\"Name\":\"web\",\"Image\":\"i\",\"Mounts\":[{\"Type\":\"volume\","
		 "\"Name\":\"../etc\",\"Destination\":\"/d\"}]}", id);
	expect_bad_config(buf, "Mounts.Name");
	snprintf(buf, sizeof(buf), "{%s,\"Name\":\"web\",\"Image\":\"i\",\"Mounts\":[{\"Type\":\"bind\","
		 "\"Source\":\"rel\",\"Destination\":\"/d\"}]}", id);
	expect_bad_config(buf, "Mounts.Source");
	snprintf(buf, sizeof(buf), "{%s,\"Name\":\"web\",\"Image\":\"i\",\"Labels\":{\"a\":1}}", id);
	expect_bad_config(buf, "Labels");
	snprintf(buf, sizeof(buf), "{%s,%s,\"Name\":\"web\",\"Image\":\"i\"}", id, id);
	expect_bad_config(buf, "corrupt");
	snprintf(buf, sizeof(buf), "{%s,\"Name\":\"web\",\"Image\":\"i\",\"Version\":99}", id);
	expect_bad_config(buf, "Version");

	assert_int_equal(parse_state("{\"Status\":\"flying\"}", &s, &err), -1);
	assert_non_null(strstr(err->msg, "Status"));
	berr_free(err);
	err = NULL;
	assert_int_equal(parse_state("{\"Status\":\"running\"}", &s, &err), -1);
	assert_non_null(strstr(err->msg, "Pid"));
	berr_free(err);
	err = NULL;
	assert_int_equal(parse_state("{\"Status\":\"exited\",\"ExitCode\":300}", &s, &err), -1);
	berr_free(err);
	err = NULL;
	assert_int_equal(parse_state("{\"Status\":\"exited\",\"ExitCode\":3}", &s, &err), 0);
	assert_int_equal(s.exit_code, 3);
	rec_state_free(&s);
}

static void test_create_find(void **state)
{
	char a[REC_ID_LEN + 1], b[REC_ID_LEN + 1], prefix[8];
	struct rec_config c;
	struct rec r;
	struct berr *err = NULL;
	struct rec_list l;

	(void) state;
	create("web", a);
	create(NULL, b);
	assert_int_equal(rec_find("web", &r, &err), 0);
	assert_string_equal(r.cfg.id, a);
	assert_int_equal(r.st.status, REC_CREATED);
	assert_false(r.broken);
	assert_true(r.cfg.created > 0);
	rec_free(&r);
	assert_int_equal(rec_find("/web", &r, &err), 0);
	rec_free(&r);
	assert_int_equal(rec_find(a, &r, &err), 0);
	rec_free(&r);
	snprintf(prefix, sizeof(prefix), "%.5s", b);
	assert_int_equal(rec_find(prefix, &r, &err), 0);
	assert_string_equal(r.cfg.id, b);
	assert_true(rec_name_valid(r.cfg.name));
	rec_free(&r);
	assert_int_equal(rec_find("nosuch", &r, &err), -1);
	assert_int_equal(err->status, EXIT_FAILED);
	assert_non_null(strstr(err->msg, "No such container: nosuch"));
	berr_free(err);
	err = NULL;

	/* Names are unique. */
	make_config(&c, "web");
	assert_int_equal(rec_create(&c, &err), -1);
	assert_non_null(strstr(err->msg, "already in use"));
	assert_int_equal(err->status, EXIT_FAILED);
	berr_free(err);
	err = NULL;
	snprintf(c.name, sizeof(c.name), "-bad");
	assert_int_equal(rec_create(&c, &err), -1);
	assert_int_equal(err->status, EXIT_USAGE);
	berr_free(err);
	err = NULL;
	rec_config_free(&c);

	/* Rename: the old name is free again, the new one taken. */
	assert_int_equal(rec_rename("web", "api", &err), 0);
	assert_int_equal(rec_find("api", &r, &err), 0);
	assert_string_equal(r.cfg.id, a);
	rec_free(&r);
	assert_int_equal(rec_find("web", &r, &err), -1);
	berr_free(err);
	err = NULL;

	assert_int_equal(rec_list_load(&l, &err), 0);
	assert_int_equal(l.n, 2);
	/* Newest first. */
	assert_string_equal(l.v[0].cfg.id, b);
	rec_list_free(&l);
}

static void test_ambiguous_prefix(void **state)
{
	char ids[20][REC_ID_LEN + 1], p[2] = { 0 };
	struct rec r;
	struct berr *err = NULL;
	int found = -1;

	(void) state;
	/* With 20 records, two share a first hex digit (pigeonhole on 16 digits). */
	for (int i = 0; i < 20; i++)
		create(NULL, ids[i]);
	for (int i = 0; i < 20 && found < 0; i++)
		for (int j = i + 1; j < 20; j++)
			if (ids[i][0] == ids[j][0])
				found = i;
	assert_true(found >= 0);
	p[0] = ids[found][0];
	assert_int_equal(rec_find(p, &r, &err), -1);
	assert_non_null(strstr(err->msg, "multiple containers"));
	berr_free(err);
}

static void test_liveness(void **state)
{
	char id[REC_ID_LEN + 1];
	struct rec r;
	struct berr *err = NULL;
	struct rec_state st = { 0 };
	int wfd, status;
	pid_t pid;

	(void) state;
	create("live", id);
	pid = spawn_waiter(&wfd);
	mark_running(id, pid);
	assert_int_equal(rec_load(id, &r, &err), 0);
	assert_int_equal(r.st.status, REC_RUNNING);
	assert_false(r.stale);
	assert_true(rec_pid_alive(&r.st));
	rec_free(&r);

	/* It exits; until reaped it is a zombie, which counts as gone. */
	close(wfd);
	for (int i = 0; i < 200; i++) {
		assert_int_equal(rec_load(id, &r, &err), 0);
		if (r.st.status != REC_RUNNING)
			break;
		rec_free(&r);
		usleep(10000);
	}
	assert_int_equal(r.st.status, REC_EXITED);
	assert_int_equal(r.st.exit_code, REC_EXIT_UNKNOWN);
	assert_true(r.stale);
	assert_true(r.st.finished > 0);
	assert_int_equal(rec_refresh(&r, &err), 0);
	assert_false(r.stale);
	rec_free(&r);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(WEXITSTATUS(status), 7);
	/* Fixed on flash: read back, it says exited without any liveness check. */
	assert_int_equal(rec_load(id, &r, &err), 0);
	assert_int_equal(r.st.status, REC_EXITED);
	assert_false(r.stale);
	rec_free(&r);

	/* A reused pid: alive, but started at another time. */
	assert_int_equal(rec_state_set_running(&st, getpid(), &err), 0);
	assert_true(rec_pid_alive(&st));
	st.pid_start += 1;
	assert_false(rec_pid_alive(&st));
	st.pid_start -= 1;
	/* Another boot. */
	snprintf(st.boot_id, sizeof(st.boot_id), "00000000-0000-0000-0000-000000000000");
	assert_false(rec_pid_alive(&st));
	rec_state_free(&st);
}

static void test_remove(void **state)
{
	char id[REC_ID_LEN + 1], path[PATH_MAX];
	struct rec_removed out;
	struct rec r;
	struct berr *err = NULL;
	struct stat sb;
	int wfd, status;
	pid_t pid;

	(void) state;
	create("victim", id);
	pid = spawn_waiter(&wfd);
	mark_running(id, pid);
	assert_int_equal(rec_remove("victim", 0, &out, &err), -1);
	assert_int_equal(err->status, EXIT_FAILED);
	assert_non_null(strstr(err->msg, "running"));
	berr_free(err);
	err = NULL;
	assert_int_equal(rec_find("victim", &r, &err), 0);
	rec_free(&r);

	assert_int_equal(rec_remove("victim", REC_RM_FORCE, &out, &err), 0);
	assert_string_equal(out.id, id);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGKILL);
	close(wfd);
	assert_int_equal(paths_container(path, sizeof(path), id), 0);
	assert_int_equal(lstat(path, &sb), -1);
	assert_int_equal(rec_find("victim", &r, &err), -1);
	berr_free(err);
	err = NULL;
	/* Nothing left in tmp/ either. */
	{
		char name[REC_ID_LEN + 8];
		snprintf(name, sizeof(name), "%s.rm", id);
		assert_int_equal(paths_tmp_file(path, sizeof(path), name), 0);
		assert_int_equal(lstat(path, &sb), -1);
	}
}

static void test_remove_volumes(void **state)
{
	struct rec_config c;
	struct vol_info anon;
	struct berr *err = NULL;
	char path[PATH_MAX];
	struct stat sb;

	(void) state;
	assert_int_equal(vol_create(NULL, NULL, 0, &anon, NULL, &err), 0);
	make_config(&c, "db");
	add_volume(&c, "my-finance-data", "/var/lib/mysql", false);
	add_volume(&c, anon.name, "/data", true);
	/* rec_create makes a named volume that is missing. */
	assert_int_equal(rec_create(&c, &err), 0);
	rec_config_free(&c);
	assert_int_equal(vol_path("my-finance-data", path, sizeof(path), &err), 0);
	assert_int_equal(rec_remove("db", REC_RM_VOLUMES, NULL, &err), 0);
	/* The anonymous volume went with it, the named one stays. */
	assert_int_equal(vol_path("my-finance-data", path, sizeof(path), &err), 0);
	assert_int_equal(paths_volume_dir(path, sizeof(path), anon.name), 0);
	assert_int_equal(lstat(path, &sb), -1);
	vol_info_free(&anon);
}

static void test_corrupt_state(void **state)
{
	char id[REC_ID_LEN + 1], id2[REC_ID_LEN + 1];
	struct rec_list l;
	struct rec r;
	struct berr *err = NULL;

	(void) state;
	create("broken", id);
	create("nocfg", id2);
	/* Cut short by a power loss. */
	write_file(id, "state.json", "{\"Status\": \"runn");
	write_file(id2, "config.json", "");
	assert_int_equal(rec_load(id, &r, &err), -1);
	assert_non_null(strstr(err->msg, "state.json"));
	assert_non_null(strstr(err->msg, "corrupt"));
	berr_free(err);
	err = NULL;
	rec_free(&r);
	assert_int_equal(rec_list_load(&l, &err), 0);
	assert_int_equal(l.n, 2);
	for (size_t i = 0; i < l.n; i++) {
		assert_true(l.v[i].broken);
		assert_int_equal(l.v[i].st.status, REC_DEAD);
		assert_non_null(l.v[i].problem);
	}
	rec_list_free(&l);
	/* Still found by name (its config is fine) and by id, and removable. */
	assert_int_equal(rec_find("broken", &r, &err), 0);
	assert_true(r.broken);
	rec_free(&r);
	assert_int_equal(rec_remove("broken", 0, NULL, &err), 0);
	assert_int_equal(rec_remove(id2, 0, NULL, &err), 0);
	assert_int_equal(rec_list_load(&l, &err), 0);
	assert_int_equal(l.n, 0);
	rec_list_free(&l);
}

/* The running mark of a foreground run is written without fsync: a power cut may leave an
 * empty state.json, which reads as a container that exited with an unknown status. */
static void test_empty_state_after_power_cut(void **state)
{
	char id[REC_ID_LEN + 1];
	struct rec_state st = { .status = REC_CREATED };
	struct rec r;
	struct berr *err = NULL;

	(void) state;
	create("cut", id);
	assert_int_equal(rec_state_set_running(&st, getpid(), &err), 0);
	assert_int_equal(rec_save_state_nosync(id, &st, &err), 0);
	assert_int_equal(rec_load(id, &r, &err), 0);
	assert_int_equal(r.st.status, REC_RUNNING);
	rec_free(&r);
	rec_state_free(&st);
	write_file(id, "state.json", "");
	assert_int_equal(rec_load(id, &r, &err), 0);
	assert_false(r.broken);
	assert_true(r.stale);
	assert_int_equal(r.st.status, REC_EXITED);
	assert_int_equal(r.st.exit_code, REC_EXIT_UNKNOWN);
	assert_non_null(r.st.error);
	/* The corrected state goes back to flash. */
	assert_int_equal(rec_refresh(&r, &err), 0);
	rec_free(&r);
	assert_int_equal(rec_load(id, &r, &err), 0);
	assert_false(r.stale);
	assert_int_equal(r.st.status, REC_EXITED);
	rec_free(&r);
	assert_int_equal(rec_remove("cut", 0, NULL, &err), 0);
}

static void test_repair(void **state)
{
	char id[REC_ID_LEN + 1], path[PATH_MAX + 8], dir[PATH_MAX];
	struct berr *err = NULL;
	struct rec_list l;
	struct stat sb;

	(void) state;
	create("web", id);
	write_file(id, "state.json.tmp.123", "{\"Sta");
	/* A record half built in tmp/ (power cut before its rename) is not a record. */
	assert_int_equal(paths_tmp_file(dir, sizeof(dir), "0123.new"), 0);
	assert_int_equal(fs_mkdir_p(dir, 0700, &err), 0);
	/* A directory in containers/ that is not a record. */
	assert_int_equal(paths_containers_dir(dir, sizeof(dir)), 0);
	snprintf(path, sizeof(path), "%s/junk", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(rec_repair(&err), 0);
	assert_int_equal(paths_container_file(path, sizeof(path), id, "state.json.tmp.123"), 0);
	assert_int_equal(lstat(path, &sb), -1);
	assert_int_equal(rec_list_load(&l, &err), 0);
	assert_int_equal(l.n, 1);
	assert_false(l.v[0].broken);
	rec_list_free(&l);
}

/* The GC keeps what a record's image needs even when no name points at it. */
static void test_gc_keeps_record_images(void **state)
{
	char config[256], manifest[512];
	struct digest cfg, man;
	struct rec_config c;
	struct gc_opts o = { .dangling = true };
	struct gc_stats st;
	struct berr *err = NULL;

	(void) state;
	assert_int_equal(store_init(&err), 0);
	snprintf(config, sizeof(config), "{\"architecture\":\"amd64\",\"os\":\"linux\","
		 "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}");
	assert_int_equal(store_put(config, strlen(config), NULL, &cfg, &err), 0);
	snprintf(manifest, sizeof(manifest), "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":"
		 "{\"mediaType\":\"%s\",\"digest\":\"sha256:%s\",\"size\":%zu},\"layers\":[]}",
		 MT_OCI_MANIFEST, MT_OCI_CONFIG, cfg.hex, strlen(config));
	assert_int_equal(store_put(manifest, strlen(manifest), NULL, &man, &err), 0);
	make_config(&c, "keeper");
	c.image_digest = malloc(80);
	snprintf(c.image_digest, 80, "sha256:%s", man.hex);
	assert_int_equal(rec_create(&c, &err), 0);
	rec_config_free(&c);
	if (gc_run(&o, &st, &err) < 0)
		fail_msg("gc: %s", err->msg);
	assert_true(store_exists(&man));
	assert_true(store_exists(&cfg));
	assert_int_equal(rec_remove("keeper", 0, NULL, &err), 0);
	assert_int_equal(gc_run(&o, &st, &err), 0);
	assert_false(store_exists(&man));
	assert_false(store_exists(&cfg));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_ids),
		cmocka_unit_test(test_times),
		cmocka_unit_test(test_restart_parse),
		cmocka_unit_test(test_json_round_trip),
		cmocka_unit_test(test_json_corrupt),
		cmocka_unit_test_setup_teardown(test_create_find, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ambiguous_prefix, setup, teardown),
		cmocka_unit_test_setup_teardown(test_liveness, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remove, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remove_volumes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_state, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_state_after_power_cut, setup, teardown),
		cmocka_unit_test_setup_teardown(test_repair, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gc_keeps_record_images, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
