/*
 * JSON trees as YAML documents through libyaml's emitter, for the export
 * targets: deterministic (keys in the order they were set), strings quoted
 * whenever a YAML reader could take them for anything but a string.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <yaml.h>

#include "export.h"
#include "unitemit.h"

struct yout {
	yaml_emitter_t	 e;
	int		 rc;
};

static int
on_write(void *arg, unsigned char *p, size_t n)
{
	buf_append(arg, p, n);
	return 1;
}

static void
ev(struct yout *y, yaml_event_t *e, int ok)
{
	if (y->rc != 0) {
		if (ok)
			yaml_event_delete(e);
		return;
	}
	if (!ok || !yaml_emitter_emit(&y->e, e))
		y->rc = ok ? -EINVAL : -ENOMEM;
}

static bool
plain_ok(const char *s)
{
	return yaml_plain_ok(s, "");
}

static void
scalar(struct yout *y, const char *s, bool quote_if_needed)
{
	yaml_event_t e;

	ev(y, &e, yaml_scalar_event_initialize(&e, NULL, NULL,
	    (yaml_char_t *)s, (int)strlen(s), 1, 1,
	    !quote_if_needed || plain_ok(s) ? YAML_PLAIN_SCALAR_STYLE :
	    YAML_DOUBLE_QUOTED_SCALAR_STYLE));
}

static void
node(struct yout *y, const json_t *v)
{
	yaml_event_t	 e;
	const char	*k;
	json_t		*m;
	size_t		 i;
	char		 s[64];

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		ev(y, &e, yaml_mapping_start_event_initialize(&e, NULL, NULL,
		    1, json_object_size(v) == 0 ? YAML_FLOW_MAPPING_STYLE :
		    YAML_BLOCK_MAPPING_STYLE));
		json_object_foreach((json_t *)v, k, m) {
			scalar(y, k, true);
			node(y, m);
		}
		ev(y, &e, yaml_mapping_end_event_initialize(&e));
		break;
	case JSON_ARRAY:
		ev(y, &e, yaml_sequence_start_event_initialize(&e, NULL, NULL,
		    1, json_array_size(v) == 0 ? YAML_FLOW_SEQUENCE_STYLE :
		    YAML_BLOCK_SEQUENCE_STYLE));
		json_array_foreach(v, i, m)
			node(y, m);
		ev(y, &e, yaml_sequence_end_event_initialize(&e));
		break;
	case JSON_STRING:
		scalar(y, json_string_value(v), true);
		break;
	case JSON_INTEGER:
		snprintf(s, sizeof s, "%lld", (long long)json_integer_value(v));
		scalar(y, s, false);
		break;
	case JSON_REAL:
		snprintf(s, sizeof s, "%g", json_real_value(v));
		scalar(y, s, false);
		break;
	case JSON_TRUE:
		scalar(y, "true", false);
		break;
	case JSON_FALSE:
		scalar(y, "false", false);
		break;
	case JSON_NULL:
		scalar(y, "null", false);
		break;
	}
}

int
export_yaml(const json_t *docs, struct buf *b)
{
	struct yout	 y = { .rc = 0 };
	yaml_event_t	 e;
	json_t		*d;
	size_t		 i;

	if (!yaml_emitter_initialize(&y.e))
		return -ENOMEM;
	yaml_emitter_set_output(&y.e, on_write, b);
	yaml_emitter_set_unicode(&y.e, 1);
	yaml_emitter_set_width(&y.e, -1);
	ev(&y, &e, yaml_stream_start_event_initialize(&e, YAML_UTF8_ENCODING));
	json_array_foreach(docs, i, d) {
		ev(&y, &e, yaml_document_start_event_initialize(&e, NULL, NULL,
		    NULL, 0));
		node(&y, d);
		ev(&y, &e, yaml_document_end_event_initialize(&e, 1));
	}
	ev(&y, &e, yaml_stream_end_event_initialize(&e));
	yaml_emitter_delete(&y.e);
	return y.rc;
}
