/* Unit tests for core/runtime/spec.c: the ENTRYPOINT/CMD table of the Dockerfile reference, the
 * seed notes' examples, --entrypoint, environment merging and --env-file, and resolution inside
 * a fixture rootfs whose symlinks point outside it (both with openat2 and with the walk). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/err.h"
#include "base/fs.h"
#include "image/manifest.h"
#include "runtime/resolve.h"
#include "runtime/spec.h"

/* ---- helpers ---- */

#define V(...) ((char *[]) { __VA_ARGS__, NULL })

static void set_entry(struct manifest_config *c, char **v, size_t n)
{
	c->entrypoint = v;
	c->n_entrypoint = n;
	c->has_entrypoint = true;
}

static void set_cmd(struct manifest_config *c, char **v, size_t n)
{
	c->cmd = v;
	c->n_cmd = n;
	c->has_cmd = true;
}

/* argv must be exactly the NULL-terminated `want`. */
static void assert_argv(const struct spec_process *p, char **want)
{
	size_t n = 0;

	while (want[n])
		n++;
	if (p->argc != n) {
		for (size_t i = 0; i < p->argc; i++)
			print_message("argv[%zu] = `%s`\n", i, p->argv[i]);
	}
	assert_int_equal(p->argc, n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(p->argv[i], want[i]);
	assert_null(p->argv[n]);
}

static void build_ok(const struct manifest_config *c, const struct spec_run_opts *o,
		     struct spec_process *p)
{
	struct berr *err = NULL;

	if (spec_process_build(c, o, p, &err) < 0)
		fail_msg("spec_process_build: %s", err->msg);
}

static void expect_argv(const struct manifest_config *c, const struct spec_run_opts *o,
			char **want)
{
	struct spec_process p;

	build_ok(c, o, &p);
	assert_argv(&p, want);
	spec_process_free(&p);
}

static struct berr *build_fails(const struct manifest_config *c, const struct spec_run_opts *o)
{
	struct berr *err = NULL;
	struct spec_process p;

	assert_int_equal(spec_process_build(c, o, &p, &err), -1);
	assert_non_null(err);
	return err;
}

/* ---- ENTRYPOINT / CMD ---- */

/* The builder stores the Dockerfile's forms as arrays: exec form as written, shell form as
 * ["/bin/sh", "-c", "<the line>"]. */
static char *cmd_exec[] = { "exec_cmd", "p1_cmd", NULL };
static char *cmd_shell[] = { "/bin/sh", "-c", "exec_cmd p1_cmd", NULL };
static char *entry_exec[] = { "exec_entry", "p1_entry", NULL };
static char *entry_shell[] = { "/bin/sh", "-c", "exec_entry p1_entry", NULL };

static void test_matrix(void **state)
{
	struct spec_run_opts o = { 0 };
	struct manifest_config c;
	struct berr *err;

	(void) state;
	/* Row "No CMD". */
	memset(&c, 0, sizeof(c));
	err = build_fails(&c, &o); /* error, not allowed */
	assert_non_null(strstr(err->msg, "no command specified"));
	assert_int_equal(err->status, EXIT_BERTH);
	berr_free(err);
	set_entry(&c, entry_shell, 3);
	expect_argv(&c, &o, V("/bin/sh", "-c", "exec_entry p1_entry"));
	set_entry(&c, entry_exec, 2);
	expect_argv(&c, &o, V("exec_entry", "p1_entry"));

	/* Row CMD ["exec_cmd", "p1_cmd"]. */
	memset(&c, 0, sizeof(c));
	set_cmd(&c, cmd_exec, 2);
	expect_argv(&c, &o, V("exec_cmd", "p1_cmd"));
	set_entry(&c, entry_shell, 3);
	/* The table says "/bin/sh -c exec_entry p1_entry": CMD lands in $0 and $1 of the
	 * shell, which ignores them (test_shell_entry_ignores_cmd runs it). */
	expect_argv(&c, &o, V("/bin/sh", "-c", "exec_entry p1_entry", "exec_cmd", "p1_cmd"));
	set_entry(&c, entry_exec, 2);
	expect_argv(&c, &o, V("exec_entry", "p1_entry", "exec_cmd", "p1_cmd"));

	/* Row CMD exec_cmd p1_cmd (shell form). */
	memset(&c, 0, sizeof(c));
	set_cmd(&c, cmd_shell, 3);
	expect_argv(&c, &o, V("/bin/sh", "-c", "exec_cmd p1_cmd"));
	set_entry(&c, entry_shell, 3);
	expect_argv(&c, &o, V("/bin/sh", "-c", "exec_entry p1_entry", "/bin/sh", "-c",
			      "exec_cmd p1_cmd"));
	set_entry(&c, entry_exec, 2);
	expect_argv(&c, &o, V("exec_entry", "p1_entry", "/bin/sh", "-c", "exec_cmd p1_cmd"));
}

/* What the table promises for a shell-form ENTRYPOINT with a CMD: only the entrypoint runs. */
static void test_shell_entry_ignores_cmd(void **state)
{
	char *entry[] = { "/bin/sh", "-c", "echo entry", NULL };
	struct spec_run_opts o = { 0 };
	struct manifest_config c = { 0 };
	struct spec_process p;
	char buf[64] = { 0 };
	int fds[2], status;
	ssize_t n;
	pid_t pid;

	(void) state;
	if (access("/bin/sh", X_OK) != 0)
		skip();
	set_entry(&c, entry, 3);
	set_cmd(&c, cmd_exec, 2);
	build_ok(&c, &o, &p);
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fds[1], 1);
		execv(p.argv[0], p.argv);
		_exit(127);
	}
	close(fds[1]);
	n = read(fds[0], buf, sizeof(buf) - 1);
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_true(n > 0);
	assert_string_equal(buf, "entry\n");
	spec_process_free(&p);
}

