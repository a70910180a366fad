/* berth as the board's PID 1: the early steps before the supervisor loop (mounts, data
 * partition, hostname, loopback, watchdog), the console shell, BusyBox init's signals, and the
 * shutdown after the loop. See DESIGN.md, "PID 1 (init/)". PID 1 never exits: every error is
 * reported on the console and /dev/kmsg, and boot goes on as far as it can. */
#ifndef BERTH_INIT_INIT_H
#define BERTH_INIT_INIT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct berth_config;

/* PID-1 entry: early steps, sup_run with pid1, then shutdown. Never returns. */
void init_main(int argc, char **argv) __attribute__((noreturn));

/* The ordered step table (mount /proc, /sys, /dev devtmpfs, /dev/pts, /dev/shm, /run, /tmp,
 * cgroup2 or v1 per [init] cgroup and the kernel; [init] sysinit; the data partition from
 * [init] data-device/data-fstype/data-options mounted at data-mount; hostname; loopback up;
 * watchdog open). Each step may fail or must succeed; a must step failing is reported on the
 * console and /dev/kmsg, the later steps still run, and the result is -1 (PID 1 then offers
 * what it can without apps). 0 when every must step succeeded. */
int init_early(const struct berth_config *cfg);

/* Signal -> action, BusyBox init's conventions: SIGUSR1 halt, SIGUSR2 poweroff, SIGTERM and
 * SIGINT (Ctrl-Alt-Del, after reboot(RB_DISABLE_CAD)) reboot. INIT_NONE for any other. */
enum init_action { INIT_NONE, INIT_HALT, INIT_POWEROFF, INIT_REBOOT };
enum init_action init_signal_action(int sig);
/* "halt", "poweroff", "reboot" ("none" for INIT_NONE): what last-shutdown records. */
const char *init_action_name(enum init_action a);

/* Hardware watchdog from [init] watchdog-device (+ watchdog-timeout), opened by init_early:
 * the loop calls kick every init_watchdog_interval_ms() (0: no watchdog); close does the
 * magic 'V' close on a clean shutdown. */
int init_watchdog_open(const struct berth_config *cfg);  /* init_early's step */
int init_watchdog_interval_ms(void);
void init_watchdog_kick(void);
void init_watchdog_close(void);

/* [init] console-shell: a login shell (/bin/sh) on the console's tty (setsid, TIOCSCTTY),
 * respawned by the loop when it exits (the loop calls spawn again after 1 s). Returns its
 * pid, or -1 if not configured (or the fork failed, which is logged). The child starts with
 * every signal unblocked and at default disposition. */
pid_t init_console_spawn(const struct berth_config *cfg);

/* "poweroff", "reboot", "halt" from the last clean shutdown, or "unclean" (power cut, crash,
 * watchdog reset); "none" on the first boot of a data partition; NULL when berth is not
 * PID 1 (or the data root was not readable). Read at boot from <data-root>/last-shutdown,
 * which is then set to "unclean" until init_finish writes the reason (atomically, fsync'd). */
const char *init_last_shutdown(void);

/* Final: record the reason, kill every remaining process (SIGTERM, 2 s, SIGKILL), sync,
 * unmount everything in reverse order (remount read-only and detach what stays busy), close
 * the watchdog, reboot(2). Never returns. */
void init_finish(enum init_action a) __attribute__((noreturn));

/* [init] data-options as mount(2) wants them: known flags (ro, noatime, nosuid, ...) into
 * *flags, the rest comma-joined into `data` (the file system's own options). -1 if `data`
 * is too small. */
int init_mount_options(const char *opts, unsigned long *flags, char *data, size_t size);

/* Report a boot problem where a technician sees it: the console and /dev/kmsg. */
void init_report(bool error, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
