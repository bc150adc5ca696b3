/*
 * The policy in the pipeline, against the dockerd model: a deploy and a
 * plan the policy refuses answer preflight_failed naming the rule and
 * make no engine call that changes anything; what it allows deploys; a
 * service left as it is is not judged again, but a scale that creates
 * more of a forbidden one is refused; without a policy nothing is.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "graph.h"
#include "helper_opsrig.h"
#include "proto.h"
#include "util.h"

#define STACK	"stack.yaml", "name: demo\n"
#define CHANGES	"create start stop rename remove connect disconnect pull"

static const char *const bind_etc[] = {
	STACK, "api.yaml", "image: shipd-test/app:1\n"
	    "volumes: [\"/etc:/host:ro\"]\n", NULL
};
static const char *const priv[] = {
	STACK, "api.yaml", "image: shipd-test/app:1\nprivileged: true\n",
	NULL
};
/* priv, and another service that changes. */
static const char *const priv_web[] = {
	STACK, "api.yaml", "image: shipd-test/app:1\nprivileged: true\n",
	"web.yaml", "image: shipd-test/app:1\n", NULL
};

static const char *const missing[] = {
	STACK, "api.yaml", "image: shipd-test/none:1\n", NULL
};

/* Whether some preflight event of c is check, passed as ok. */
static bool
checked(const struct cap *c, const char *check, bool ok)
{
	json_t	*ev = cap_events(c, PROTO_EV_PREFLIGHT), *e;
	size_t	 i;
	bool	 found = false;

	json_array_foreach(ev, i, e)
		if (strcmp(json_string_value(json_object_get(e, "check")),
		    check) == 0 && json_is_true(json_object_get(e,
		    "passed")) == ok)
			found = true;
	json_decref(ev);
	return found;
}

static void
policy_set(struct rig *g)
{
	struct shipd_policy *p = &g->sd.conf.policy;

	p->set = true;
	p->bind_roots = xcalloc(2, sizeof *p->bind_roots);
	p->bind_roots[0] = xstrdup("/srv");
	g->sd.conf.path = xstrdup("/etc/shipd/shipd.yaml");
}

static void
policy_clear(struct rig *g)
{
	config_free(&g->sd.conf);
}

static void
assert_refused(struct cap *c, const char *want)
{
	assert_string_equal(cap_code(c), PROTO_E_PREFLIGHT);
	if (strstr(cap_message(c), want) == NULL) {
		print_message("message: %s\nwanted: %s\n", cap_message(c),
		    want);
		fail();
	}
}

static void
test_refused(void **state)
{
	struct rig	 g;
	struct cap	*c;
	struct stack	*st;
	struct graph	*gr;
	json_t		*ev;
	char		*t;
	int		 mark;

	(void)state;
	rig_open(&g);
	fakedocker_image(g.fd, "shipd-test/app:1", NULL, NULL);
	policy_set(&g);
	mark = fakedocker_ncalls(g.fd);
	c = rig_deploy(&g, bind_etc, NULL, true);
	assert_refused(c, "policy: api: volumes: bind source /etc (mounted at "
	    "/host) is outside the allowed roots /srv (policy in "
	    "/etc/shipd/shipd.yaml)");
	ev = cap_events(c, PROTO_EV_PREFLIGHT);
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    ev, 0), "check")), "policy");
	json_decref(ev);
	cap_free(c);
	rig_settle(&g);
	t = fakedocker_trace(g.fd, mark, CHANGES, NULL);
	assert_string_equal(t, "");
	free(t);

	/* plan shows the same. */
	c = cap_new(&g, "plan");
	rig_stack(&g, priv, &st, &gr);
	ops_plan(&g.sd, c->req, st, gr);
	rig_wait(&g, c);
	assert_refused(c, "policy: api: privileged: true is not allowed");
	cap_free(c);
	rig_settle(&g);
	t = fakedocker_trace(g.fd, mark, CHANGES, NULL);
	assert_string_equal(t, "");
	free(t);
	/* Within the policy, the other failures are reported where they
	 * always were, with the later checks. */
	c = rig_deploy(&g, missing, NULL, true);
	assert_refused(c, "images: shipd-test/none:1");
	assert_true(checked(c, "policy", true));
	assert_true(checked(c, "disk", true));
	cap_free(c);
	rig_settle(&g);
	policy_clear(&g);
	rig_close(&g);
}

static void
test_existing(void **state)
{
	struct rig	 g;
	struct cap	*c;
	json_t		*n;

	(void)state;
	rig_open(&g);
	fakedocker_image(g.fd, "shipd-test/app:1", NULL, NULL);
	/* No policy: anything deploys. */
	rig_deploy_ok(&g, priv);
	/* Tightened: a change elsewhere goes ahead, the privileged
	 * service's container exists and is left as it is... */
	policy_set(&g);
	rig_deploy_ok(&g, priv_web);
	/* ...but more of it is not created. */
	c = cap_new(&g, "scale");
	n = json_pack("{s:i}", "api", 2);
	ops_scale(&g.sd, c->req, "demo", n, NULL, false);
	json_decref(n);
	rig_wait(&g, c);
	assert_refused(c, "policy: api: privileged: true is not allowed");
	cap_free(c);
	rig_settle(&g);
	policy_clear(&g);
	rig_close(&g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_existing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
