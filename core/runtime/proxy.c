/* The port relay: one process per container with published ports, an epoll loop over the
 * listening sockets and the connection pairs, plain read/write through one fixed buffer per
 * direction. A peer that stops reading only fills its pair's buffer: others go on. */
#include "proxy.h"
#include "base/err.h"
#include "base/log.h"
#include "base/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define BUF_SIZE 16384

static int port_number(const char *s, size_t len, uint16_t *out)
{
	unsigned long v = 0;

	if (len == 0 || len > 5)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned long) (s[i] - '0');
	}
	if (v == 0 || v > 65535)
		return -1;
	*out = (uint16_t) v;
	return 0;
}

int port_map_parse(const char *spec, struct port_map *out, struct berr **err)
{
	const char *proto = strchr(spec, '/'), *end = proto ? proto : spec + strlen(spec);
	const char *last = NULL, *first = NULL;

	memset(out, 0, sizeof(*out));
	if (proto && strcmp(proto, "/tcp") != 0) {
		if (strcmp(proto, "/udp") == 0 || strcmp(proto, "/sctp") == 0)
			return berr_usage(err, "-p `%s`: only tcp ports can be published in this berth", spec);
		return berr_usage(err, "-p `%s`: the protocol must be tcp", spec);
	}
	for (const char *p = spec; p < end; p++)
		if (*p == ':') {
			if (first == NULL)
				first = p;
			last = p;
		}
	if (last == NULL)
		return berr_usage(err, "-p `%s`: give the host port too, as HOST_PORT:CONTAINER_PORT "
				  "(berth does not pick random host ports)", spec);
	if (port_number(last + 1, (size_t) (end - last - 1), &out->container_port) < 0)
		return berr_usage(err, "-p `%s`: the container port must be a number from 1 to 65535", spec);
	if (first != last) {
		/* IP:HOST_PORT:CONTAINER_PORT; an IPv6 address comes in brackets */
		const char *ip = spec, *ip_end = first;
		const char *hp = first + 1;
		if (*spec == '[') {
			const char *rb = strchr(spec, ']');
			if (rb == NULL || rb[1] != ':')
				return berr_usage(err, "-p `%s`: write an IPv6 address in brackets, [::1]:80:5000", spec);
			ip = spec + 1;
			ip_end = rb;
			hp = rb + 2;
		}
		if ((size_t) (ip_end - ip) >= sizeof(out->host_ip))
			return berr_usage(err, "-p `%s`: the address is too long", spec);
		memcpy(out->host_ip, ip, (size_t) (ip_end - ip));
		{
			struct in6_addr a6;
			struct in_addr a4;
			if (out->host_ip[0] && inet_pton(AF_INET, out->host_ip, &a4) != 1 &&
			    inet_pton(AF_INET6, out->host_ip, &a6) != 1)
				return berr_usage(err, "-p `%s`: `%s` is not an IP address", spec, out->host_ip);
		}
		if (port_number(hp, (size_t) (last - hp), &out->host_port) < 0)
			return berr_usage(err, "-p `%s`: the host port must be a number from 1 to 65535", spec);
	} else if (port_number(spec, (size_t) (first - spec), &out->host_port) < 0) {
		return berr_usage(err, "-p `%s`: the host port must be a number from 1 to 65535", spec);
	}
	return 0;
}

int proxy_bind(const struct port_map *maps, size_t n, int *fds, struct berr **err)
{
	int bound = 0;

	for (size_t i = 0; i < n; i++)
		fds[i] = -1;
	for (size_t i = 0; i < n; i++) {
		const struct port_map *m = &maps[i];
		struct sockaddr_storage ss = { 0 };
		socklen_t len;
		int fd, one = 1, family = AF_INET;

		if (m->host_port == m->container_port && m->host_ip[0] == '\0')
			continue; /* the container's own port is the host's */
		if (strchr(m->host_ip, ':')) {
			struct sockaddr_in6 *s6 = (struct sockaddr_in6 *) &ss;
			family = AF_INET6;
			s6->sin6_family = AF_INET6;
			s6->sin6_port = htons(m->host_port);
			inet_pton(AF_INET6, m->host_ip, &s6->sin6_addr);
			len = sizeof(*s6);
		} else {
			struct sockaddr_in *s4 = (struct sockaddr_in *) &ss;
			s4->sin_family = AF_INET;
			s4->sin_port = htons(m->host_port);
			s4->sin_addr.s_addr = htonl(INADDR_ANY);
			if (m->host_ip[0])
				inet_pton(AF_INET, m->host_ip, &s4->sin_addr);
			len = sizeof(*s4);
		}
		fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd < 0) {
			berr_make(err, errno, "socket for port %u", m->host_port);
			goto fail;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, (struct sockaddr *) &ss, len) < 0 || listen(fd, 128) < 0) {
			int e = errno;
			close(fd);
			berr_make(err, e, "publish port %s%s%u", m->host_ip, m->host_ip[0] ? ":" : "", m->host_port);
			if (e == EADDRINUSE)
				berr_wrap(err, "another program listens on that port: pick another HOST_PORT");
			goto fail;
		}
		fds[i] = fd;
		bound++;
	}
	return bound;
fail:
	for (size_t i = 0; i < n; i++)
		if (fds[i] >= 0) {
			close(fds[i]);
			fds[i] = -1;
		}
	return -1;
}

/* ---- the relay (child) ---- */

struct half {
	char buf[BUF_SIZE];
	size_t len, off;
	bool eof;          /* the reader side ended: shut the writer's write side once drained */
};

struct conn {
	int a, b;          /* outside peer, container side */
	struct half ab, ba;
	bool used;
};

static struct conn conns[PROXY_CONNS_MAX];

