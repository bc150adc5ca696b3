/*
 * libyaml's emitter writing into a buf, shared by every YAML writer
 * (yemit.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "yemit.h"

static int
on_write(void *arg, unsigned char *p, size_t n)
{
	buf_append(arg, p, n);
	return 1;
}

void
yemit_ev(struct yemit *y, yaml_event_t *e, int ok)
{
	if (y->rc != 0) {
		if (ok)
			yaml_event_delete(e);
		return;
	}
	if (!ok || !yaml_emitter_emit(&y->e, e))
		y->rc = ok ? -EINVAL : -ENOMEM;
}

int
yemit_init(struct yemit *y, struct buf *out, int width)
{
	yaml_event_t e;

	memset(y, 0, sizeof *y);
	if (!yaml_emitter_initialize(&y->e))
		return -ENOMEM;
	yaml_emitter_set_output(&y->e, on_write, out);
	yaml_emitter_set_unicode(&y->e, 1);
	yaml_emitter_set_width(&y->e, width);
	yemit_ev(y, &e, yaml_stream_start_event_initialize(&e,
	    YAML_UTF8_ENCODING));
	return 0;
}

void
yemit_scalar(struct yemit *y, const char *s, yaml_scalar_style_t style)
{
	yaml_event_t e;

	yemit_ev(y, &e, yaml_scalar_event_initialize(&e, NULL, NULL,
	    (yaml_char_t *)s, (int)strlen(s), 1, 1, style));
}

void
yemit_map(struct yemit *y, bool flow)
{
	yaml_event_t e;

	yemit_ev(y, &e, yaml_mapping_start_event_initialize(&e, NULL, NULL, 1,
	    flow ? YAML_FLOW_MAPPING_STYLE : YAML_BLOCK_MAPPING_STYLE));
}

void
yemit_map_end(struct yemit *y)
{
	yaml_event_t e;

	yemit_ev(y, &e, yaml_mapping_end_event_initialize(&e));
}

void
yemit_seq(struct yemit *y, bool flow)
{
	yaml_event_t e;

	yemit_ev(y, &e, yaml_sequence_start_event_initialize(&e, NULL, NULL, 1,
	    flow ? YAML_FLOW_SEQUENCE_STYLE : YAML_BLOCK_SEQUENCE_STYLE));
}

void
yemit_seq_end(struct yemit *y)
{
	yaml_event_t e;

	yemit_ev(y, &e, yaml_sequence_end_event_initialize(&e));
}

void
yemit_doc(struct yemit *y, bool implicit)
{
	yaml_event_t e;

	yemit_ev(y, &e, yaml_document_start_event_initialize(&e, NULL, NULL,
	    NULL, implicit));
}

void
yemit_doc_end(struct yemit *y)
{
	yaml_event_t e;

	yemit_ev(y, &e, yaml_document_end_event_initialize(&e, 1));
}

int
yemit_finish(struct yemit *y, char **err)
{
	yaml_event_t	e;
	int		rc;

	yemit_ev(y, &e, yaml_stream_end_event_initialize(&e));
	if (y->rc == 0 && !yaml_emitter_flush(&y->e))
		y->rc = -EINVAL;
	if (err != NULL)
		*err = NULL;
	if (y->rc != 0 && err != NULL)
		xasprintf(err, "YAML emitter: %s", y->e.problem != NULL ?
		    y->e.problem : "out of memory");
	rc = y->rc;
	yaml_emitter_delete(&y->e);
	return rc;
}

bool
yaml_plain_ok(const char *s, const char *extra)
{
	static const char *const words[] = {
		"true", "false", "null", "yes", "no", "on", "off", "y", "n"
	};
	static const char base[] = "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./-";
	const char	*p;
	size_t		 i;

	if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
	    *s == '/'))
		return false;
	for (p = s; *p != '\0'; p++)
		if (strchr(base, *p) == NULL && strchr(extra, *p) == NULL)
			return false;
	for (i = 0; i < nitems(words); i++)
		if (strcasecmp(s, words[i]) == 0)
			return false;
	return true;
}

void
yaml_duration(char *s, size_t size, uint64_t ms)
{
	static const struct { const char *u; uint64_t ms; } units[] = {
		{ "h", 3600000 }, { "m", 60000 }, { "s", 1000 }, { "ms", 1 }
	};
	size_t	i, len = 0;

	snprintf(s, size, "0s");
	for (i = 0; i < nitems(units) && ms > 0 && len < size; i++) {
		if (ms < units[i].ms)
			continue;
		len += (size_t)snprintf(s + len, size - len, "%llu%s",
		    (unsigned long long)(ms / units[i].ms), units[i].u);
		ms %= units[i].ms;
	}
}
