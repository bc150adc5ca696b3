/*
 * Stack locks on a real loop: a held lock refuses with its holder named,
 * stacks do not share locks, and waiters are woken from the loop, in the
 * order they queued, each time the lock is released.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <uv.h>

#include "core/shipd.h"
#include "state/lock.h"
#include "util.h"

struct fx {
	uv_loop_t	 loop;
	struct shipd	 sd;
};

/* A client waiting for a stack, as `--wait` does. */
struct waiter {
	struct fx		*f;
	int			 id;
	const char		*stack;
	bool			 take;		/* acquire when woken */
	struct lock_waiter	*w;
	struct stack_lock	*lock;
	int			 calls;
};

/* Ids of the waiters woken, in the order they were. */
static int	woken[32];
static size_t	nwoken;

static int
setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof *f);

	if (uv_loop_init(&f->loop) != 0)
		return -1;
	f->sd.loop = &f->loop;
	nwoken = 0;
	*state = f;
	return 0;
}

/* Every lock and wait is gone, and so is every handle a waiter had. */
static int
teardown(void **state)
{
	struct fx	*f = *state;
	int		 rc;

	if (f->sd.locks != NULL || f->sd.lock_waiters != NULL)
		return -1;
	uv_run(&f->loop, UV_RUN_DEFAULT);
	rc = uv_loop_close(&f->loop);
	free(f);
	return rc == 0 ? 0 : -1;
}

static void
run(struct fx *f)
{
	uv_run(&f->loop, UV_RUN_DEFAULT);
}

static struct stack_lock *
take(struct fx *f, const char *stack, const char *kind)
{
	struct stack_lock	*l = NULL;
	char			 why[256];

	assert_int_equal(lock_acquire(&f->sd, stack, kind, 1000, 42, &l, why,
	    sizeof why), 0);
	assert_non_null(l);
	return l;
}

static void
on_free(void *arg)
{
	struct waiter	*wt = arg;
	char		 why[256];

	assert_true(nwoken < nitems(woken));
	woken[nwoken++] = wt->id;
	wt->calls++;
	if (!wt->take || lock_acquire(&wt->f->sd, wt->stack, "deploy", 0,
	    wt->id, &wt->lock, why, sizeof why) < 0)
		return;
	lock_wait_cancel(&wt->f->sd, wt->w);
	wt->w = NULL;
}

static void
wait_for(struct fx *f, struct waiter *wt, int id, const char *stack,
    bool acquire)
{
	memset(wt, 0, sizeof *wt);
	wt->f = f;
	wt->id = id;
	wt->stack = stack;
	wt->take = acquire;
	wt->w = lock_wait(&f->sd, stack, on_free, wt);
	assert_non_null(wt->w);
}

static void
test_acquire_refuse(void **state)
{
	struct fx		*f = *state;
	struct stack_lock	*l, *again = NULL;
	char			 why[256], since[32];

	l = take(f, "demo", "deploy");
	assert_ptr_equal(lock_holder(&f->sd, "demo"), l);
	assert_string_equal(l->stack, "demo");
	assert_string_equal(l->kind, "deploy");
	assert_int_equal(l->uid, 1000);
	assert_int_equal(l->pid, 42);
	assert_int_equal(lock_acquire(&f->sd, "demo", "backup", 0, 7, &again,
	    why, sizeof why), -EBUSY);
	assert_null(again);
	fmt_time_utc(since, sizeof since, (long long)l->since);
	/* The refusal names the stack and who holds it, since when. */
	assert_non_null(strstr(why, "stack demo is busy"));
	assert_non_null(strstr(why, "deploy by uid 1000 (pid 42)"));
	assert_non_null(strstr(why, since));
	/* A short buffer is cut, not overrun. */
	assert_int_equal(lock_acquire(&f->sd, "demo", "backup", 0, 7, &again,
	    why, 8), -EBUSY);
	assert_int_equal(strlen(why), 7);
	lock_release(&f->sd, l);
	assert_null(lock_holder(&f->sd, "demo"));
	again = take(f, "demo", "backup");
	assert_string_equal(lock_holder(&f->sd, "demo")->kind, "backup");
	lock_release(&f->sd, again);
}

static void
test_release_null(void **state)
{
	struct fx		*f = *state;
	struct stack_lock	*l = take(f, "demo", "deploy");

	lock_release(&f->sd, NULL);
	lock_wait_cancel(&f->sd, NULL);
	assert_ptr_equal(lock_holder(&f->sd, "demo"), l);
	lock_release(&f->sd, l);
	assert_null(f->sd.locks);
}

static void
test_stacks_independent(void **state)
{
	struct fx		*f = *state;
	struct stack_lock	*a, *b, *c, *none = NULL;
	struct waiter		 wt;
	char			 why[256];

	a = take(f, "demo", "deploy");
	b = take(f, "other", "backup");
	assert_int_equal(lock_acquire(&f->sd, "demo", "scale", 0, 1, &none,
	    why, sizeof why), -EBUSY);
	assert_non_null(strstr(why, "deploy"));
	assert_int_equal(lock_acquire(&f->sd, "other", "scale", 0, 1, &none,
	    why, sizeof why), -EBUSY);
	assert_non_null(strstr(why, "backup"));
	assert_null(none);
	/* A name that is a prefix of another is still another stack. */
	c = take(f, "demo2", "down");
	assert_ptr_equal(lock_holder(&f->sd, "demo"), a);
	assert_ptr_equal(lock_holder(&f->sd, "other"), b);
	assert_ptr_equal(lock_holder(&f->sd, "demo2"), c);

	wait_for(f, &wt, 1, "other", true);
	lock_release(&f->sd, a);
	lock_release(&f->sd, c);
	run(f);
	assert_int_equal(nwoken, 0);
	assert_ptr_equal(lock_holder(&f->sd, "other"), b);
	lock_release(&f->sd, b);
	run(f);
	assert_int_equal(nwoken, 1);
	assert_ptr_equal(lock_holder(&f->sd, "other"), wt.lock);
	lock_release(&f->sd, wt.lock);
}

