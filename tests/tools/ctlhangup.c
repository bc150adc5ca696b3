/*
 * ctlhangup: a client that hangs up.  `ctlhangup SOCKET N LINE` sends the
 * request LINE to shipd's control socket N times, each on its own
 * connection closed the moment the line is written, then checks that
 * shipd still answers a ping.  With -r it reads the first reply byte
 * before closing (a hang-up once a stream has started).
 * `ctlhangup -c SOCKET` listens there instead and prints the first line a
 * client sends: the request shipctl makes for a command, to replay.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "rawsock.h"

#define PING	"{\"v\":1,\"id\":\"ping\",\"cmd\":\"ping\"}\n"

/* One request line and its hang-up. */
static int
hang_up(const char *path, const char *line, int wait_reply)
{
	char	c;
	int	fd = rawsock_connect(path);

	if (rawsock_send(fd, line, strlen(line)) < 0 ||
	    rawsock_send(fd, "\n", 1) < 0) {
		close(fd);
		return -1;
	}
	/* A reply may already be there or not: either way we go. */
	if (wait_reply && read(fd, &c, 1) < 0) {
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* shipd answers a ping within 10 s: it is still there. */
static int
ping(const char *path)
{
	struct pollfd	pfd;
	char		buf[256];
	ssize_t		n;
	int		fd = rawsock_connect(path), ok = 0;

	if (rawsock_send(fd, PING, strlen(PING)) == 0) {
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 10000) == 1 &&
		    (n = read(fd, buf, sizeof buf - 1)) > 0) {
			buf[n] = '\0';
			ok = strstr(buf, "\"pong\"") != NULL;
		}
	}
	close(fd);
	return ok ? 0 : -1;
}

static int
capture(const char *path)
{
	struct sockaddr_un	 sun;
	char			 buf[1 << 20];
	size_t			 len = 0;
	ssize_t			 n;
	char			*nl = NULL;
	int			 lfd, fd;

	rawsock_addr(&sun, path);
	unlink(path);
	if ((lfd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0 ||
	    bind(lfd, (struct sockaddr *)&sun, sizeof sun) < 0 ||
	    listen(lfd, 1) < 0 || (fd = accept(lfd, NULL, NULL)) < 0) {
		perror(path);
		return 1;
	}
	while (nl == NULL && len < sizeof buf - 1 &&
	    (n = read(fd, buf + len, sizeof buf - 1 - len)) > 0) {
		len += (size_t)n;
		buf[len] = '\0';
		nl = strchr(buf, '\n');
	}
	close(fd);
	close(lfd);
	unlink(path);
	if (nl == NULL)
		return 1;
	*nl = '\0';
	printf("%s\n", buf);
	return 0;
}

int
main(int argc, char **argv)
{
	long	n, i;
	int	wait_reply = 0;

	if (argc == 3 && strcmp(argv[1], "-c") == 0)
		return capture(argv[2]);
	if (argc > 1 && strcmp(argv[1], "-r") == 0) {
		wait_reply = 1;
		argc--;
		argv++;
	}
	if (argc != 4 || (n = atol(argv[2])) <= 0) {
		fprintf(stderr, "usage: ctlhangup [-r] SOCKET N LINE\n"
		    "       ctlhangup -c SOCKET\n");
		return 2;
	}
	for (i = 0; i < n; i++)
		if (hang_up(argv[1], argv[3], wait_reply) < 0) {
			fprintf(stderr, "request %ld: write failed\n", i);
			return 1;
		}
	if (ping(argv[1]) < 0) {
		fprintf(stderr, "shipd no longer answers after %ld "
		    "hang-ups\n", n);
		return 1;
	}
	return 0;
}
