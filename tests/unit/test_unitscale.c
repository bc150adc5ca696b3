/*
 * autoscale: in unit files, its JSON and the unit-file writer, and the
 * rules it is held to (common/unitscale.c, stackcheck.c).
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "helper_stack.h"
#include "unit.h"
#include "unitemit.h"
#include "util.h"

static int
load1(const char *text, struct stack **s, struct diag_list *errs)
{
	const char *const files[] = { "api.yaml", text, NULL };

	return hs_load("asstack", files, s, errs);
}

static void
test_autoscale_full(void **state)
{
	struct diag_list		 errs;
	struct stack			*s = NULL, *t = NULL;
	const struct unit_autoscale	*a;
	json_t				*j1, *j2;
	char				 h1[65], h2[65];

	assert_int_equal(load1(
	    "image: shipd-test/svc:1\n"
	    "resources: {memory: 64m}\n"
	    "autoscale:\n"
	    "  min: 3\n"
	    "  max: 10\n"
	    "  cpu: 70%\n"
	    "  memory: 80\n"
	    "  up: {max_step: 2, max_percent: 100%, every: 30s}\n"
	    "  down: {max_percent: 50, every: 1m}\n"
	    "  window: 20s\n"
	    "  stabilization: 2m\n", &s, &errs), 0);
	a = &stack_unit(s, "api")->autoscale;
	assert_true(a->present);
	assert_int_equal(a->min, 3);
	assert_int_equal(a->max, 10);
	assert_int_equal(a->cpu, 70);
	assert_int_equal(a->memory, 80);
	assert_int_equal(a->up.max_step, 2);
	assert_int_equal(a->up.max_percent, 100);
	assert_int_equal(a->up.every_ms, 30000);
	/* A block that is written replaces both default bounds. */
	assert_int_equal(a->down.max_step, 0);
	assert_int_equal(a->down.max_percent, 50);
	assert_int_equal(a->down.every_ms, 60000);
	assert_int_equal(a->window_ms, 20000);
	assert_int_equal(a->stabilization_ms, 120000);
	/* No replicas: starts at min. */
	assert_int_equal(stack_unit(s, "api")->replicas, 3);

	j1 = stack_to_json(s);
	assert_int_equal(stack_from_json(j1, &t, &errs), 0);
	j2 = stack_to_json(t);
	assert_true(json_equal(j1, j2));
	assert_int_equal(stack_unit(t, "api")->autoscale.down.max_percent, 50);
	/* A new bound never recreates a container. */
	unit_spec_hash(stack_unit(s, "api"), h1);
	t->units[0]->autoscale.max = 4;
	unit_spec_hash(t->units[0], h2);
	assert_string_equal(h1, h2);
	json_decref(j1);
	json_decref(j2);
	stack_free(s);
	stack_free(t);
	diag_free(&errs);
}

static void
test_autoscale_defaults(void **state)
{
	struct diag_list		 errs;
	struct stack			*s = NULL;
	const struct unit_autoscale	*a;
	json_t				*j;

	assert_int_equal(load1("image: shipd-test/svc:1\n"
	    "autoscale: {max: 4, cpu: 50}\n", &s, &errs), 0);
	a = &stack_unit(s, "api")->autoscale;
	assert_int_equal(a->min, 1);
	assert_int_equal(a->memory, 0);
	assert_int_equal(a->up.max_step, UNIT_AUTOSCALE_DEF_UP_STEP);
	assert_int_equal(a->up.max_percent, UNIT_AUTOSCALE_DEF_UP_PERCENT);
	assert_int_equal(a->down.max_percent, UNIT_AUTOSCALE_DEF_DOWN_PERCENT);
	assert_int_equal(a->down.every_ms, UNIT_AUTOSCALE_DEF_EVERY_MS);
	assert_int_equal(a->stabilization_ms, UNIT_AUTOSCALE_DEF_STAB_MS);
	assert_int_equal(a->window_ms, UNIT_AUTOSCALE_DEF_WINDOW_MS);
	assert_int_equal(stack_unit(s, "api")->replicas, 1);
	stack_free(s);

	/* A unit without the key has no member. */
	assert_int_equal(load1("image: shipd-test/svc:1\n", &s, &errs), 0);
	assert_false(stack_unit(s, "api")->autoscale.present);
	j = stack_to_json(s);
	assert_null(json_object_get(json_array_get(json_object_get(j,
	    "units"), 0), "autoscale"));
	json_decref(j);
	stack_free(s);
	diag_free(&errs);
}

