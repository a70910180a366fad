/* Control socket framing: bounded reads and writes with a deadline, so a stuck or hostile
 * peer cannot hold the supervisor's loop. */
#include "ctl.h"
#include "base/err.h"
#include "base/signame.h"
#include "base/util.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait until fd is ready for `events`, at most until `deadline`; 0, or -1 with errno. */
static int wait_fd(int fd, short events, long long deadline)
{
	for (;;) {
		long long left = deadline - now_ms();
		struct pollfd p = { fd, events, 0 };
		int n;
		if (left <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		n = poll(&p, 1, (int) left);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -1;
	}
}

int ctl_parse(const char *buf, size_t len, json_t **out, struct berr **err)
{
	json_error_t je;
	json_t *j;

	*out = NULL;
	if (len == 0)
		return berr_make(err, 0, "control message: empty");
	j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	if (j == NULL)
		return berr_make(err, 0, "control message: not JSON (%s at byte %d)", je.text, je.position);
	if (!json_is_object(j)) {
		json_decref(j);
		return berr_make(err, 0, "control message: not a JSON object");
	}
	*out = j;
	return 0;
}

int ctl_read(int fd, size_t max, int timeout_ms, json_t **out, struct berr **err)
{
	long long deadline = now_ms() + timeout_ms;
	char *buf = xmalloc(max + 1);
	size_t len = 0;
	int ret;

	*out = NULL;
	for (;;) {
		ssize_t n;
		char *nl;

		if (wait_fd(fd, POLLIN, deadline) < 0) {
			ret = berr_make(err, errno, "control message: read");
			goto out;
		}
		n = read(fd, buf + len, max - len + 1 > 65536 ? 65536 : max - len + 1);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			ret = berr_make(err, errno, "control message: read");
			goto out;
		}
		if (n == 0)
			break;
		nl = memchr(buf + len, '\n', (size_t) n);
		len += (size_t) n;
		if (nl) {
			len = (size_t) (nl - buf);
			break;
		}
		if (len > max) {
			ret = berr_make(err, 0, "control message: longer than %zu bytes", max);
			goto out;
		}
	}
	ret = ctl_parse(buf, len, out, err);
out:
	free(buf);
	return ret;
}

int ctl_write(int fd, const json_t *msg, int timeout_ms, struct berr **err)
{
	long long deadline = now_ms() + timeout_ms;
	char *text = json_dumps(msg, JSON_COMPACT);
	size_t len, off = 0;
	int ret = 0;

	if (text == NULL)
		return berr_make(err, ENOMEM, "control message");
	len = strlen(text);
	text[len++] = '\n'; /* json_dumps' NUL becomes the terminator */
	while (off < len) {
		ssize_t n;
		if (wait_fd(fd, POLLOUT, deadline) < 0) {
			ret = berr_make(err, errno, "control message: write");
			break;
		}
		n = send(fd, text + off, len - off, MSG_NOSIGNAL); /* a peer gone is an error, not a signal */
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			ret = berr_make(err, errno, "control message: write");
			break;
		}
		off += (size_t) n;
	}
	free(text);
	return ret;
}

const char *ctl_str(const json_t *req, const char *key)
{
	json_t *v = json_object_get(req, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

int ctl_request(const json_t *msg, struct ctl_req *out, struct berr **err)
{
	static const char *const names[] = { "status", "start", "stop", "restart", "kill", "rm" };
	const char *cmd = ctl_str(msg, "cmd");
	json_t *v;
	size_t i;

	memset(out, 0, sizeof(*out));
	out->signal = SIGKILL;
	out->timeout = -1;
	if (cmd == NULL)
		return berr_make(err, 0, "control message: no \"cmd\" string");
	for (i = 0; i < ARRAY_SIZE(names); i++)
		if (strcmp(cmd, names[i]) == 0)
			break;
	if (i == ARRAY_SIZE(names))
		return berr_make(err, 0, "control message: unknown \"cmd\" `%.64s`", cmd);
	out->cmd = (enum ctl_cmd) i;
	/* "ps" was status's first name: clients ask "status" */
	if (out->cmd == CTL_STATUS)
		return 0;
	out->name = ctl_str(msg, "name");
	if (out->name == NULL || *out->name == '\0' || strlen(out->name) > 200)
		return berr_make(err, 0, "control message: \"%s\" needs a \"name\" string (1 to 200 bytes)", cmd);
	if ((v = json_object_get(msg, "signal")) != NULL) {
		if (!json_is_string(v) || (out->signal = sig_parse(json_string_value(v))) < 0)
			return berr_make(err, 0, "control message: \"signal\" is not a signal name or number");
	}
	if ((v = json_object_get(msg, "timeout")) != NULL) {
		if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 1000000)
			return berr_make(err, 0, "control message: \"timeout\" must be seconds from 0 to 1000000");
		out->timeout = (int) json_integer_value(v);
	}
	if ((v = json_object_get(msg, "force")) != NULL) {
		if (!json_is_boolean(v))
			return berr_make(err, 0, "control message: \"force\" must be true or false");
		out->force = json_is_true(v);
	}
	return 0;
}
