/* Signal names as Docker and kill(1) take them: "SIGTERM", "TERM", "term", "15", "SIGRTMIN+3". */
#ifndef BERTH_SIGNAME_H
#define BERTH_SIGNAME_H

/* The signal number, or -1 if `s` names none (0 is not a signal here). */
int sig_parse(const char *s);
/* "SIGTERM"; "SIGRTMIN+N" for real-time ones; "SIG?" for others. */
const char *sig_name(int sig);

#endif
