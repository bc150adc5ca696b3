/*
 * stallengine: a Docker engine that answers /_ping and /version like a
 * 1.41 engine and holds every other request until the client hangs up, so
 * that a test can catch shipd with engine calls in flight.  Prints
 * "listening PATH", then "request CONN SEQ METHOD TARGET" for each request
 * as it arrives; stops on SIGTERM or SIGINT and exits 0.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "../unit/helper_fakeengine.h"

static const char version_body[] =
    "{\"Version\":\"20.10.24\",\"ApiVersion\":\"1.41\","
    "\"MinAPIVersion\":\"1.12\",\"Os\":\"linux\",\"Arch\":\"amd64\"}";

/* Whether target's path (before any '?') ends in suffix. */
static int
path_is(const char *target, const char *suffix)
{
	size_t	len = strcspn(target, "?"), slen = strlen(suffix);

	return len >= slen && strncmp(target + len - slen, suffix, slen) == 0;
}

static void
handle(struct fake_conn *c, const struct fake_request *rq, void *arg)
{
	(void)arg;
	/* One call per line: stdio locks the stream, so the connection
	 * threads' lines do not interleave. */
	printf("request %u %u %s %s\n", rq->conn, rq->seq, rq->method,
	    rq->target);
	if (path_is(rq->target, "/_ping"))
		fake_reply(c, 200, "Api-Version: 1.41\r\n", "OK");
	else if (path_is(rq->target, "/version"))
		fake_reply(c, 200, "Api-Version: 1.41\r\n", version_body);
	else
		fake_wait_hangup(c);
}

int
main(void)
{
	struct fake_engine	*fe;
	sigset_t		 set;
	int			 sig;

	/* Blocked before the engine's threads start, so that they inherit
	 * the mask and only sigwait() below sees the signals. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0) {
		perror("stallengine: pthread_sigmask");
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (fake_engine_start(handle, NULL, &fe) < 0) {
		perror("stallengine: fake_engine_start");
		return 1;
	}
	printf("listening %s\n", fake_engine_path(fe));
	if (sigwait(&set, &sig) != 0)
		sig = 0;
	fake_engine_stop(fe);
	printf("stopped on signal %d\n", sig);
	return 0;
}