/* Each release hands the lock to the next in line, never from inside
 * lock_release itself. */
static void
test_waiters_in_order(void **state)
{
	struct fx		*f = *state;
	struct stack_lock	*l = take(f, "demo", "deploy");
	struct waiter		 wt[3];
	int			 i;

	for (i = 0; i < 3; i++)
		wait_for(f, &wt[i], i + 1, "demo", true);
	run(f);
	assert_int_equal(nwoken, 0);
	lock_release(&f->sd, l);
	assert_int_equal(nwoken, 0);
	run(f);
	for (i = 0; i < 3; i++) {
		assert_int_equal(nwoken, (size_t)i + 1);
		assert_int_equal(woken[i], i + 1);
		assert_null(wt[i].w);
		assert_ptr_equal(lock_holder(&f->sd, "demo"), wt[i].lock);
		assert_int_equal(lock_holder(&f->sd, "demo")->pid, i + 1);
		lock_release(&f->sd, wt[i].lock);
		assert_int_equal(nwoken, (size_t)i + 1);
		run(f);
	}
	assert_int_equal(nwoken, 3);
	assert_null(f->sd.lock_waiters);
}

/* A waiter that does not take the lock is woken on every release until
 * it cancels, and the ones behind it wait. */
static void
test_waiter_woken_each_release(void **state)
{
	struct fx		*f = *state;
	struct stack_lock	*l = take(f, "demo", "deploy");
	struct waiter		 first, second;

	wait_for(f, &first, 1, "demo", false);
	wait_for(f, &second, 2, "demo", true);
	lock_release(&f->sd, l);
	run(f);
	assert_int_equal(first.calls, 1);
	assert_int_equal(second.calls, 0);
	l = take(f, "demo", "rollback");
	lock_release(&f->sd, l);
	run(f);
	assert_int_equal(first.calls, 2);
	assert_int_equal(second.calls, 0);
	lock_wait_cancel(&f->sd, first.w);
	l = take(f, "demo", "rollback");
	lock_release(&f->sd, l);
	run(f);
	assert_int_equal(first.calls, 2);
	assert_int_equal(second.calls, 1);
	lock_release(&f->sd, second.lock);
}

static void
test_cancelled_not_called(void **state)
{
	struct fx		*f = *state;
	struct stack_lock	*l = take(f, "demo", "deploy");
	struct waiter		 gone, next;

	wait_for(f, &gone, 1, "demo", true);
	wait_for(f, &next, 2, "demo", true);
	lock_wait_cancel(&f->sd, gone.w);
	lock_release(&f->sd, l);
	run(f);
	assert_int_equal(gone.calls, 0);
	assert_int_equal(nwoken, 1);
	assert_int_equal(woken[0], 2);
	assert_ptr_equal(lock_holder(&f->sd, "demo"), next.lock);
	lock_release(&f->sd, next.lock);
}

/*
 * A waiter that gives up after the release woke it, but before its wake
 * ran, passes the wake on: the one behind it must not wait for a release
 * that already happened.
 */
static void
test_cancel_after_wake(void **state)
{
	struct fx		*f = *state;
	struct stack_lock	*l = take(f, "demo", "deploy");
	struct waiter		 gone, next;

	wait_for(f, &gone, 1, "demo", true);
	wait_for(f, &next, 2, "demo", true);
	lock_release(&f->sd, l);
	lock_wait_cancel(&f->sd, gone.w);
	run(f);
	assert_int_equal(gone.calls, 0);
	assert_int_equal(next.calls, 1);
	assert_ptr_equal(lock_holder(&f->sd, "demo"), next.lock);
	lock_release(&f->sd, next.lock);
}

static void
test_lock_json(void **state)
{
	struct fx		*f = *state;
	struct stack_lock	*l = take(f, "demo", "backup");
	const char		*since;
	char			 want[32];
	json_t			*j;

	assert_null(lock_json(NULL));
	assert_non_null(j = lock_json(l));
	assert_int_equal(json_object_size(j), 4);
	assert_string_equal(json_string_value(json_object_get(j, "kind")),
	    "backup");
	assert_int_equal(json_integer_value(json_object_get(j, "uid")), 1000);
	assert_int_equal(json_integer_value(json_object_get(j, "pid")), 42);
	assert_non_null(since = json_string_value(json_object_get(j, "since")));
	fmt_time_utc(want, sizeof want, (long long)l->since);
	assert_string_equal(since, want);
	/* 2026-11-23T00:12:04Z */
	assert_int_equal(strlen(since), 20);
	assert_int_equal(since[10], 'T');
	assert_int_equal(since[19], 'Z');
	json_decref(j);
	lock_release(&f->sd, l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_acquire_refuse),
		T(test_release_null),
		T(test_stacks_independent),
		T(test_waiters_in_order),
		T(test_waiter_woken_each_release),
		T(test_cancelled_not_called),
		T(test_cancel_after_wake),
		T(test_lock_json),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