/* The seed notes' examples, verbatim. */
static void test_seed_examples(void **state)
{
	struct manifest_config c = { 0 };
	struct spec_run_opts o = { 0 };

	(void) state;
	/* ENTRYPOINT ["ls","-l"] + CMD ["data"]: `run IMG` is ls -l data, `run IMG usr` is
	 * ls -l usr. */
	set_entry(&c, V("ls", "-l"), 2);
	set_cmd(&c, V("data"), 1);
	expect_argv(&c, &o, V("ls", "-l", "data"));
	o.args = V("usr");
	o.n_args = 1;
	expect_argv(&c, &o, V("ls", "-l", "usr"));

	/* ENTRYPOINT ["ls","-a"]: `run IMG -l` is ls -a -l. */
	memset(&c, 0, sizeof(c));
	set_entry(&c, V("ls", "-a"), 2);
	o.args = V("-l");
	o.n_args = 1;
	expect_argv(&c, &o, V("ls", "-a", "-l"));

	/* CMD ["ls","-a"]: `run IMG ls -al` replaces it. */
	memset(&c, 0, sizeof(c));
	set_cmd(&c, V("ls", "-a"), 2);
	o.args = V("ls", "-al");
	o.n_args = 2;
	expect_argv(&c, &o, V("ls", "-al"));

	/* CMD ["python3", "app.py"] with nothing given. */
	memset(&c, 0, sizeof(c));
	set_cmd(&c, V("python3", "app.py"), 2);
	o.args = NULL;
	o.n_args = 0;
	expect_argv(&c, &o, V("python3", "app.py"));
}

