/* sig: handlers, ignored signals and masks, as a program sets them up. */
#define _GNU_SOURCE
#include <signal.h>
#include <string.h>

static void on(int s) { (void)s; }

int main(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on;
	sa.sa_flags = SA_RESTART;
	sigaddset(&sa.sa_mask, SIGCHLD);
	sigaction(SIGUSR2, &sa, NULL);
	signal(SIGUSR1, SIG_IGN);
	signal(SIGPIPE, SIG_DFL);
	sigset_t set, old;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, &old);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	sigfillset(&set);
	sigprocmask(SIG_SETMASK, &set, NULL);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return 0;
}
