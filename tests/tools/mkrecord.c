/* Test driver: writes a container record through the public API (runtime/record.h), so the
 * system tests can exercise ps, rm, inspect and prune before `berth run` exists. With
 * --running it starts `sleep` in its own session as the record's process. Prints the id.
 * Usage: mkrecord [--name N] [--image IMG] [--running | --exited CODE] [--oom]
 *                 [-v NAME:/DST] [--anon /DST] [--bind SRC:DST] [--label K=V] [--env K=V]
 *                 [--restart POLICY] [--memory BYTES] [-- CMD [ARG...]]
 * Data root from $BERTH_ROOT. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/err.h"
#include "base/paths.h"
#include "base/util.h"
#include "runtime/record.h"
#include "runtime/volume.h"

static void push(struct rec_strv *v, const char *s)
{
	v->v = xrealloc(v->v, (v->n + 2) * sizeof(*v->v));
	v->v[v->n++] = xstrdup(s);
	v->v[v->n] = NULL;
}

static struct rec_mount *add_mount(struct rec_config *c, enum rec_mount_type t)
{
	c->mounts = xrealloc(c->mounts, (c->n_mounts + 1) * sizeof(*c->mounts));
	memset(&c->mounts[c->n_mounts], 0, sizeof(*c->mounts));
	c->mounts[c->n_mounts].type = t;
	return &c->mounts[c->n_mounts++];
}

/* Start `sleep 1000` as a grandchild in its own session, so it outlives this driver and is
 * nobody's zombie; its stdio goes to /dev/null so the test's pipes close. */
static pid_t start_sleeper(void)
{
	int p[2];
	pid_t a, pid = -1;

	if (pipe(p) < 0 || (a = fork()) < 0)
		return -1;
	if (a == 0) {
		pid_t b;
		setsid();
		b = fork();
		if (b == 0) {
			int fd = open("/dev/null", O_RDWR);
			dup2(fd, 0);
			dup2(fd, 1);
			dup2(fd, 2);
			execlp("sleep", "sleep", "1000", (char *) NULL);
			_exit(127);
		}
		if (write(p[1], &b, sizeof(b)) != sizeof(b))
			_exit(1);
		_exit(0);
	}
	close(p[1]);
	if (read(p[0], &pid, sizeof(pid)) != sizeof(pid))
		pid = -1;
	close(p[0]);
	waitpid(a, NULL, 0);
	return pid;
}

int main(int argc, char **argv)
{
	struct rec_config c = { 0 };
	struct rec_state st = { .status = REC_CREATED };
	struct berr *err = NULL;
	bool running = false, exited = false;
	int code = 0, i;

	if (paths_init(getenv("BERTH_ROOT"), NULL) < 0) {
		fprintf(stderr, "mkrecord: set BERTH_ROOT to an absolute path\n");
		return 2;
	}
	c.image = xstrdup("busybox:latest");
	c.image_id = xstrdup("sha256:1111111111111111111111111111111111111111111111111111111111111111");
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--") == 0) {
			i++;
			break;
		} else if (strcmp(a, "--running") == 0) {
			running = true;
		} else if (strcmp(a, "--oom") == 0) {
			st.oom_killed = true;
		} else if (v && strcmp(a, "--exited") == 0) {
			exited = true;
			code = atoi(v);
			i++;
		} else if (v && strcmp(a, "--name") == 0) {
			str_copy(c.name, sizeof(c.name), v);
			i++;
		} else if (v && strcmp(a, "--image") == 0) {
			free(c.image);
			c.image = xstrdup(v);
			i++;
		} else if (v && strcmp(a, "--memory") == 0) {
			c.memory = atoll(v);
			i++;
		} else if (v && strcmp(a, "--restart") == 0) {
			if (rec_restart_parse(v, &c.restart, &c.restart_max, &err) < 0)
				return berr_report(err);
			i++;
		} else if (v && strcmp(a, "--env") == 0) {
			push(&c.env, v);
			i++;
		} else if (v && strcmp(a, "--label") == 0) {
			const char *eq = strchr(v, '=');
			c.labels = xrealloc(c.labels, (c.n_labels + 1) * sizeof(*c.labels));
			c.labels[c.n_labels].key = eq ? strndup(v, (size_t) (eq - v)) : xstrdup(v);
			c.labels[c.n_labels++].value = xstrdup(eq ? eq + 1 : "");
			i++;
		} else if (v && strcmp(a, "-v") == 0 && strchr(v, ':')) {
			struct rec_mount *m = add_mount(&c, REC_MOUNT_VOLUME);
			m->name = strndup(v, (size_t) (strchr(v, ':') - v));
			m->destination = xstrdup(strchr(v, ':') + 1);
			i++;
		} else if (v && strcmp(a, "--anon") == 0) {
			struct vol_info vi;
			struct rec_mount *m;
			if (vol_create(NULL, NULL, 0, &vi, NULL, &err) < 0)
				return berr_report(err);
			m = add_mount(&c, REC_MOUNT_VOLUME);
			m->name = xstrdup(vi.name);
			m->anonymous = true;
			m->destination = xstrdup(v);
			vol_info_free(&vi);
			i++;
		} else if (v && strcmp(a, "--bind") == 0 && strchr(v, ':')) {
			struct rec_mount *m = add_mount(&c, REC_MOUNT_BIND);
			m->source = strndup(v, (size_t) (strchr(v, ':') - v));
			m->destination = xstrdup(strchr(v, ':') + 1);
			i++;
		} else {
			fprintf(stderr, "mkrecord: bad option %s\n", a);
			return 2;
		}
	}
	if (i < argc) {
		for (; i < argc; i++) {
			push(&c.argv, argv[i]);
			push(&c.cmd, argv[i]);
		}
	} else {
		push(&c.argv, "sleep");
		push(&c.argv, "1000");
		push(&c.cmd, "sleep");
		push(&c.cmd, "1000");
	}
	push(&c.env, "PATH=/usr/bin:/bin");
	if (rec_create(&c, &err) < 0)
		return berr_report(err);
	if (running) {
		pid_t pid = start_sleeper();
		if (pid <= 0 || rec_state_set_running(&st, pid, &err) < 0) {
			fprintf(stderr, "mkrecord: cannot start sleep\n");
			berr_free(err);
			return 1;
		}
	} else if (exited) {
		st.status = REC_EXITED;
		st.started = rec_now() - 5000000000LL;
		st.finished = rec_now();
		st.exit_code = code;
	}
	if ((running || exited || st.oom_killed) && rec_save_state(c.id, &st, &err) < 0)
		return berr_report(err);
	printf("%s\n", c.id);
	rec_config_free(&c);
	rec_state_free(&st);
	return 0;
}
