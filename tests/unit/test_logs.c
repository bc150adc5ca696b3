/*
 * logs without follow against the scripted fake engine: the lines of two
 * services come merged in the engine's time order although one replica's
 * whole log arrives before the other's first byte (it is paused meanwhile,
 * its queue bounded), the time is passed on, kept containers of old
 * revisions are left out, and the answer counts the logs read.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/req.h"
#include "core/shipd.h"
#include "ctl/commands.h"
#include "ctl/ctl.h"
#include "engine/docker.h"
#include "helper_fakeengine.h"
#include "proto.h"
#include "state/store.h"
#include "util.h"

#define NLINES		3000	/* per replica: more than its queue holds */
#define LATE_MS		300	/* b's first byte after a's last */

static void
frame(struct buf *b, int stream, const char *s, size_t n)
{
	unsigned char h[8] = { (unsigned char)stream, 0, 0, 0 };

	h[4] = (unsigned char)(n >> 24);
	h[5] = (unsigned char)(n >> 16);
	h[6] = (unsigned char)(n >> 8);
	h[7] = (unsigned char)n;
	buf_append(b, h, 8);
	buf_append(b, s, n);
}

/* Replica a writes at even microseconds, b at odd ones. */
static void
send_log(struct fake_conn *c, int odd)
{
	struct buf	b;
	char		line[96];
	int		i, n;

	buf_init(&b);
	for (i = 0; i < NLINES; i++) {
		n = snprintf(line, sizeof line, "2026-11-23T00:00:%02d.%06dZ "
		    "%c %d\n", (2 * i + odd) / 1000000, (2 * i + odd) % 1000000,
		    odd ? 'b' : 'a', i);
		frame(&b, i % 7 == 0 ? 2 : 1, line, (size_t)n);
	}
	/* In pieces, so that a pause may fall between them. */
	for (i = 0; (size_t)i < b.len; i += 4096)
		fake_chunk(c, b.data + i, b.len - (size_t)i < 4096 ?
		    b.len - (size_t)i : 4096);
	fake_chunk(c, NULL, 0);
	buf_free(&b);
}

static void
handler(struct fake_conn *c, const struct fake_request *rq, void *arg)
{
	static const char chunked[] = "Content-Type: application/vnd.docker."
	    "raw-stream\r\nTransfer-Encoding: chunked\r\n";
	static const char list[] = "["
	    "{\"Id\":\"bbbb\",\"Names\":[\"/s-b-1\"],\"Labels\":{"
	    "\"" LABEL_STACK "\":\"s\",\"" LABEL_SERVICE "\":\"b\",\""
	    LABEL_REPLICA "\":\"1\"}},"
	    "{\"Id\":\"kept\",\"Names\":[\"/s-a-1-r3\"],\"Labels\":{"
	    "\"" LABEL_STACK "\":\"s\",\"" LABEL_SERVICE "\":\"a\",\""
	    LABEL_REPLICA "\":\"1\"}},"
	    "{\"Id\":\"aaaa\",\"Names\":[\"/s-a-1\"],\"Labels\":{"
	    "\"" LABEL_STACK "\":\"s\",\"" LABEL_SERVICE "\":\"a\",\""
	    LABEL_REPLICA "\":\"1\"}}]";

	(void)arg;
	if (strncmp(rq->target, "/v1.41/containers/json", 22) == 0) {
		fake_reply(c, 200, NULL, list);
		return;
	}
	if (strncmp(rq->target, "/v1.41/containers/aaaa/logs?", 28) == 0 &&
	    strstr(rq->target, "timestamps=1") != NULL) {
		fake_head(c, 200, chunked);
		send_log(c, 0);
		return;
	}
	if (strncmp(rq->target, "/v1.41/containers/bbbb/logs?", 28) == 0 &&
	    strstr(rq->target, "timestamps=1") != NULL) {
		fake_head(c, 200, chunked);
		if (fake_sleep(c, LATE_MS) < 0)
			return;
		send_log(c, 1);
		return;
	}
	fake_reply(c, 404, NULL, "{\"message\":\"no such thing\"}");
}

