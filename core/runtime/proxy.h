/* Published ports (`-p 80:5000`) for containers on the host's network: berth listens on the
 * host port and relays each connection to the container's port on the loopback. The sockets
 * are bound by the caller before the container starts (a port in use is an error then, not
 * later); the relay runs in a child process of its own, so the bytes of outside peers never
 * pass through the supervisor's address space. */
#ifndef BERTH_RUNTIME_PROXY_H
#define BERTH_RUNTIME_PROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct berr;

#define PROXY_PORTS_MAX 64
#define PROXY_CONNS_MAX 256   /* open connections per container; more wait in the backlog */

struct port_map {
	char host_ip[64];      /* "" : every address */
	uint16_t host_port;
	uint16_t container_port;
};

/* Docker's `-p [IP:]HOST_PORT:CONTAINER_PORT[/tcp]`. A random host port (`-p 5000`) and udp
 * are refused with a message saying what to write instead. */
int port_map_parse(const char *spec, struct port_map *out, struct berr **err);

/* Bind and listen on every map whose host port differs from the container's (on the host's
 * network the container's own port is already the host's); fds[i] is -1 for the others.
 * Returns how many sockets were bound, or -1 (nothing stays bound). */
int proxy_bind(const struct port_map *maps, size_t n, int *fds, struct berr **err);

/* Fork the relay for the bound sockets (closed in the caller). Returns its pid, 0 when
 * nothing is bound, -1 on error. The child ends on SIGTERM. */
pid_t proxy_start(const struct port_map *maps, int *fds, size_t n, struct berr **err);

/* Stop a relay: SIGTERM, and reap it if it is gone already (a supervisor reaps it later
 * otherwise). */
void proxy_stop(pid_t pid);

#endif
