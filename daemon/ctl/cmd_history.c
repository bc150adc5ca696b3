/*
 * history: a stack's revisions, who made them, what changed and how they
 * ended; and the stop, start and restart operations, which record no
 * revision (svcstate.json), each in its place by the time it started.
 */
#include <stdlib.h>
#include <string.h>

#include "core/shipd.h"
#include "ctl/ctl.h"
#include "proto.h"
#include "state/store.h"

static int
by_started(const void *a, const void *b)
{
	json_t *const *x = a, *const *y = b;
	int c = strcmp(json_string_value(json_object_get(*x, "started")) ?: "",
	    json_string_value(json_object_get(*y, "started")) ?: "");

	/* The same second: a revision before what ran on it. */
	if (c == 0)
		c = json_is_true(json_object_get(*x, "operation")) -
		    json_is_true(json_object_get(*y, "operation"));
	return c;
}

/* The operations with no revision of their own, in started order among
 * the revisions ("revision" is the one they ran on). */
static void
merge_ops(json_t *arr, const json_t *ops)
{
	json_t	**v, *op, *row;
	size_t	  i, n;

	if (json_array_size(ops) == 0)
		return;
	json_array_foreach(ops, i, op) {
		row = json_pack("{s:O, s:O, s:O, s:O, s:O, s:b, s:b, s:O}",
		    "revision", json_object_get(op, "revision") ?: json_null(),
		    "started", json_object_get(op, "started") ?: json_null(),
		    "uid", json_object_get(op, "uid") ?: json_null(),
		    "kind", json_object_get(op, "kind") ?: json_null(),
		    "result", json_object_get(op, "result") ?: json_null(),
		    "current", 0, "operation", 1,
		    "changes", json_object_get(op, "changes") ?: json_null());
		if (json_is_string(json_object_get(op, "reason")))
			json_object_set(row, "reason", json_object_get(op,
			    "reason"));
		json_array_append_new(arr, row);
	}
	n = json_array_size(arr);
	v = calloc(n, sizeof *v);
	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		v[i] = json_incref(json_array_get(arr, i));
	/* Stable for equal keys: the revisions were already in order. */
	for (i = 1; i < n; i++) {
		size_t j = i;
		json_t *t = v[i];

		while (j > 0 && by_started(&v[j - 1], &t) > 0) {
			v[j] = v[j - 1];
			j--;
		}
		v[j] = t;
	}
	json_array_clear(arr);
	for (i = 0; i < n; i++)
		json_array_append_new(arr, v[i]);
	free(v);
}

static void
cmd_history(struct shipd *sd, struct ctl_req *r)
{
	const char	*name = ctl_str(r, "stack");
	int		 revs[256], cur;
	size_t		 n, i;
	json_t		*arr = json_array();

	n = store_revision_list(sd->store, name, revs, 256);
	cur = store_current(sd->store, name);
	for (i = 0; i < n; i++) {
		const json_t *doc = store_revision_get(sd->store, name,
		    revs[i]);
		json_t *row, *changes = json_array(), *c;
		size_t k;

		if (doc == NULL)
			continue;
		json_array_foreach(json_object_get(doc, "changes"), k, c)
			if (strcmp(json_string_value(json_object_get(c,
			    "action")) ?: "", "unchanged") != 0)
				json_array_append(changes, c);
		row = json_pack("{s:i, s:O, s:O, s:O, s:O, s:b, s:o}",
		    "revision", revs[i],
		    "started", json_object_get(doc, "started") ?: json_null(),
		    "uid", json_object_get(doc, "uid") ?: json_null(),
		    "kind", json_object_get(doc, "kind") ?: json_null(),
		    "result", json_object_get(doc, "result") ?: json_null(),
		    "current", revs[i] == cur, "changes", changes);
		if (json_is_string(json_object_get(doc, "reason")))
			json_object_set(row, "reason",
			    json_object_get(doc, "reason"));
		json_array_append_new(arr, row);
	}
	merge_ops(arr, json_object_get(store_svcstate_get(sd->store, name),
	    "ops"));
	ctl_req_ok(r, json_pack("{s:s, s:i, s:o}", "stack", name, "current",
	    cur, "revisions", arr));
}

static const struct ctl_arg args[] = {
	{ "stack", JSON_STRING, true },
	{ NULL, 0, false }
};

const struct ctl_cmd ctl_cmd_history = {
	PROTO_CMD_HISTORY, false, false, cmd_history, args
};