/* epoll data: index << 2 | role (0 listener, 1 side a, 2 side b) */
static void watch(int ep, int fd, uint64_t tag, uint32_t events, int op)
{
	struct epoll_event ev = { .events = events, .data.u64 = tag };
	epoll_ctl(ep, op, fd, &ev);
}

static void conn_close(int ep, struct conn *c)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, c->a, NULL);
	epoll_ctl(ep, EPOLL_CTL_DEL, c->b, NULL);
	close(c->a);
	close(c->b);
	c->used = false;
}

/* Move bytes from `from` to `to` through h; false when the pair is done. */
static bool pump(int from, int to, struct half *h)
{
	for (;;) {
		if (h->off < h->len) {
			ssize_t w = write(to, h->buf + h->off, h->len - h->off);
			if (w < 0)
				return errno == EAGAIN || errno == EINTR;
			h->off += (size_t) w;
			continue;
		}
		h->off = h->len = 0;
		if (h->eof)
			return true;
		{
			ssize_t r = read(from, h->buf, sizeof(h->buf));
			if (r == 0) {
				h->eof = true;
				shutdown(to, SHUT_WR);
				return true;
			}
			if (r < 0)
				return errno == EAGAIN || errno == EINTR;
			h->len = (size_t) r;
		}
	}
}

static void rearm(int ep, struct conn *c, size_t i)
{
	/* wait for output room where a buffer is pending, for input elsewhere */
	uint32_t ea = (c->ab.eof ? 0 : EPOLLIN) | (c->ba.off < c->ba.len ? EPOLLOUT : 0);
	uint32_t eb = (c->ba.eof ? 0 : EPOLLIN) | (c->ab.off < c->ab.len ? EPOLLOUT : 0);
	watch(ep, c->a, (uint64_t) i << 2 | 1, ea, EPOLL_CTL_MOD);
	watch(ep, c->b, (uint64_t) i << 2 | 2, eb, EPOLL_CTL_MOD);
}

static void accept_one(int ep, int lfd, uint16_t port)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(port) };
	size_t i;
	int a, b, one = 1;

	for (i = 0; i < PROXY_CONNS_MAX && conns[i].used; i++)
		;
	if (i == PROXY_CONNS_MAX)
		return; /* full: it waits in the backlog */
	a = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (a < 0)
		return;
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	b = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (b < 0 || (connect(b, (struct sockaddr *) &to, sizeof(to)) < 0 && errno != EINPROGRESS)) {
		close(a);
		if (b >= 0)
			close(b);
		return;
	}
	setsockopt(a, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(b, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	memset(&conns[i], 0, sizeof(conns[i]));
	conns[i].a = a;
	conns[i].b = b;
	conns[i].used = true;
	watch(ep, a, (uint64_t) i << 2 | 1, EPOLLIN, EPOLL_CTL_ADD);
	watch(ep, b, (uint64_t) i << 2 | 2, EPOLLIN | EPOLLOUT, EPOLL_CTL_ADD);
}

static void relay(const struct port_map *maps, int *fds, size_t n) __attribute__((noreturn));
static void relay(const struct port_map *maps, int *fds, size_t n)
{
	int ep = epoll_create1(EPOLL_CLOEXEC), sfd;
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_SETMASK, &set, NULL);
	sfd = signalfd(-1, &set, SFD_CLOEXEC);
	signal(SIGPIPE, SIG_IGN);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (ep < 0 || sfd < 0)
		_exit(1);
	watch(ep, sfd, UINT64_MAX, EPOLLIN, EPOLL_CTL_ADD);
	for (size_t i = 0; i < n; i++)
		if (fds[i] >= 0)
			watch(ep, fds[i], (uint64_t) i << 2, EPOLLIN, EPOLL_CTL_ADD);
	for (;;) {
		struct epoll_event evs[64];
		int k = epoll_wait(ep, evs, 64, -1);

		for (int j = 0; j < k; j++) {
			uint64_t tag = evs[j].data.u64;
			size_t i = (size_t) (tag >> 2);
			struct conn *c;

			if (tag == UINT64_MAX)
				_exit(0);
			if ((tag & 3) == 0) {
				accept_one(ep, fds[i], maps[i].container_port);
				continue;
			}
			c = &conns[i];
			if (!c->used)
				continue;
			if (!pump(c->a, c->b, &c->ab) || !pump(c->b, c->a, &c->ba) ||
			    (c->ab.eof && c->ba.eof && c->ab.off == c->ab.len && c->ba.off == c->ba.len) ||
			    ((evs[j].events & (EPOLLERR | EPOLLHUP)) && !(evs[j].events & EPOLLIN))) {
				conn_close(ep, c);
				continue;
			}
			rearm(ep, c, i);
		}
	}
}

pid_t proxy_start(const struct port_map *maps, int *fds, size_t n, struct berr **err)
{
	bool any = false;
	pid_t pid;

	for (size_t i = 0; i < n; i++)
		any = any || fds[i] >= 0;
	if (!any)
		return 0;
	pid = fork();
	if (pid < 0)
		return berr_make(err, errno, "fork the port relay");
	if (pid == 0) {
		/* the caller's other descriptors are not the relay's business */
		for (int fd = 3; fd < 1024; fd++) {
			bool keep = false;
			for (size_t i = 0; i < n; i++)
				keep = keep || fds[i] == fd;
			if (!keep)
				close(fd);
		}
		relay(maps, fds, n);
	}
	for (size_t i = 0; i < n; i++)
		if (fds[i] >= 0) {
			close(fds[i]);
			fds[i] = -1;
		}
	return pid;
}

void proxy_stop(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	/* reaped here if already gone; a supervisor's loop reaps it otherwise */
	for (int i = 0; i < 20 && waitpid(pid, NULL, WNOHANG) == 0; i++)
		usleep(5000);
}