static void test_entrypoint_option(void **state)
{
	struct manifest_config c = { 0 };
	struct spec_run_opts o = { 0 };
	struct berr *err;

	(void) state;
	set_entry(&c, V("ls", "-l"), 2);
	set_cmd(&c, V("data"), 1);

	/* --entrypoint replaces ENTRYPOINT and drops the image's CMD. */
	o.entrypoint = "/bin/echo";
	expect_argv(&c, &o, V("/bin/echo"));
	/* Arguments still follow it. */
	o.args = V("hi", "there");
	o.n_args = 2;
	expect_argv(&c, &o, V("/bin/echo", "hi", "there"));
	/* It is one program name, never split on spaces. */
	o.entrypoint = "/bin/my prog";
	expect_argv(&c, &o, V("/bin/my prog", "hi", "there"));
	/* --entrypoint "" resets it: the arguments are the whole command... */
	o.entrypoint = "";
	o.args = V("id", "-u");
	expect_argv(&c, &o, V("id", "-u"));
	/* ...and without any there is nothing to run, not even the image's CMD. */
	o.args = NULL;
	o.n_args = 0;
	err = build_fails(&c, &o);
	assert_non_null(strstr(err->msg, "no command specified"));
	berr_free(err);

	/* An image without a config at all. */
	o.entrypoint = NULL;
	o.args = V("/bin/true");
	o.n_args = 1;
	expect_argv(NULL, &o, V("/bin/true"));
	o.entrypoint = "/bin/sh";
	expect_argv(NULL, &o, V("/bin/sh", "/bin/true"));
}

static void test_empty_arrays(void **state)
{
	struct manifest_config c = { 0 };
	struct spec_run_opts o = { 0 };

	(void) state;
	/* ENTRYPOINT [] and CMD [] are set but empty: nothing to run. */
	set_entry(&c, V(NULL), 0);
	set_cmd(&c, V(NULL), 0);
	berr_free(build_fails(&c, &o));
	o.args = V("sh");
	o.n_args = 1;
	expect_argv(&c, &o, V("sh"));
}

/* ---- environment ---- */

static void assert_env(const struct spec_process *p, const char *key, const char *want)
{
	const char *got = spec_getenv(p, key);

	if (want == NULL) {
		if (got != NULL)
			fail_msg("%s is `%s`, expected unset", key, got);
		return;
	}
	if (got == NULL)
		fail_msg("%s is unset, expected `%s`", key, want);
	assert_string_equal(got, want);
}

static char tmpdir[PATH_MAX];

static void write_file(const char *path, const char *data, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t) len);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static void test_env_merge(void **state)
{
	struct manifest_config c = { 0 };
	struct spec_run_opts o = { 0 };
	char envfile[PATH_MAX + 16];
	struct spec_process p;
	const char *ef = "A=from-file\nC=3\nB=file\n";

	(void) state;
	snprintf(envfile, sizeof(envfile), "%s/env.list", tmpdir);
	write_file(envfile, ef, strlen(ef), 0644);
	setenv("BERTH_TEST_HOSTVAR", "hv", 1);
	unsetenv("BERTH_TEST_UNSET");
	unsetenv("A");

	c.env = V("PATH=/img/bin", "A=1", "B=2", "D=image");
	c.n_env = 4;
	o.env_files = V(envfile);
	o.n_env_files = 1;
	/* -e wins over --env-file whatever the order; bare names come from berth's env. */
	o.env = V("B=cli", "BERTH_TEST_HOSTVAR", "BERTH_TEST_UNSET", "A", "E=x=y");
	o.n_env = 5;
	o.hostname = "c0ffee";
	o.tty = true;
	o.args = V("env");
	o.n_args = 1;
	build_ok(&c, &o, &p);
	assert_env(&p, "PATH", "/img/bin"); /* the image's PATH beats the default */
	assert_env(&p, "HOSTNAME", "c0ffee");
	assert_env(&p, "TERM", "xterm");
	assert_env(&p, "B", "cli");
	assert_env(&p, "C", "3");
	assert_env(&p, "D", "image");
	assert_env(&p, "E", "x=y");
	assert_env(&p, "BERTH_TEST_HOSTVAR", "hv");
	assert_env(&p, "BERTH_TEST_UNSET", NULL); /* -e KEY, KEY unset here: dropped */
	assert_env(&p, "A", NULL);                /* ...and it removes the image's A */
	/* Defaults first, then the container's own. */
	assert_string_equal(p.env[0], "PATH=/img/bin");
	assert_string_equal(p.env[1], "HOSTNAME=c0ffee");
	assert_string_equal(p.env[2], "TERM=xterm");
	assert_int_equal(p.n_env, 8);
	assert_null(p.env[p.n_env]);
	/* HOME is added later, only where missing. */
	assert_int_equal(spec_env_default(&p, "HOME", "/root", NULL), 0);
	assert_env(&p, "HOME", "/root");
	assert_int_equal(spec_env_default(&p, "HOME", "/other", NULL), 0);
	assert_env(&p, "HOME", "/root");
	assert_null(p.env[p.n_env]);
	spec_process_free(&p);
	unlink(envfile);
	unsetenv("BERTH_TEST_HOSTVAR");
}

