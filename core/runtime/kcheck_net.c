/* `berth check` network probe: create a link of a given kind over rtnetlink inside a throwaway
 * net namespace, exactly as the runtime will, so modules load on demand the same way. */
#include "runtime/kcheck.h"
#include "base/util.h"

#include <errno.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sched.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

struct nl_req {
	struct nlmsghdr nh;
	struct ifinfomsg ifi;
	char attrs[256];
};

static struct rtattr *nl_attr(struct nl_req *r, unsigned short type, const void *data, size_t len)
{
	struct rtattr *rta = (struct rtattr *) ((char *) r + NLMSG_ALIGN(r->nh.nlmsg_len));

	rta->rta_type = type;
	rta->rta_len = (unsigned short) RTA_LENGTH(len);
	if (len)
		memcpy(RTA_DATA(rta), data, len);
	r->nh.nlmsg_len = NLMSG_ALIGN(r->nh.nlmsg_len) + RTA_ALIGN(rta->rta_len);
	return rta;
}

/* Runs in the child, already in its own net namespace. Returns 0 or a positive errno. */
static int create_link(const char *kind)
{
	_cleanup_close_ int fd = -1;
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	struct timeval tv = { .tv_sec = 3 };
	struct nl_req req;
	struct rtattr *info;
	char reply[1024] __attribute__((aligned(NLMSG_ALIGNTO)));
	ssize_t n;
	struct nlmsghdr *h;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return errno;
	/* The kernel always answers a request with NLM_F_ACK; the timeout only guards a bug. */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));

	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg));
	req.nh.nlmsg_type = RTM_NEWLINK;
	req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK;
	req.nh.nlmsg_seq = 1;
	req.ifi.ifi_family = AF_UNSPEC;
	nl_attr(&req, IFLA_IFNAME, "berthchk0", sizeof("berthchk0"));
	info = nl_attr(&req, IFLA_LINKINFO, NULL, 0);
	nl_attr(&req, IFLA_INFO_KIND, kind, strlen(kind));
	/* Close the nest: its length covers the attributes written after it. */
	info->rta_len = (unsigned short) ((char *) &req + req.nh.nlmsg_len - (char *) info);

	if (sendto(fd, &req, req.nh.nlmsg_len, 0, (struct sockaddr *) &sa, sizeof(sa)) < 0)
		return errno;
	n = recv(fd, reply, sizeof(reply), 0);
	if (n < 0)
		return errno;
	/* One request, so the answer is one message: an ack or an error (both NLMSG_ERROR). */
	h = (struct nlmsghdr *) reply;
	if ((size_t) n < sizeof(*h) || h->nlmsg_len > (size_t) n || h->nlmsg_type != NLMSG_ERROR ||
	    h->nlmsg_len < NLMSG_LENGTH(sizeof(struct nlmsgerr)))
		return EPROTO;
	return -((struct nlmsgerr *) NLMSG_DATA(h))->error;
}

static int link_child(const void *arg)
{
	if (unshare(CLONE_NEWNET) < 0)
		return errno;
	/* The link goes away with the namespace when the child exits. */
	return create_link(arg);
}

int kcheck_net_try_link(const char *kind)
{
	return kcheck_in_child(link_child, kind);
}
