/*
 * core/webhook.c on a loop of its own, against a loopback port nothing
 * listens on: webhook_emit() queues and returns without sending, the
 * queue keeps to its bound by dropping the oldest, failed deliveries end,
 * and webhook_close() leaves no handle behind (uv_loop_close succeeds).
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/shipd.h"
#include "core/webhook.h"
#include "util.h"

/* A loopback port that refuses: bound for a moment, then closed. */
static int
dead_port(void)
{
	struct sockaddr_in	sa;
	socklen_t		len = sizeof sa;
	int			fd, port;

	assert_true((fd = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

static uint64_t deadline;

/* Polls until every delivery has ended, or the deadline. */
static void
on_tick(uv_timer_t *t)
{
	struct shipd *sd = t->data;

	if (webhook_pending(sd) == 0 || now_ms() > deadline)
		uv_stop(sd->loop);
}

static void
on_closed(uv_handle_t *h)
{
	(void)h;
}

static void
test_queue(void **state)
{
	struct shipd		sd;
	uv_loop_t		loop;
	uv_timer_t		tick;
	struct notify_hook	hook;
	struct webhook_event	ev;
	char			url[64];
	int			i;

	(void)state;
	memset(&sd, 0, sizeof sd);
	assert_int_equal(uv_loop_init(&loop), 0);
	sd.loop = &loop;
	snprintf(url, sizeof url, "http://127.0.0.1:%d/x", dead_port());
	memset(&hook, 0, sizeof hook);
	hook.url.value = url;
	hook.events = 1u << NOTIFY_CRASH_LOOP;
	hook.timeout_ms = 2000;
	hook.retries = 0;
	memset(&ev, 0, sizeof ev);
	ev.stack = "s";

	/* An event the hook did not ask for is not queued. */
	ev.event = NOTIFY_DEPLOY_START;
	webhook_emit(&sd, &hook, 1, &ev);
	assert_int_equal(webhook_pending(&sd), 0);

	ev.event = NOTIFY_CRASH_LOOP;
	for (i = 0; i < WEBHOOK_QUEUE_MAX + 40; i++)
		webhook_emit(&sd, &hook, 1, &ev);
	/* Nothing was sent from the caller's stack, and the bound held. */
	assert_int_equal(webhook_pending(&sd), WEBHOOK_QUEUE_MAX);

	deadline = now_ms() + 20000;
	uv_timer_init(&loop, &tick);
	tick.data = &sd;
	uv_timer_start(&tick, on_tick, 10, 10);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(webhook_pending(&sd), 0);

	/* Queued, then shut down before it ran: dropped, handles closed. */
	webhook_emit(&sd, &hook, 1, &ev);
	assert_int_equal(webhook_pending(&sd), 1);
	webhook_close(&sd);
	assert_int_equal(webhook_pending(&sd), 0);
	uv_close((uv_handle_t *)&tick, on_closed);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_queue),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