static void
test_autoscale_errors(void **state)
{
	struct diag_list	 errs;
	struct stack		*s = NULL;

	assert_int_equal(load1("image: x\n"
	    "autoscale: {min: 0, max: 3, cpu: 101x, up: {every: 1s}, "
	    "bogus: 1}\n", &s, &errs), -EINVAL);
	assert_true(hs_has_diag(&errs, "api.yaml:2:18: autoscale.min: "
	    "expected an integer from 1 to 1000, got '0'"));
	assert_true(hs_has_diag(&errs, "autoscale.cpu: expected a percentage "
	    "from 1% to 1000% (70% or 70), got '101x'"));
	assert_true(hs_has_diag(&errs, "autoscale.up: give max_step, "
	    "max_percent or both"));
	assert_true(hs_has_diag(&errs, "unknown key 'bogus' in autoscale"));
	diag_free(&errs);

	assert_int_equal(load1("image: x\nautoscale: {min: 2, cpu: 5}\n", &s,
	    &errs), -EINVAL);
	assert_true(hs_has_diag(&errs, "autoscale: 'max' is required"));
	diag_free(&errs);

	assert_int_equal(load1("image: x\nautoscale: {min: 5, max: 2, "
	    "memory: 101}\n", &s, &errs), -EINVAL);
	assert_true(hs_has_diag(&errs, "autoscale.min: 5 is above max 2"));
	assert_true(hs_has_diag(&errs, "autoscale.memory: expected a "
	    "percentage from 1% to 100%"));
	diag_free(&errs);

	assert_int_equal(load1("image: x\nautoscale: {max: 2}\n", &s, &errs),
	    -EINVAL);
	assert_true(hs_has_diag(&errs, "api.yaml:2:12: autoscale: give a "
	    "target: cpu, memory or both"));
	diag_free(&errs);

	/* Against the rest of the unit. */
	assert_int_equal(load1("image: x\nports: [\"8080:80\"]\n"
	    "replicas: 9\nautoscale: {max: 3, memory: 50%}\n", &s, &errs),
	    -EINVAL);
	assert_true(hs_has_diag(&errs, "api.yaml:4:12: autoscale: a memory "
	    "target is a share of the memory limit: set resources.memory"));
	assert_true(hs_has_diag(&errs, "autoscale: max 3 replicas cannot all "
	    "publish host port 8080"));
	assert_true(hs_has_diag(&errs, "api.yaml:3:11: replicas: 9 is outside "
	    "autoscale's 1 to 3"));
	diag_free(&errs);
}

static void
test_autoscale_completed(void **state)
{
	const char *const files[] = {
		"migrate.yaml", "image: x\nrestart: \"no\"\n"
		    "autoscale: {max: 2, cpu: 50}\n",
		"api.yaml", "image: x\ndepends_on: {migrate: completed}\n",
		NULL
	};
	struct diag_list	 errs;
	struct stack		*s = NULL;

	assert_int_equal(hs_load("asstack", files, &s, &errs), -EINVAL);
	assert_true(hs_has_diag(&errs, "depends_on: 'migrate' is completed "
	    "only with exactly one replica, but it is autoscaled up to 2"));
	diag_free(&errs);
}

static void
test_autoscale_json_errors(void **state)
{
	struct diag_list	 errs;
	struct stack		*s = NULL, *t = NULL;
	json_t			*j, *a;

	assert_int_equal(load1("image: x\nautoscale: {max: 4, cpu: 50}\n",
	    &s, &errs), 0);
	j = stack_to_json(s);
	a = json_object_get(json_array_get(json_object_get(j, "units"), 0),
	    "autoscale");
	json_object_set_new(json_object_get(a, "up"), "max_step",
	    json_integer(0));
	json_object_set_new(json_object_get(a, "up"), "max_percent",
	    json_integer(0));
	json_object_set_new(a, "min", json_integer(5));
	json_object_set_new(a, "extra", json_true());
	diag_init(&errs);
	assert_int_equal(stack_from_json(j, &t, &errs), -EINVAL);
	assert_null(t);
	assert_true(hs_has_diag(&errs, "extra"));
	json_object_del(a, "extra");
	diag_free(&errs);
	diag_init(&errs);
	assert_int_equal(stack_from_json(j, &t, &errs), -EINVAL);
	assert_true(hs_has_diag(&errs, "stack.units.api.autoscale.up: "
	    "max_step and max_percent are both 0"));
	/* The rules run on a unit that decoded. */
	json_object_set_new(json_object_get(a, "up"), "max_step",
	    json_integer(1));
	diag_free(&errs);
	diag_init(&errs);
	assert_int_equal(stack_from_json(j, &t, &errs), -EINVAL);
	assert_true(hs_has_diag(&errs, "stack.units.api.autoscale: expected "
	    "1 <= min <= max <= 1000, got min 5, max 4"));
	json_decref(j);
	stack_free(s);
	diag_free(&errs);
}

static void
test_autoscale_emit(void **state)
{
	struct diag_list	 errs;
	struct stack		*s = NULL, *t = NULL;
	struct buf		 b;
	json_t			*j1, *j2;
	char			*err = NULL;

	assert_int_equal(load1("image: x\nresources: {memory: 32m}\n"
	    "autoscale: {min: 2, max: 6, memory: 75%, "
	    "down: {max_step: 1, every: 90s}, stabilization: 0s}\n", &s,
	    &errs), 0);
	buf_init(&b);
	assert_int_equal(unit_emit_yaml(stack_unit(s, "api"), &b, &err), 0);
	assert_non_null(strstr(b.data, "memory: 75%"));
	assert_non_null(strstr(b.data, "down: {max_step: 1, every: 1m30s}"));
	assert_int_equal(load1(b.data, &t, &errs), 0);
	j1 = unit_autoscale_json(&stack_unit(s, "api")->autoscale);
	j2 = unit_autoscale_json(&stack_unit(t, "api")->autoscale);
	assert_true(json_equal(j1, j2));
	assert_int_equal(stack_unit(t, "api")->replicas, 2);
	json_decref(j1);
	json_decref(j2);
	buf_free(&b);
	stack_free(s);
	stack_free(t);
	diag_free(&errs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_autoscale_full),
		cmocka_unit_test(test_autoscale_defaults),
		cmocka_unit_test(test_autoscale_errors),
		cmocka_unit_test(test_autoscale_completed),
		cmocka_unit_test(test_autoscale_json_errors),
		cmocka_unit_test(test_autoscale_emit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
