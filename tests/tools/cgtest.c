/* Test driver for the cgroup backends (tests/system/cgroup.bats, tests/qemu/cgroup.guest.sh).
 *
 * Usage: cgtest [--root DIR] [--parent NAME] COMMAND ...
 *   detect                      print the layout: version, hierarchies, controllers
 *   create ID [LIMITS]          create <parent>/ID with the limits and leave it
 *   run ID [LIMITS] [--by-pid] [--keep] (--hog MB | --busy SECS | --forks N | -- CMD...)
 *                               create, run a child in it, report, kill what is left, destroy
 *   path ID CTRL                the cgroup's directory for controller CTRL (memory, pids, ...)
 *   stats ID | oom ID | kill ID | destroy ID
 * LIMITS: --memory S --memory-swap S --cpus N --cpu-shares N --cpuset-cpus L --cpuset-mems L
 *         --pids-limit N
 * Reports are `key=value` lines on stdout. Exit 0 when the cgroup calls worked (whatever the
 * child did), 2 on usage errors, 125 when a cgroup call failed (the message on stderr). */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/err.h"
#include "runtime/cgroup.h"

static int usage(void)
{
	fprintf(stderr, "usage: cgtest [--root DIR] [--parent NAME] detect|create|run|path|stats|oom|kill|"
			"destroy ...\n");
	return EXIT_USAGE;
}

