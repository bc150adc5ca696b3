/*
 * JSON trees as YAML documents through libyaml's emitter (common/yemit.c),
 * for every export target: deterministic (keys in the order they were
 * set), strings quoted whenever a YAML reader could take them for anything
 * but a string.  A target's style says the rest: which containers are
 * written in flow style, which strings are plain as they are (durations),
 * and whether documents start with "---".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "yemit.h"

static const struct export_style block_style = { .doc_marks = true };

static bool
marked(const json_t *const *v, size_t n, const json_t *node)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i] == node)
			return true;
	return false;
}

static json_t *
mark(const json_t ***v, size_t *n, json_t *node)
{
	if (node == NULL)
		return NULL;
	*v = xrealloc(*v, (*n + 1) * sizeof **v);
	(*v)[(*n)++] = node;
	return node;
}

json_t *
export_flow(struct export_style *s, json_t *node)
{
	return mark(&s->flow, &s->nflow, node);
}

json_t *
export_plain(struct export_style *s, const char *str)
{
	return mark(&s->plain, &s->nplain, json_string(str));
}

void
export_style_free(struct export_style *s)
{
	free(s->flow);
	free(s->plain);
	s->flow = s->plain = NULL;
	s->nflow = s->nplain = 0;
}

static void
scalar(struct yemit *y, const struct export_style *st, const char *s,
    bool quote_if_needed)
{
	yemit_scalar(y, s, !quote_if_needed || yaml_plain_ok(s,
	    st->plain_extra != NULL ? st->plain_extra : "") ?
	    YAML_PLAIN_SCALAR_STYLE : YAML_DOUBLE_QUOTED_SCALAR_STYLE);
}

static void
node(struct yemit *y, const struct export_style *st, const json_t *v)
{
	const char	*k;
	json_t		*m;
	size_t		 i;
	char		 s[64];

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		yemit_map(y, json_object_size(v) == 0 ||
		    marked(st->flow, st->nflow, v));
		json_object_foreach((json_t *)v, k, m) {
			scalar(y, st, k, true);
			node(y, st, m);
		}
		yemit_map_end(y);
		break;
	case JSON_ARRAY:
		yemit_seq(y, json_array_size(v) == 0 ||
		    marked(st->flow, st->nflow, v));
		json_array_foreach(v, i, m)
			node(y, st, m);
		yemit_seq_end(y);
		break;
	case JSON_STRING:
		scalar(y, st, json_string_value(v), !marked(st->plain,
		    st->nplain, v));
		break;
	case JSON_INTEGER:
		snprintf(s, sizeof s, "%lld", (long long)json_integer_value(v));
		scalar(y, st, s, false);
		break;
	case JSON_REAL:
		snprintf(s, sizeof s, "%g", json_real_value(v));
		scalar(y, st, s, false);
		break;
	case JSON_TRUE:
		scalar(y, st, "true", false);
		break;
	case JSON_FALSE:
		scalar(y, st, "false", false);
		break;
	case JSON_NULL:
		scalar(y, st, "null", false);
		break;
	}
}

int
export_yaml(const json_t *docs, const struct export_style *st,
    struct buf *b)
{
	struct yemit	 y;
	json_t		*d;
	size_t		 i;

	if (st == NULL)
		st = &block_style;
	if (yemit_init(&y, b, -1) != 0)
		return -ENOMEM;
	json_array_foreach(docs, i, d) {
		yemit_doc(&y, !st->doc_marks);
		node(&y, st, d);
		yemit_doc_end(&y);
	}
	return yemit_finish(&y, NULL);
}