static void test_env_defaults(void **state)
{
	struct manifest_config c = { 0 };
	struct spec_run_opts o = { 0 };
	char *saved = getenv("HOSTNAME") ? strdup(getenv("HOSTNAME")) : NULL;
	struct spec_process p;
	struct berr *err;

	(void) state;
	o.args = V("x");
	o.n_args = 1;
	build_ok(NULL, &o, &p);
	assert_int_equal(p.n_env, 1);
	assert_env(&p, "PATH", SPEC_DEFAULT_PATH);
	assert_env(&p, "TERM", NULL);
	spec_process_free(&p);

	/* Removing an image variable that is also a default leaves the default. */
	unsetenv("HOSTNAME");
	c.env = V("HOSTNAME=from-image", "NOEQUALS");
	c.n_env = 2;
	o.env = V("HOSTNAME");
	o.n_env = 1;
	o.hostname = "abc";
	build_ok(&c, &o, &p);
	assert_env(&p, "HOSTNAME", "abc");
	assert_env(&p, "NOEQUALS", NULL); /* not a variable: ignored */
	spec_process_free(&p);
	if (saved)
		setenv("HOSTNAME", saved, 1);
	free(saved);

	/* -e =x names nothing. */
	o.env = V("=x");
	err = build_fails(&c, &o);
	assert_int_equal(err->status, EXIT_USAGE);
	assert_non_null(strstr(err->msg, "`=x`"));
	berr_free(err);

	/* A missing --env-file is the user's to fix. */
	o.env = NULL;
	o.n_env = 0;
	o.env_files = V("/nonexistent/berth/env.list");
	o.n_env_files = 1;
	err = build_fails(&c, &o);
	assert_int_equal(err->status, EXIT_USAGE);
	assert_non_null(strstr(err->msg, "/nonexistent/berth/env.list"));
	berr_free(err);
}

static void test_cwd_and_user(void **state)
{
	struct manifest_config c = { 0 };
	struct spec_run_opts o = { 0 };
	struct spec_process p;
	struct berr *err;

	(void) state;
	o.args = V("x");
	o.n_args = 1;
	build_ok(&c, &o, &p);
	assert_string_equal(p.cwd, "/");
	assert_string_equal(p.user, "");
	spec_process_free(&p);

	c.working_dir = "/app";
	c.user = "alice";
	build_ok(&c, &o, &p);
	assert_string_equal(p.cwd, "/app");
	assert_string_equal(p.user, "alice");
	spec_process_free(&p);

	c.working_dir = "app"; /* relative in an image: from "/" */
	o.user = "0:0";
	build_ok(&c, &o, &p);
	assert_string_equal(p.cwd, "/app");
	assert_string_equal(p.user, "0:0");
	spec_process_free(&p);

	o.workdir = "/srv/data";
	build_ok(&c, &o, &p);
	assert_string_equal(p.cwd, "/srv/data");
	spec_process_free(&p);

	o.workdir = "srv";
	err = build_fails(&c, &o);
	assert_int_equal(err->status, EXIT_USAGE);
	assert_non_null(strstr(err->msg, "-w"));
	berr_free(err);
}