struct got {
	struct shipd	*sd;
	size_t		 lines, follows, finals, kept;
	long long	 last;		/* microseconds of the last line */
	bool		 ordered, timed;
	char		 result[512];
	int		 seen[2];	/* next line number expected, a and b */
};

static void
closed(void *arg)
{
	struct shipd *sd = arg;

	sd->docker = NULL;
}

static bool
on_send(struct ctl_req *r, json_t *msg, bool final)
{
	struct got	*g = r->owner;
	const char	*ev = json_string_value(json_object_get(msg, "event"));
	const char	*line, *time, *svc;
	long long	 sec;
	long		 nsec;
	char		*text;

	if (final) {
		text = json_dumps(msg, JSON_COMPACT | JSON_SORT_KEYS);
		snprintf(g->result, sizeof g->result, "%s", text);
		free(text);
		g->finals++;
		ctl_req_free(r);
		docker_close(g->sd->docker, closed, g->sd);
		return true;
	}
	if (ev != NULL && strcmp(ev, PROTO_EV_FOLLOW) == 0) {
		g->follows++;
		if (strcmp(json_string_value(json_object_get(msg, "container")),
		    "kept") == 0)
			g->kept++;
		return true;
	}
	if (ev == NULL || strcmp(ev, PROTO_EV_LOG) != 0)
		return true;
	line = json_string_value(json_object_get(msg, "line"));
	time = json_string_value(json_object_get(msg, "time"));
	svc = json_string_value(json_object_get(msg, "service"));
	if (time == NULL || parse_rfc3339(time, &sec, &nsec) == 0) {
		g->timed = false;
		return true;
	}
	if (sec * 1000000 + nsec / 1000 < g->last)
		g->ordered = false;
	g->last = sec * 1000000 + nsec / 1000;
	/* Each replica's own lines in their order, none lost. */
	if (line[0] != svc[0] || atoi(line + 2) != g->seen[svc[0] == 'b'])
		g->ordered = false;
	g->seen[svc[0] == 'b']++;
	g->lines++;
	return true;
}

static void
on_store_closed(void *arg)
{
	struct shipd *sd = arg;

	sd->store = NULL;
}

static void
test_merged_in_time_order(void **state)
{
	struct fake_engine	*fe;
	struct shipd		 sd;
	struct got		 g;
	struct ctl_req		*r;
	uv_loop_t		 loop;
	char			 dir[] = "/tmp/shipd-test-logs-XXXXXX", *cmd;

	(void)state;
	memset(&sd, 0, sizeof sd);
	memset(&g, 0, sizeof g);
	g.sd = &sd;
	g.ordered = g.timed = true;
	g.last = -1;
	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(fake_engine_start(handler, NULL, &fe), 0);
	sd.loop = &loop;
	/* An empty store: logs asks it whether the stack is known (it is
	 * not, so the handler asks the engine's containers: the fake has
	 * them). */
	assert_non_null(mkdtemp(dir));
	assert_int_equal(store_open(&loop, dir, &sd.store), 0);
	sd.engine_ok = true;
	defer_init(&sd);
	assert_int_equal(docker_new(&loop, fake_engine_path(fe), &sd.docker),
	    0);
	r = ctl_req_new(NULL, PROTO_CMD_LOGS, json_pack("{s:s}", "stack",
	    "s"), on_send, &g);
	ctl_cmd_logs.handler(&sd, r);
	uv_run(&loop, UV_RUN_DEFAULT);
	defer_flush(&sd);
	defer_close(&sd);
	store_close(sd.store, on_store_closed, &sd);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_null(sd.store);
	assert_int_equal(uv_loop_close(&loop), 0);
	fake_engine_stop(fe);
	xasprintf(&cmd, "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);

	assert_int_equal(g.finals, 1);
	assert_int_equal(g.follows, 2);
	assert_int_equal(g.kept, 0);
	assert_true(g.timed);
	assert_true(g.ordered);
	assert_int_equal(g.lines, 2 * NLINES);
	assert_non_null(strstr(g.result, "\"replicas\":2"));
	assert_null(strstr(g.result, "\"ended\""));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_merged_in_time_order),
	};

	return cmocka_run_group_tests_name("logs", tests, NULL, NULL);
}
