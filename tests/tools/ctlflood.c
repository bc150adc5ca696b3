/*
 * ctlflood SOCKET N: send N malformed or oversized requests to shipd's
 * control socket, over a few connections, and check that every one got an
 * error reply.  Prints "sent N, errors E"; exits 1 if any went unanswered.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "rawsock.h"

static const char *const bad[] = {
	"not json\n",
	"[1,2,3]\n",
	"{\"v\":9,\"id\":1,\"cmd\":\"ping\"}\n",
	"{\"v\":1,\"id\":2,\"cmd\":\"no-such-command\"}\n",
	"{\"v\":1,\"id\":3,\"cmd\":\"status\",\"args\":{\"stack\":[]}}\n",
	"{\"v\":1,\"id\":4,\"cmd\":\"deploy\",\"args\":{\"stack\":{\"name\":1}}}\n",
	"{\"v\":1,\"id\":5,\"cmd\":\"scale\",\"args\":{\"stack\":\"x\",\"replicas\":7}}\n",
	"{\"v\":1,\"id\":{\"a\":1},\"cmd\":\"ping\"}\n",
	"\xff\xfe\xfd\n",
	/* Refused before any engine call: ctlflood half-closes at once, and
	 * shipd drops what a gone client still waits for. */
	"{\"v\":1,\"id\":6,\"cmd\":\"logs\",\"args\":{\"stack\":\"x\",\"service\":7}}\n",
};

/* Read replies until `want` lines have arrived; count error replies. */
static long
read_replies(int fd, long want)
{
	char	buf[65536];
	long	lines = 0, errors = 0;
	size_t	i;
	ssize_t	n;
	const char *pat = "\"ok\":false";
	size_t	match = 0;

	while (lines < want && (n = read(fd, buf, sizeof buf)) > 0)
		for (i = 0; i < (size_t)n; i++) {
			if (buf[i] == '\n')
				lines++;
			match = buf[i] == pat[match] ? match + 1 :
			    buf[i] == pat[0] ? 1 : 0;
			if (pat[match] == '\0') {
				errors++;
				match = 0;
			}
		}
	return lines < want ? -1 : errors;
}

int
main(int argc, char **argv)
{
	long	 n, sent = 0, errors = 0, batch, e, i;
	char	*huge;
	int	 fd;

	if (argc != 3 || (n = atol(argv[2])) <= 0) {
		fprintf(stderr, "usage: ctlflood SOCKET N\n");
		return 2;
	}
	huge = malloc(2 * 1024 * 1024 + 2);
	memset(huge, '{', 2 * 1024 * 1024);
	huge[2 * 1024 * 1024] = '\n';
	huge[2 * 1024 * 1024 + 1] = '\0';
	/* batches of 50 per connection, one oversized line in each */
	while (sent < n) {
		fd = rawsock_connect(argv[1]);
		batch = n - sent < 50 ? n - sent : 50;
		for (i = 0; i < batch; i++) {
			const char *line = i == 0 ? huge : bad[i % 10];

			if (rawsock_send(fd, line, strlen(line)) < 0) {
				fprintf(stderr, "write failed after %ld\n",
				    sent + i);
				return 1;
			}
		}
		shutdown(fd, SHUT_WR);
		if ((e = read_replies(fd, batch)) < 0) {
			fprintf(stderr, "replies missing in a batch\n");
			return 1;
		}
		errors += e;
		sent += batch;
		close(fd);
	}
	free(huge);
	printf("sent %ld, errors %ld\n", sent, errors);
	return errors == sent ? 0 : 1;
}
