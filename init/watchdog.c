/* The hardware watchdog: opened at boot with the configured timeout, kicked from the loop at
 * half that period, closed with the magic 'V' on a clean shutdown so it does not fire while
 * the board powers off. If PID 1 hangs, the kicks stop and the hardware resets the board. */
#include "init.h"
#include "base/config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/watchdog.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static int wd_fd = -1;
static int wd_interval_ms;

int init_watchdog_open(const struct berth_config *cfg)
{
	const char *dev = cfg->init.watchdog_device;
	int secs, timeout;

	if (dev == NULL || wd_fd >= 0)
		return 0;
	wd_fd = open(dev, O_WRONLY | O_CLOEXEC);
	if (wd_fd < 0) {
		init_report(true, "cannot open the watchdog `%s`: %s; going on without it", dev,
			    strerror(errno));
		return -1;
	}
	/* Whole seconds, rounded up: the hardware's unit. */
	secs = (int) ((cfg->init.watchdog_timeout + 999) / 1000);
	if (secs < 1)
		secs = 1;
	timeout = secs;
	if (ioctl(wd_fd, WDIOC_SETTIMEOUT, &timeout) < 0)
		init_report(false, "watchdog `%s` keeps its own timeout (cannot set %d s: %s)", dev, secs,
			    strerror(errno));
	if (ioctl(wd_fd, WDIOC_GETTIMEOUT, &timeout) < 0 || timeout <= 0)
		timeout = secs;
	wd_interval_ms = timeout * 1000 / 2;
	if (wd_interval_ms < 100)
		wd_interval_ms = 100;
	init_watchdog_kick();
	return 0;
}

int init_watchdog_interval_ms(void)
{
	return wd_fd >= 0 ? wd_interval_ms : 0;
}

void init_watchdog_kick(void)
{
	if (wd_fd < 0)
		return;
	if (ioctl(wd_fd, WDIOC_KEEPALIVE, 0) < 0 && write(wd_fd, "\0", 1) < 0) {
		/* The next kick may work; the hardware resets the board if none does. */
	}
}

void init_watchdog_close(void)
{
	if (wd_fd < 0)
		return;
	/* The magic close: drivers without nowayout stop counting. */
	if (write(wd_fd, "V", 1) < 0)
		init_report(false, "watchdog magic close: %s", strerror(errno));
	close(wd_fd);
	wd_fd = -1;
}
