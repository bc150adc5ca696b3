/*
 * status against the dockerd model, whose list calls word Status as the
 * bare state ("running"): health must come from each container's health
 * state, not from "(healthy)" in that text.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ctl/commands.h"
#include "ctl/ctl.h"
#include "helper_opsrig.h"
#include "proto.h"
#include "util.h"

static void
image(struct rig *g, const char *ref, int healthy_after_ms)
{
	struct fake_image k = { healthy_after_ms, -1, 0, false, 0 };

	fakedocker_image(g->fd, ref, &k, NULL);
}

/* status --stack demo: the container row of service svc. */
static json_t *
row_of(json_t *res, const char *svc)
{
	json_t	*c;
	size_t	 i;

	json_array_foreach(json_object_get(res, "containers"), i, c)
		if (strcmp(json_string_value(json_object_get(c, "service")),
		    svc) == 0)
			return c;
	return NULL;
}

static struct cap *
status(struct rig *g)
{
	struct cap *c = cap_new(g, PROTO_CMD_STATUS);

	json_object_set_new(c->req->args, "stack", json_string("demo"));
	c->req->mutating = false;
	ctl_cmd_status.handler(&g->sd, c->req);
	rig_wait(g, c);
	return c;
}

static void
test_status_health(void **state)
{
	static const char *const files[] = {
		"api.yaml", "image: shipd-test/api:1\n"
		    "health: {test: [CMD, /bin/check]}\n",
		"web.yaml", "image: shipd-test/web:1\n"
		    "health: {test: [NONE]}\n",
		NULL
	};
	struct rig	 g;
	struct cap	*c;
	json_t		*res, *api, *web;

	(void)state;
	rig_open(&g);
	image(&g, "shipd-test/api:1", 0);
	image(&g, "shipd-test/web:1", 0);
	rig_deploy_ok(&g, files);
	c = status(&g);
	cap_assert_ok(c);
	res = cap_result(c);
	api = row_of(res, "api");
	web = row_of(res, "web");
	assert_non_null(api);
	assert_non_null(web);
	/* The model's Status text says only "running". */
	assert_string_equal(json_string_value(json_object_get(api, "status")),
	    "running");
	assert_string_equal(json_string_value(json_object_get(api, "health")),
	    "healthy");
	assert_string_equal(json_string_value(json_object_get(web, "health")),
	    "");
	assert_null(json_object_get(api, "full_id"));
	cap_free(c);
	rig_close(&g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_health),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
