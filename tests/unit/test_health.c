/*
 * The health watcher against the dockerd model and a real HTTP listener
 * on 127.0.0.1 that stands in for the containers: a deployed service's
 * own check keeps being probed and turns unhealthy when /health fails,
 * and the monitor period fails a deploy whose replica turns unhealthy
 * after passing its gate.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "helper_opsrig.h"
#include "ops/health.h"
#include "proto.h"
#include "util.h"

/* The stand-in service: answers every request with code. */
struct web {
	uv_tcp_t	 srv;
	int		 port;
	int		 code;
	int		 open;		/* handles not yet closed */
};

struct conn {
	uv_tcp_t	 tcp;
	uv_write_t	 w;
	char		 reply[64];
	struct web	*web;
};

static void
conn_closed(uv_handle_t *h)
{
	struct conn *c = h->data;

	c->web->open--;
	free(c);
}

static void
conn_written(uv_write_t *w, int status)
{
	struct conn *c = w->data;

	(void)status;
	uv_close((uv_handle_t *)&c->tcp, conn_closed);
}

static void
on_conn(uv_stream_t *s, int status)
{
	struct web	*web = s->data;
	struct conn	*c;
	uv_buf_t	 b;

	if (status < 0)
		return;
	c = xcalloc(1, sizeof *c);
	c->web = web;
	c->tcp.data = c->w.data = c;
	uv_tcp_init(s->loop, &c->tcp);
	web->open++;
	if (uv_accept(s, (uv_stream_t *)&c->tcp) != 0) {
		uv_close((uv_handle_t *)&c->tcp, conn_closed);
		return;
	}
	/* Answer at once: the probe reads only the status line. */
	snprintf(c->reply, sizeof c->reply, "HTTP/1.0 %d X\r\n\r\n",
	    web->code);
	b = uv_buf_init(c->reply, (unsigned)strlen(c->reply));
	uv_write(&c->w, (uv_stream_t *)&c->tcp, &b, 1, conn_written);
}

static void
web_open(struct rig *g, struct web *web)
{
	struct sockaddr_in	sin;
	struct sockaddr_storage	ss;
	int			len = sizeof ss;

	memset(web, 0, sizeof *web);
	web->code = 200;
	uv_tcp_init(&g->loop, &web->srv);
	web->srv.data = web;
	web->open = 1;
	uv_ip4_addr("127.0.0.1", 0, &sin);
	assert_int_equal(uv_tcp_bind(&web->srv, (struct sockaddr *)&sin, 0),
	    0);
	assert_int_equal(uv_listen((uv_stream_t *)&web->srv, 16, on_conn), 0);
	uv_tcp_getsockname(&web->srv, (struct sockaddr *)&ss, &len);
	web->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

static void
srv_closed(uv_handle_t *h)
{
	struct web *web = h->data;

	web->open--;
}

static bool
web_gone(struct rig *g, void *arg)
{
	(void)g;
	return ((struct web *)arg)->open == 0;
}

static void
web_close(struct rig *g, struct web *web)
{
	uv_close((uv_handle_t *)&web->srv, srv_closed);
	rig_until(g, web_gone, web, "the listener to close");
}

static void
image(struct rig *g, const char *ref)
{
	fakedocker_image(g->fd, ref, NULL, NULL);
	fakedocker_loopback(g->fd, true);
}

struct want {
	char		 id[72];
	const char	*verdict;
};

static bool
verdict_is(struct rig *g, void *arg)
{
	struct want	*w = arg;
	const char	*v = health_own(&g->sd, w->id, NULL);

	return v != NULL && strcmp(v, w->verdict) == 0;
}

/* After the deploy, /health answering 404 turns the replica unhealthy
 * within its retries; 200 again turns it healthy. */
static void
test_health_watched(void **state)
{
	char		 unit[256];
	const char	*files[] = { "api.yaml", unit, NULL };
	struct rig	 g;
	struct web	 web;
	struct want	 w;
	const char	*detail;

	(void)state;
	rig_open(&g);
	health_start(&g.sd);
	web_open(&g, &web);
	image(&g, "shipd-test/api:1");
	snprintf(unit, sizeof unit, "image: shipd-test/api:1\n"
	    "health: {http: {port: %d, path: /health}, interval: 100ms, "
	    "timeout: 1s, retries: 2}\n", web.port);
	rig_deploy_ok(&g, files);
	assert_int_equal(fakedocker_id(g.fd, "demo-api-1", w.id), 0);
	w.verdict = "healthy";
	rig_until(&g, verdict_is, &w, "api healthy in the watcher");
	web.code = 404;
	w.verdict = "unhealthy";
	rig_until(&g, verdict_is, &w, "api unhealthy after /health fails");
	health_own(&g.sd, w.id, &detail);
	assert_string_equal(detail, "HTTP 404");
	web.code = 200;
	w.verdict = "healthy";
	rig_until(&g, verdict_is, &w, "api healthy again");
	assert_null(health_own(&g.sd, "nosuchcontainer", NULL));
	web_close(&g, &web);
	rig_close(&g);
}

static bool
verifying(struct rig *g, void *arg)
{
	json_t	*ev = cap_events(arg, "verify");
	bool	 on = json_array_size(ev) > 0;

	(void)g;
	json_decref(ev);
	return on;
}

/* A replica that passes its gate and then fails its http check fails the
 * monitor period, named with the last probe's result. */
static void
test_health_monitor(void **state)
{
	char		 unit[320];
	const char	*files[] = { "api.yaml", unit, NULL };
	struct rig	 g;
	struct web	 web;
	struct cap	*c;

	(void)state;
	rig_open(&g);
	health_start(&g.sd);
	web_open(&g, &web);
	image(&g, "shipd-test/api:1");
	snprintf(unit, sizeof unit, "image: shipd-test/api:1\n"
	    "health: {http: {port: %d, path: /health}, interval: 100ms, "
	    "timeout: 1s, retries: 2}\n"
	    "update: {monitor: 30s}\n", web.port);
	c = rig_deploy(&g, files, NULL, false);
	rig_until(&g, verifying, c, "the monitor period");
	web.code = 503;
	rig_wait(&g, c);
	assert_string_equal(cap_code(c), PROTO_E_FAILED);
	assert_non_null(strstr(cap_message(c), "demo-api-1 became unhealthy "
	    "during the monitor period: HTTP 503"));
	rig_settle(&g);
	cap_free(c);
	web_close(&g, &web);
	rig_close(&g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_health_watched),
		cmocka_unit_test(test_health_monitor),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