/* ---- env files ---- */

static void parse_ok(const char *text, char ***v, size_t *n)
{
	struct berr *err = NULL;

	if (spec_envfile_parse("t.env", text, strlen(text), v, n, &err) < 0)
		fail_msg("%s", err->msg);
}

static void parse_fails(const char *text, size_t len, const char *want)
{
	struct berr *err = NULL;
	size_t n = 99;
	char **v = (char **) 1;

	assert_int_equal(spec_envfile_parse("t.env", text, len, &v, &n, &err), -1);
	assert_non_null(err);
	assert_int_equal(err->status, EXIT_USAGE);
	if (strstr(err->msg, want) == NULL)
		fail_msg("`%s` does not say `%s`", err->msg, want);
	assert_null(v);
	assert_int_equal(n, 0);
	berr_free(err);
}

static void test_envfile_parse(void **state)
{
	char **v;
	size_t n;

	(void) state;
	setenv("BERTH_TEST_FROM_HOST", "host value", 1);
	unsetenv("BERTH_TEST_NOT_SET");
	parse_ok("\xef\xbb\xbf# a comment\n"
		 "\n"
		 "   \n"
		 "A=1\n"
		 "  B=two words  \n"
		 "QUOTED=\"kept\"\n"
		 "EMPTY=\n"
		 "CRLF=yes\r\n"
		 "EQ=a=b\n"
		 "  # indented comment\n"
		 "BERTH_TEST_FROM_HOST\n"
		 "BERTH_TEST_NOT_SET\n"
		 "UTF8=h\xc3\xa9llo\n"
		 "LAST=no newline",
		 &v, &n);
	assert_int_equal(n, 10);
	assert_string_equal(v[0], "A=1");
	assert_string_equal(v[1], "B=two words  "); /* values verbatim */
	assert_string_equal(v[2], "QUOTED=\"kept\"");
	assert_string_equal(v[3], "EMPTY=");
	assert_string_equal(v[4], "CRLF=yes");
	assert_string_equal(v[5], "EQ=a=b");
	assert_string_equal(v[6], "BERTH_TEST_FROM_HOST=host value");
	assert_string_equal(v[7], "BERTH_TEST_NOT_SET"); /* "unset" when merged */
	assert_string_equal(v[8], "UTF8=h\xc3\xa9llo");
	assert_string_equal(v[9], "LAST=no newline");
	spec_strv_free(v, n);
	unsetenv("BERTH_TEST_FROM_HOST");

	parse_ok("", &v, &n);
	assert_int_equal(n, 0);
	spec_strv_free(v, n);

	parse_fails("A=1\n# ok\n=value\n", 16, "t.env:3");
	parse_fails("A=1\nMY VAR=x\n", 13, "t.env:2: variable name `MY VAR` contains whitespace");
	parse_fails("OK=1\nBAD=\xff\xfe\n", 12, "t.env:2: invalid UTF-8");
	parse_fails("X=\xc0\xaf\n", 5, "invalid UTF-8"); /* overlong */
	parse_fails("X=\xed\xa0\x80\n", 6, "invalid UTF-8"); /* a surrogate */
	parse_fails("X=a\0b\n", 6, "t.env:1: NUL");
}

