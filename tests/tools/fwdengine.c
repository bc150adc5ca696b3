/*
 * fwdengine LISTEN TARGET: a stand-in for the engine's socket that passes
 * every connection on to TARGET (the real engine).  Killing it and starting
 * it again on the same path makes a fresh socket inode, as a restarted
 * dockerd does, without touching the shared dockerd.  One child per
 * connection; SIGTERM ends the listener and its children.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rawsock.h"

/* Copy what one side sent to the other; 0 at its end of file. */
static ssize_t
pass(int from, int to)
{
	char	buf[65536];
	ssize_t	n = read(from, buf, sizeof buf), w, off = 0;

	while (n > 0 && off < n) {
		if ((w = write(to, buf + off, (size_t)(n - off))) < 0)
			return -1;
		off += w;
	}
	return n;
}

static void
forward(int c, const char *target)
{
	struct pollfd	pfd[2];
	int		t = rawsock_connect(target);

	pfd[0].fd = c;
	pfd[1].fd = t;
	pfd[0].events = pfd[1].events = POLLIN;
	for (;;) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[0].revents && pass(c, t) <= 0)
			break;
		if (pfd[1].revents && pass(t, c) <= 0)
			break;
	}
	_exit(0);
}

int
main(int argc, char **argv)
{
	struct sockaddr_un	sun;
	int			l, c;

	if (argc != 3) {
		fprintf(stderr, "usage: fwdengine LISTEN TARGET\n");
		return 2;
	}
	signal(SIGCHLD, SIG_IGN);	/* children reap themselves */
	signal(SIGPIPE, SIG_IGN);
	/* Children die with the listener: a killed engine drops them all. */
	setpgid(0, 0);
	signal(SIGTERM, SIG_DFL);
	rawsock_addr(&sun, argv[1]);
	unlink(argv[1]);
	if ((l = socket(AF_UNIX, SOCK_STREAM, 0)) < 0 ||
	    bind(l, (struct sockaddr *)&sun, sizeof sun) < 0 ||
	    listen(l, 64) < 0) {
		perror(argv[1]);
		return 1;
	}
	printf("listening\n");
	fflush(stdout);
	for (;;) {
		if ((c = accept(l, NULL, NULL)) < 0) {
			if (errno == EINTR)
				continue;
			perror("accept");
			return 1;
		}
		if (fork() == 0) {
			close(l);
			forward(c, argv[2]);
		}
		close(c);
	}
}
