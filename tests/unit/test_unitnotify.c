/*
 * stack.yaml notify: loaded from YAML (defaults, {env: VAR} values kept as
 * names, not expanded), the JSON round trip, a stack JSON without the
 * member (revisions recorded before it), and JSON that breaks its rules.
 */
#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "unit.h"
#include "unitemit.h"
#include "util.h"

static char *const test_env[] = { "HOOK_HOST=hooks.example.com", NULL };

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

/* Load a stack whose stack.yaml is text (and one unit). */
static int
load(const char *text, struct stack **s, struct diag_list *errs)
{
	char	 dir[] = "/tmp/shipd-unitnotify-XXXXXX", *path;
	FILE	*f;
	int	 rc;

	assert_non_null(mkdtemp(dir));
	xasprintf(&path, "%s/stack.yaml", dir);
	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
	free(path);
	xasprintf(&path, "%s/web.yaml", dir);
	assert_non_null(f = fopen(path, "w"));
	fputs("image: shipd-test/svc:1\n", f);
	fclose(f);
	free(path);
	rc = stack_load_dir(dir, test_env, s, errs);
	nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	return rc;
}

static void
test_yaml(void **state)
{
	struct diag_list	 errs;
	struct stack		*s = NULL;
	const struct notify_hook *h;

	(void)state;
	diag_init(&errs);
	assert_int_equal(load("name: n\nnotify:\n"
	    "  - url: https://${HOOK_HOST}/a\n"
	    "  - url: {env: SLACK_URL}\n"
	    "    events: [rollback, deploy_failure]\n"
	    "    timeout: 250ms\n    retries: 0\n"
	    "    headers: {X-A: one, Authorization: {env: TOKEN}}\n",
	    &s, &errs), 0);
	assert_int_equal(s->nhooks, 2);
	h = &s->hooks[0];
	assert_string_equal(h->url.value, "https://hooks.example.com/a");
	assert_null(h->url.env);
	assert_int_equal(h->events, NOTIFY_ALL);
	assert_int_equal(h->timeout_ms, NOTIFY_DEF_TIMEOUT_MS);
	assert_int_equal(h->retries, NOTIFY_DEF_RETRIES);
	h = &s->hooks[1];
	assert_null(h->url.value);
	assert_string_equal(h->url.env, "SLACK_URL");
	assert_int_equal(h->events, (1u << NOTIFY_ROLLBACK) |
	    (1u << NOTIFY_DEPLOY_FAILURE));
	assert_int_equal(h->timeout_ms, 250);
	assert_int_equal(h->retries, 0);
	assert_int_equal(h->nheaders, 2);
	assert_string_equal(h->headers[0].name, "X-A");
	assert_string_equal(h->headers[0].v.value, "one");
	assert_string_equal(h->headers[1].name, "Authorization");
	assert_string_equal(h->headers[1].v.env, "TOKEN");
	assert_null(h->headers[1].v.value);

	/* shipctl config writes it back: the name, never a value. */
	{
		struct buf	 b;
		char		*err = NULL;

		buf_init(&b);
		assert_int_equal(stack_emit_yaml(s, &b, &err), 0);
		assert_non_null(strstr(b.data, "url: {env: SLACK_URL}"));
		assert_non_null(strstr(b.data, "Authorization: {env: TOKEN}"));
		assert_non_null(strstr(b.data,
		    "events: [deploy_failure, rollback]"));
		assert_non_null(strstr(b.data, "timeout: 250ms"));
		buf_free(&b);
		free(err);
	}
	stack_free(s);
	diag_free(&errs);
}

static void
test_yaml_errors(void **state)
{
	static const char *const bad[] = {
	    "notify: {url: http://x}\n",		/* not a list */
	    "notify: [{url: http://x, events: []}]\n",
	    "notify: [{url: http://x, timeout: 61s}]\n",
	    "notify: [{url: {env: 1BAD}}]\n",
	    "notify: [{url: {var: X}}]\n",
	    "notify: [{url: http://x, headers: {X-A: \"a\\nb\"}}]\n",
	    "notify: [{url: http://x, headers: {Content-Type: x}}]\n",
	    "notify: [{url: http://x, surprise: 1}]\n",
	};
	struct diag_list	 errs;
	struct stack		*s;
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		diag_init(&errs);
		s = NULL;
		if (load(bad[i], &s, &errs) != -EINVAL)
			fail_msg("accepted: %s", bad[i]);
		assert_null(s);
		assert_true(errs.n > 0);
		assert_true(errs.v[0].line > 0);
		diag_free(&errs);
	}
}

static void
test_json(void **state)
{
	struct diag_list	 errs;
	struct stack		*s = NULL, *back = NULL;
	json_t			*j, *j2;

	(void)state;
	diag_init(&errs);
	assert_int_equal(load("name: n\nnotify:\n"
	    "  - url: {env: U}\n    events: [crash_loop]\n"
	    "    headers: {X-A: one, X-B: {env: B}}\n", &s, &errs), 0);
	j = stack_to_json(s);
	assert_non_null(json_object_get(j, "notify"));
	assert_int_equal(stack_from_json(j, &back, &errs), 0);
	j2 = stack_to_json(back);
	assert_true(json_equal(j, j2));
	json_decref(j2);
	stack_free(back);

	/* Recorded before notify: existed: no member, no hooks. */
	json_object_del(j, "notify");
	assert_int_equal(stack_from_json(j, &back, &errs), 0);
	assert_int_equal(back->nhooks, 0);
	assert_null(json_object_get(j2 = stack_to_json(back), "notify"));
	json_decref(j2);
	stack_free(back);

	/* Both url and url_env: refused, by path. */
	json_object_set_new(j, "notify", json_pack("[{s:s, s:s, s:[s], s:i, "
	    "s:i, s:[]}]", "url", "http://x", "url_env", "U", "events",
	    "rollback", "timeout_ms", 100, "retries", 1, "headers"));
	assert_int_equal(stack_from_json(j, &back, &errs), -EINVAL);
	assert_true(errs.n > 0);
	assert_non_null(strstr(errs.v[0].msg, "exactly one of url and url_env"));
	json_decref(j);
	stack_free(s);
	diag_free(&errs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_yaml),
		cmocka_unit_test(test_yaml_errors),
		cmocka_unit_test(test_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