static void test_envfile_read(void **state)
{
	char path[PATH_MAX + 16];
	struct berr *err = NULL;
	char *big, **v;
	size_t n;

	(void) state;
	snprintf(path, sizeof(path), "%s/big.env", tmpdir);
	big = malloc(SPEC_ENVFILE_MAX + 2);
	assert_non_null(big);
	memset(big, '#', SPEC_ENVFILE_MAX + 1);
	write_file(path, big, SPEC_ENVFILE_MAX + 1, 0644);
	free(big);
	assert_int_equal(spec_envfile_read(path, &v, &n, &err), -1);
	assert_non_null(strstr(err->msg, "larger than"));
	berr_free(err);
	err = NULL;
	write_file(path, "K=v\n", 4, 0644);
	assert_int_equal(spec_envfile_read(path, &v, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(v[0], "K=v");
	spec_strv_free(v, n);
	unlink(path);
	/* A directory is no env file. */
	assert_int_equal(spec_envfile_read(tmpdir, &v, &n, &err), -1);
	assert_int_equal(err->status, EXIT_USAGE);
	berr_free(err);
}

/* ---- inside a rootfs ---- */

static char root[PATH_MAX + 8], outside[PATH_MAX + 16];

static void mk(const char *rel, const char *content, mode_t mode)
{
	char path[PATH_MAX * 2];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	write_file(path, content, strlen(content), mode);
}

static void mkd(const char *rel)
{
	char path[PATH_MAX * 2];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	assert_int_equal(mkdir(path, 0755), 0);
}

static void ln(const char *target, const char *rel)
{
	char path[PATH_MAX * 2];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	assert_int_equal(symlink(target, path), 0);
}

/* A rootfs whose symlinks all try to get out. `outside` holds what they must not reach. */
static void make_rootfs(void)
{
	char path[PATH_MAX * 2];

	snprintf(root, sizeof(root), "%s/root", tmpdir);
	snprintf(outside, sizeof(outside), "%s/outside", tmpdir);
	assert_int_equal(mkdir(root, 0755), 0);
	assert_int_equal(mkdir(outside, 0755), 0);
	snprintf(path, sizeof(path), "%s/secret", outside);
	write_file(path, "#!/bin/sh\n", 10, 0755);
	snprintf(path, sizeof(path), "%s/passwd", outside);
	write_file(path, "host:x:0:0::/:/bin/sh\n", 22, 0644);

	mkd("bin");
	mkd("usr");
	mkd("usr/bin");
	mkd("usr/local");
	mkd("usr/local/bin");
	mkd("usr/local/bin/dir");
	mkd("realetc");
	mk("bin/sh", "#!\n", 0755);
	mk("usr/bin/tool", "#!\n", 0755);
	mk("usr/bin/noexec", "data\n", 0644);
	mk("realetc/passwd", "root:x:0:0:root:/root:/bin/sh\n", 0644);
	ln("/realetc", "etc");                        /* absolute: inside the root */
	ln("/usr/bin/tool", "bin/link");              /* absolute symlink to a program */
	ln("../../../../../../../../bin/true", "bin/escape"); /* ".." stops at the root */
	ln("/bin/true", "bin/abs");                   /* the root has no /bin/true */
	ln("../outside/secret", "bin/secret");        /* would be tmpdir/outside/secret */
	ln("../../outside", "usr/out");               /* a directory outside */
	ln("loop", "bin/loop");
	ln("/etc", "hostetc");                        /* /etc is the root's, not the host's */
	ln("../../..", "up");
	ln("/elsewhere", "work");
}

static void lookup_ok(int rootfd, const char *file, const char *path, const char *cwd,
		      const char *want)
{
	struct berr *err = NULL;
	char *out = NULL;

	if (spec_lookup_path(rootfd, file, path, cwd, &out, &err) < 0)
		fail_msg("lookup `%s`: %s", file, err->msg);
	assert_string_equal(out, want);
	free(out);
}

static void lookup_fails(int rootfd, const char *file, const char *path, int status)
{
	struct berr *err = NULL;
	char *out = NULL;

	if (spec_lookup_path(rootfd, file, path, "/", &out, &err) == 0)
		fail_msg("lookup `%s` found `%s`", file, out);
	assert_null(out);
	assert_non_null(err);
	if (err->status != status)
		fail_msg("lookup `%s`: status %d, expected %d (%s)", file, err->status, status,
			 err->msg);
	berr_free(err);
}

static void lookups(int rootfd)
{
	lookup_ok(rootfd, "tool", NULL, "/", "/usr/bin/tool");
	lookup_ok(rootfd, "sh", NULL, "/", "/bin/sh");
	lookup_ok(rootfd, "link", NULL, "/", "/bin/link");
	lookup_ok(rootfd, "tool", "/nope:/usr/bin", "/", "/usr/bin/tool");
	lookup_ok(rootfd, "/usr/bin/tool", NULL, "/", "/usr/bin/tool");
	lookup_ok(rootfd, "bin/sh", NULL, "/", "/bin/sh");
	lookup_ok(rootfd, "./tool", NULL, "/usr/bin", "/usr/bin/./tool");
	lookup_ok(rootfd, "tool", "bin", "/usr", "/usr/bin/tool"); /* relative PATH entry */
	lookup_ok(rootfd, "tool", ":/x", "/usr/bin", "/usr/bin/tool"); /* empty entry: cwd */
	lookup_ok(rootfd, "/etc/../usr/bin/tool", NULL, "/", "/etc/../usr/bin/tool");

	lookup_fails(rootfd, "missing", NULL, EXIT_NOT_FOUND);
	lookup_fails(rootfd, "", NULL, EXIT_NOT_FOUND);
	lookup_fails(rootfd, "noexec", NULL, EXIT_CANNOT_INVOKE);
	lookup_fails(rootfd, "/usr/bin/noexec", NULL, EXIT_CANNOT_INVOKE);
	lookup_fails(rootfd, "/usr/local/bin/dir", NULL, EXIT_CANNOT_INVOKE);
	lookup_fails(rootfd, "dir", "/usr/local/bin", EXIT_CANNOT_INVOKE);
	lookup_fails(rootfd, "/missing/tool", NULL, EXIT_NOT_FOUND);
	/* Symlinks that leave the root on the host resolve inside it, to nothing. */
	lookup_fails(rootfd, "escape", NULL, EXIT_NOT_FOUND);
	lookup_fails(rootfd, "abs", NULL, EXIT_NOT_FOUND);
	lookup_fails(rootfd, "secret", NULL, EXIT_NOT_FOUND);
	lookup_fails(rootfd, "/usr/out/secret", NULL, EXIT_NOT_FOUND);
	lookup_fails(rootfd, "/../../outside/secret", NULL, EXIT_NOT_FOUND);
	lookup_fails(rootfd, "/up/outside/secret", NULL, EXIT_NOT_FOUND);
	lookup_fails(rootfd, "loop", NULL, EXIT_NOT_FOUND);
	lookup_fails(rootfd, "/bin/sh/x", NULL, EXIT_NOT_FOUND); /* through a file */
}

static void reads(int rootfd)
{
	static const char want[] = "root:x:0:0:root:/root:/bin/sh\n";
	struct berr *err = NULL;
	char *data;
	size_t len;

	/* /etc is an absolute symlink: it resolves to the root's /realetc. */
	assert_int_equal(resolve_read(rootfd, "/etc/passwd", 4096, false, &data, &len, &err), 0);
	assert_int_equal(len, strlen(want));
	assert_string_equal(data, want);
	free(data);
	assert_int_equal(resolve_read(rootfd, "/hostetc/passwd", 4096, false, &data, &len,
					   &err), 0);
	assert_string_equal(data, want);
	free(data);
	assert_int_equal(resolve_read(rootfd, "/up/outside/passwd", 4096, true, &data, &len,
					   &err), 0);
	assert_null(data); /* missing inside the root, never the host's */
	assert_int_equal(resolve_read(rootfd, "/etc/passwd", 8, false, &data, &len, &err), -1);
	assert_int_equal(err->errcode, EFBIG);
	berr_free(err);
	err = NULL;
	assert_int_equal(resolve_read(rootfd, "/etc", 4096, false, &data, &len, &err), -1);
	assert_non_null(strstr(err->msg, "not a regular file"));
	berr_free(err);
	err = NULL;
	assert_int_equal(resolve_read(rootfd, "/nope", 4096, false, &data, &len, &err), -1);
	assert_int_equal(err->errcode, ENOENT);
	berr_free(err);
}

static void test_in_root(void **state)
{
	int rootfd;

	(void) state;
	make_rootfs();
	rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	assert_true(rootfd >= 0);
	/* Twice: with openat2 (where the kernel has it), and with the walk older kernels get. */
	for (int walk = 0; walk < 2; walk++) {
		resolve_force_walk = walk;
		lookups(rootfd);
		reads(rootfd);
	}
	resolve_force_walk = false;
	close(rootfd);
}

/* Is dir/rel a directory (not a symlink to one)? */
static bool is_dir(const char *dir, const char *rel)
{
	char path[PATH_MAX * 2];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	return lstat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static void test_mkdir_in_root(void **state)
{
	struct berr *err = NULL;
	int rootfd;

	(void) state;
	rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	assert_true(rootfd >= 0);
	assert_int_equal(resolve_mkdir_p(rootfd, "/app/data/x", 0755, &err), 0);
	assert_true(is_dir(root, "app/data/x"));
	assert_int_equal(resolve_mkdir_p(rootfd, "/app/data/x", 0755, &err), 0); /* exists */
	assert_int_equal(resolve_mkdir_p(rootfd, "/", 0755, &err), 0);
	/* /work -> /elsewhere: created inside the root, not at the host's /elsewhere. */
	assert_int_equal(resolve_mkdir_p(rootfd, "/work/sub", 0755, &err), 0);
	assert_true(is_dir(root, "elsewhere/sub"));
	assert_false(is_dir("", "elsewhere"));
	/* up -> ../../..: stops at the root. */
	assert_int_equal(resolve_mkdir_p(rootfd, "/up/made-by-test", 0755, &err), 0);
	assert_true(is_dir(root, "made-by-test"));
	assert_false(is_dir(tmpdir, "made-by-test"));
	assert_int_equal(resolve_mkdir_p(rootfd, "../../x/./y/../z", 0755, &err), 0);
	assert_true(is_dir(root, "x/z"));
	/* Through or onto a file. */
	assert_int_equal(resolve_mkdir_p(rootfd, "/bin/sh/x", 0755, &err), -1);
	assert_int_equal(err->errcode, ENOTDIR);
	berr_free(err);
	err = NULL;
	assert_int_equal(resolve_mkdir_p(rootfd, "/usr/bin/tool", 0755, &err), -1);
	assert_int_equal(err->errcode, ENOTDIR);
	berr_free(err);
	err = NULL;
	/* O_CREAT through an absolute symlink lands inside too. */
	{
		int fd = resolve_open(rootfd, "/work/new-file", O_WRONLY | O_CREAT, &err);
		assert_true(fd >= 0);
		close(fd);
		assert_int_equal(access("/elsewhere/new-file", F_OK), -1);
	}
	close(rootfd);
}

static int setup(void **state)
{
	(void) state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/berth-test-spec.XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	struct berr *err = NULL;

	(void) state;
	if (fs_rm_rf(tmpdir, &err) < 0) {
		berr_free(err);
		return -1;
	}
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_matrix),
		cmocka_unit_test(test_shell_entry_ignores_cmd),
		cmocka_unit_test(test_seed_examples),
		cmocka_unit_test(test_entrypoint_option),
		cmocka_unit_test(test_empty_arrays),
		cmocka_unit_test(test_env_merge),
		cmocka_unit_test(test_env_defaults),
		cmocka_unit_test(test_cwd_and_user),
		cmocka_unit_test(test_envfile_parse),
		cmocka_unit_test(test_envfile_read),
		cmocka_unit_test(test_in_root),
		cmocka_unit_test(test_mkdir_in_root),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