/* Report the error; exit with its status (125, or 2 for a usage error). */
static int fail(struct berr *err)
{
	int status = err->status;

	fprintf(stderr, "cgtest: %s\n", err->msg);
	berr_free(err);
	return status;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static const struct {
	const char *name;
	enum cg_ctrl c;
} ctrl_names[] = {
	{ "memory", CG_MEMORY }, { "cpu", CG_CPU }, { "cpuacct", CG_CPUACCT }, { "cpuset", CG_CPUSET },
	{ "pids", CG_PIDS }, { "blkio", CG_IO }, { "io", CG_IO }, { "freezer", CG_FREEZER },
	{ "devices", CG_DEVICES },
};

static void print_ctrls(unsigned bits)
{
	const char *sep = "";

	for (int c = 0; c < CG_N_CTRL; c++)
		if (bits & CG_BIT(c)) {
			printf("%s%s", sep, cg_ctrl_name((enum cg_ctrl) c));
			sep = ",";
		}
	printf("\n");
}

/* One LIMITS option at argv[*i]; returns 1 if consumed, 0 if not a limit, -1 on error. */
static int parse_limit(int argc, char **argv, int *i, struct cg_limits *l, struct berr **err)
{
	const char *o = argv[*i], *v = *i + 1 < argc ? argv[*i + 1] : NULL;
	int r;

	if (strcmp(o, "--memory") && strcmp(o, "--memory-swap") && strcmp(o, "--cpus") &&
	    strcmp(o, "--cpu-shares") && strcmp(o, "--cpuset-cpus") && strcmp(o, "--cpuset-mems") &&
	    strcmp(o, "--pids-limit"))
		return 0;
	if (v == NULL)
		return berr_usage(err, "%s needs a value", o);
	if (strcmp(o, "--memory") == 0)
		r = cg_parse_memory(v, &l->memory, err);
	else if (strcmp(o, "--memory-swap") == 0)
		r = cg_parse_memory_swap(v, &l->memory_swap, err);
	else if (strcmp(o, "--cpus") == 0)
		r = cg_parse_cpus(v, &l->cpu_quota_us, &l->cpu_period_us, err);
	else if (strcmp(o, "--cpu-shares") == 0)
		r = cg_parse_cpu_shares(v, &l->cpu_shares, err);
	else if (strcmp(o, "--cpuset-cpus") == 0)
		r = cg_parse_cpuset(v, l->cpuset_cpus, sizeof(l->cpuset_cpus), err);
	else if (strcmp(o, "--cpuset-mems") == 0)
		r = cg_parse_cpuset(v, l->cpuset_mems, sizeof(l->cpuset_mems), err);
	else
		r = cg_parse_pids_limit(v, &l->pids_max, err);
	if (r < 0)
		return -1;
	(*i)++;
	return 1;
}

static void print_stats(const struct cg_stats *st)
{
	printf("memory_current=%" PRId64 "\nmemory_peak=%" PRId64 "\nmemory_limit=%" PRId64 "\n"
	       "cpu_usage_ns=%" PRId64 "\npids_current=%" PRId64 "\npids_max=%" PRId64 "\n"
	       "oom_kills=%" PRId64 "\n",
	       st->memory_current, st->memory_peak, st->memory_limit, st->cpu_usage_ns,
	       st->pids_current, st->pids_max, st->oom_kills);
}

/* ---- what the child does ---- */

/* Touch `mb` MiB, one page at a time, so the memory is really charged. */
static int child_hog(long mb)
{
	for (long i = 0; i < mb; i++) {
		volatile char *p = malloc(1 << 20);
		if (p == NULL)
			return 3;
		for (size_t off = 0; off < (1u << 20); off += 4096)
			p[off] = (char) off | 1;
	}
	return 0;
}

static int child_busy(long secs)
{
	int64_t end = now_ns() + secs * 1000000000LL;
	volatile unsigned long n = 0;

	while (now_ns() < end)
		n++;
	return 0;
}

/* Fork up to n sleepers; report how many forks worked and why the next one failed. */
static int child_forks(long n)
{
	long made = 0;
	int e = 0;

	for (; made < n; made++) {
		pid_t p = fork();
		if (p < 0) {
			e = errno;
			break;
		}
		if (p == 0) {
			pause();
			_exit(0);
		}
	}
	printf("forked=%ld\nfork_error=%s\n", made, e == EAGAIN ? "EAGAIN" : e ? strerror(e) : "none");
	fflush(stdout);
	return 0;
}

static int cmd_run(const struct cg_system *sys, const char *id, const struct cg_limits *l, int argc,
		   char **argv)
{
	struct berr *err = NULL;
	struct cg_handle h;
	struct cg_join j;
	struct cg_stats st;
	long hog = -1, busy = -1, forks = -1;
	bool by_pid = false, keep = false, killed = false;
	char **cmd = NULL;
	int sync_pipe[2], status, rc = 0;
	int64_t t0, wall;
	pid_t pid;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--by-pid") == 0)
			by_pid = true;
		else if (strcmp(argv[i], "--keep") == 0)
			keep = true;
		else if (strcmp(argv[i], "--hog") == 0 && i + 1 < argc)
			hog = atol(argv[++i]);
		else if (strcmp(argv[i], "--busy") == 0 && i + 1 < argc)
			busy = atol(argv[++i]);
		else if (strcmp(argv[i], "--forks") == 0 && i + 1 < argc)
			forks = atol(argv[++i]);
		else if (strcmp(argv[i], "--") == 0 && i + 1 < argc) {
			cmd = argv + i + 1;
			break;
		} else
			return usage();
	}
	if (hog < 0 && busy < 0 && forks < 0 && cmd == NULL)
		return usage();

	if (cg_create(sys, id, l, &h, &err) < 0)
		return fail(err);
	if (cg_join_open(&h, &j, &err) < 0 || pipe(sync_pipe) < 0) {
		struct berr *e2 = NULL;
		if (err == NULL)
			berr_make(&err, errno, "pipe");
		if (cg_destroy(&h, &e2) < 0)
			berr_free(e2);
		return fail(err);
	}
	fflush(stdout);
	t0 = now_ns();
	pid = fork();
	if (pid == 0) {
		char c;
		close(sync_pipe[1]);
		if (by_pid) {
			/* The parent moves us with cg_enter() and then lets us go. */
			if (read(sync_pipe[0], &c, 1) != 1)
				_exit(120);
		} else if (cg_join_self(&j) < 0) {
			_exit(121);
		}
		cg_join_close(&j);
		if (hog >= 0)
			_exit(child_hog(hog));
		if (busy >= 0)
			_exit(child_busy(busy));
		if (forks >= 0)
			_exit(child_forks(forks));
		execvp(cmd[0], cmd);
		_exit(127);
	}
	close(sync_pipe[0]);
	cg_join_close(&j);
	if (pid < 0) {
		berr_make(&err, errno, "fork");
		rc = -1;
	} else if (by_pid) {
		if (cg_enter(&h, pid, &err) < 0)
			rc = -1;
		if (write(sync_pipe[1], "x", 1) != 1 && rc == 0)
			rc = berr_make(&err, errno, "wake child");
	}
	close(sync_pipe[1]);
	if (pid > 0) {
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		wall = now_ns() - t0;
		if (WIFEXITED(status))
			printf("exit=%d\n", WEXITSTATUS(status));
		else
			printf("signal=%d\n", WTERMSIG(status));
		if (rc == 0 && (cg_stats(&h, &st, &err) < 0 || cg_oom_killed(&h, &killed, &err) < 0))
			rc = -1;
		if (rc == 0) {
			print_stats(&st);
			printf("oom_killed=%s\nwall_ns=%" PRId64 "\n", killed ? "yes" : "no", wall);
			if (st.cpu_usage_ns >= 0 && wall > 0)
				printf("cpu_ratio_pct=%" PRId64 "\n", st.cpu_usage_ns * 100 / wall);
		}
	}
	fflush(stdout);
	if (!keep) {
		struct berr *e2 = NULL;
		/* Whatever the child left behind (the sleepers of --forks) goes with the cgroup. */
		if (cg_kill_all(&h, SIGKILL, &e2) < 0 || cg_destroy(&h, &e2) < 0) {
			if (rc == 0) {
				err = e2;
				rc = -1;
			} else {
				berr_free(e2);
			}
		}
	}
	return rc < 0 ? fail(err) : 0;
}

