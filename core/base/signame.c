/* Signal names: one table both ways. */
#include "signame.h"
#include "util.h"

#include <ctype.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct {
	int sig;
	const char *name;
} names[] = {
	{ SIGHUP, "HUP" }, { SIGINT, "INT" }, { SIGQUIT, "QUIT" }, { SIGILL, "ILL" },
	{ SIGTRAP, "TRAP" }, { SIGABRT, "ABRT" }, { SIGABRT, "IOT" }, { SIGBUS, "BUS" },
	{ SIGFPE, "FPE" }, { SIGKILL, "KILL" }, { SIGUSR1, "USR1" }, { SIGSEGV, "SEGV" },
	{ SIGUSR2, "USR2" }, { SIGPIPE, "PIPE" }, { SIGALRM, "ALRM" }, { SIGTERM, "TERM" },
	{ SIGSTKFLT, "STKFLT" }, { SIGCHLD, "CHLD" }, { SIGCONT, "CONT" }, { SIGSTOP, "STOP" },
	{ SIGTSTP, "TSTP" }, { SIGTTIN, "TTIN" }, { SIGTTOU, "TTOU" }, { SIGURG, "URG" },
	{ SIGXCPU, "XCPU" }, { SIGXFSZ, "XFSZ" }, { SIGVTALRM, "VTALRM" }, { SIGPROF, "PROF" },
	{ SIGWINCH, "WINCH" }, { SIGIO, "IO" }, { SIGIO, "POLL" }, { SIGPWR, "PWR" },
	{ SIGSYS, "SYS" },
};

/* A decimal number in [lo, hi], or -1. */
static int number(const char *s, int lo, int hi)
{
	char *end;
	long v;

	if (!isdigit((unsigned char) *s))
		return -1;
	v = strtol(s, &end, 10);
	return *end == '\0' && v >= lo && v <= hi ? (int) v : -1;
}

int sig_parse(const char *s)
{
	if (s == NULL || *s == '\0')
		return -1;
	if (isdigit((unsigned char) *s))
		return number(s, 1, SIGRTMAX);
	if (strncasecmp(s, "SIG", 3) == 0)
		s += 3;
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (strcasecmp(s, names[i].name) == 0)
			return names[i].sig;
	if (strncasecmp(s, "RTMIN", 5) == 0) {
		int n = s[5] == '\0' ? 0 : s[5] == '+' ? number(s + 6, 0, SIGRTMAX - SIGRTMIN) : -1;
		return n < 0 ? -1 : SIGRTMIN + n;
	}
	if (strncasecmp(s, "RTMAX", 5) == 0) {
		int n = s[5] == '\0' ? 0 : s[5] == '-' ? number(s + 6, 0, SIGRTMAX - SIGRTMIN) : -1;
		return n < 0 ? -1 : SIGRTMAX - n;
	}
	return -1;
}

const char *sig_name(int sig)
{
	static char buf[16];

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (names[i].sig == sig) {
			snprintf(buf, sizeof(buf), "SIG%s", names[i].name);
			return buf;
		}
	if (sig >= SIGRTMIN && sig <= SIGRTMAX) {
		snprintf(buf, sizeof(buf), "SIGRTMIN+%d", sig - SIGRTMIN);
		return buf;
	}
	return "SIG?";
}