int main(int argc, char **argv)
{
	const char *root = NULL, *parent = NULL, *cmd, *id;
	struct cg_system sys;
	struct cg_handle h;
	struct berr *err = NULL;
	int i = 1;

	for (; i + 1 < argc && argv[i][0] == '-'; i += 2) {
		if (strcmp(argv[i], "--root") == 0)
			root = argv[i + 1];
		else if (strcmp(argv[i], "--parent") == 0)
			parent = argv[i + 1];
		else
			return usage();
	}
	if (i >= argc)
		return usage();
	cmd = argv[i++];
	if (cg_detect(&sys, root, &err) < 0)
		return fail(err);
	if (parent)
		snprintf(sys.parent, sizeof(sys.parent), "%s", parent);

	if (strcmp(cmd, "detect") == 0) {
		printf("version=%s\nroot=%s\n", cg_version_name(sys.version), sys.root);
		for (size_t k = 0; k < sys.n_hier; k++) {
			printf("hier=%s ctrls=", sys.hier[k].path);
			print_ctrls(sys.hier[k].ctrls);
		}
		if (sys.unified[0]) {
			printf("unified=%s ctrls=", sys.unified);
			print_ctrls(sys.v2_ctrls);
		}
		return 0;
	}
	if (i >= argc)
		return usage();
	id = argv[i++];

	if (strcmp(cmd, "create") == 0 || strcmp(cmd, "run") == 0) {
		struct cg_limits l;
		int first_rest = argc;

		cg_limits_init(&l);
		for (; i < argc; i++) {
			int r = parse_limit(argc, argv, &i, &l, &err);
			if (r < 0)
				return fail(err);
			if (r == 0) {
				first_rest = i;
				break;
			}
		}
		if (strcmp(cmd, "run") == 0)
			return cmd_run(&sys, id, &l, argc - first_rest, argv + first_rest);
		if (first_rest != argc)
			return usage();
		if (cg_create(&sys, id, &l, &h, &err) < 0)
			return fail(err);
		printf("created=%s/%s\n", sys.parent, id);
		return 0;
	}

	if (cg_open(&sys, id, &h, &err) < 0)
		return fail(err);
	if (strcmp(cmd, "path") == 0) {
		char path[CG_PATH_MAX];
		if (i >= argc)
			return usage();
		for (size_t k = 0; k < sizeof(ctrl_names) / sizeof(ctrl_names[0]); k++)
			if (strcmp(ctrl_names[k].name, argv[i]) == 0) {
				if (cg_path(&h, ctrl_names[k].c, path, sizeof(path), &err) < 0)
					return fail(err);
				printf("%s\n", path);
				return 0;
			}
		return usage();
	}
	if (strcmp(cmd, "stats") == 0) {
		struct cg_stats st;
		if (cg_stats(&h, &st, &err) < 0)
			return fail(err);
		print_stats(&st);
		return 0;
	}
	if (strcmp(cmd, "oom") == 0) {
		bool killed;
		if (cg_oom_killed(&h, &killed, &err) < 0)
			return fail(err);
		printf("oom_killed=%s\n", killed ? "yes" : "no");
		return 0;
	}
	if (strcmp(cmd, "kill") == 0)
		return cg_kill_all(&h, SIGKILL, &err) < 0 ? fail(err) : 0;
	if (strcmp(cmd, "destroy") == 0)
		return cg_destroy(&h, &err) < 0 ? fail(err) : 0;
	return usage();
}
