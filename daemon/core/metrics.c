/*
 * The metrics registry (metrics.h): families declared in one table,
 * series found by their label text, everything rendered at a scrape.
 * Single-threaded like the rest of shipd: no locks.
 */
#include <assert.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/metrics.h"
#include "util.h"

enum mtype { M_COUNTER, M_GAUGE, M_HISTOGRAM };

/* Seconds: a gate takes one to a few tens, a deploy up to minutes. */
static const double dur_buckets[] = { 0.1, 0.5, 1, 2.5, 5, 10, 30, 60,
    120, 300, 600 };

struct series {
	char		*labels;	/* `stack="a",service="b"` or "" */
	double		 value;		/* counter, gauge */
	double		 sum;		/* histogram */
	uint64_t	 count;
	uint64_t	*buckets;	/* per dur_buckets, not cumulative */
	struct series	*next;
};

struct family {
	const char	*name;
	enum mtype	 type;
	const char	*help;
	struct series	*series;
	size_t		 nseries;
};

static struct family families[] = {
	{ .name = "shipd_deploys_total", .type = M_COUNTER,
	  .help = "Deploys that ended, by result (ok, failed, rolled_back)" },
	{ .name = "shipd_rollbacks_total", .type = M_COUNTER,
	  .help = "Rollbacks that ended (automatic and asked for), by result" },
	{ .name = "shipd_deploy_duration_seconds", .type = M_HISTOGRAM,
	  .help = "Time from a deploy's start to its end" },
	{ .name = "shipd_gate_duration_seconds", .type = M_HISTOGRAM,
	  .help = "Time a replica took to pass (or fail) its start gate" },
	{ .name = "shipd_restarts_total", .type = M_COUNTER,
	  .help = "Replicas restarted by supervision, by reason" },
	{ .name = "shipd_backup_last_success_timestamp_seconds", .type = M_GAUGE,
	  .help = "Unix time of the stack's last successful backup" },
	{ .name = "shipd_backup_last_size_bytes", .type = M_GAUGE,
	  .help = "Size of the stack's last successful backup" },
	{ .name = "shipd_backup_last_duration_seconds", .type = M_GAUGE,
	  .help = "Duration of the stack's last successful backup" },
	{ .name = "shipd_engine_reachable", .type = M_GAUGE,
	  .help = "1 while the container engine answers and its API is negotiated" },
	{ .name = "shipd_events_reconnects_total", .type = M_COUNTER,
	  .help = "Times the engine's event stream was connected again after a loss" },
	{ .name = "shipd_control_requests_total", .type = M_COUNTER,
	  .help = "Control requests answered, by command and result code" },
	{ .name = "shipd_autoscale_decisions_total", .type = M_COUNTER,
	  .help = "Changes of a replica count the autoscaler started, by direction" },
	{ .name = "shipd_autoscale_failures_total", .type = M_COUNTER,
	  .help = "Autoscaler scales that failed (each backs off)" },
	{ .name = "shipd_metrics_dropped_series_total", .type = M_COUNTER,
	  .help = "Label sets not recorded because a family was full" },
};

struct collector {
	metrics_collect_cb	*cb;
	void			*arg;
	struct collector	*next;
};
static struct collector	*collectors;

static struct family *
family_find(const char *name)
{
	size_t i;

	for (i = 0; i < nitems(families); i++)
		if (strcmp(families[i].name, name) == 0)
			return &families[i];
	assert(!"undeclared metrics family");
	return NULL;
}

static void
put_escaped(struct buf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			buf_puts(b, "\\\\");
		else if (*s == '"')
			buf_puts(b, "\\\"");
		else if (*s == '\n')
			buf_puts(b, "\\n");
		else
			buf_append(b, s, 1);
	}
}

static void
labels_v(struct buf *b, va_list ap)
{
	const char	*k, *v;
	int		 n = 0;

	while ((k = va_arg(ap, const char *)) != NULL) {
		v = va_arg(ap, const char *);
		buf_printf(b, "%s%s=\"", n++ ? "," : "", k);
		put_escaped(b, v != NULL ? v : "");
		buf_puts(b, "\"");
	}
}

static void
put_value(struct buf *b, double v)
{
	if (isnan(v))
		buf_puts(b, "NaN");
	else if (isinf(v))
		buf_puts(b, v > 0 ? "+Inf" : "-Inf");
	else {
		/* The shortest text that reads back as v: 0.1, not
		 * 0.10000000000000001. */
		char	t[32];
		int	p;

		for (p = 15; p < 17; p++) {
			snprintf(t, sizeof t, "%.*g", p, v);
			if (strtod(t, NULL) == v)
				break;
		}
		if (p == 17)
			snprintf(t, sizeof t, "%.17g", v);
		buf_puts(b, t);
	}
}

static struct series *
series_get(struct family *f, va_list ap)
{
	struct buf	 b;
	struct series	*s;
	char		*labels;

	buf_init(&b);
	labels_v(&b, ap);
	if ((labels = buf_steal(&b)) == NULL)
		labels = xstrdup("");
	for (s = f->series; s != NULL; s = s->next)
		if (strcmp(s->labels, labels) == 0) {
			free(labels);
			return s;
		}
	if (f->nseries >= METRICS_SERIES_MAX) {
		free(labels);
		metrics_inc("shipd_metrics_dropped_series_total", NULL);
		return NULL;
	}
	s = xcalloc(1, sizeof *s);
	s->labels = labels;
	if (f->type == M_HISTOGRAM)
		s->buckets = xcalloc(nitems(dur_buckets), sizeof *s->buckets);
	s->next = f->series;
	f->series = s;
	f->nseries++;
	return s;
}

static void
update(const char *name, enum mtype want, int op, double v, va_list ap)
{
	struct family	*f = family_find(name);
	struct series	*s;
	size_t		 i;

	assert(f->type == want);
	if ((s = series_get(f, ap)) == NULL)
		return;
	switch (op) {
	case 'a':
		s->value += v;
		break;
	case 's':
		s->value = v;
		break;
	case 'o':
		s->sum += v;
		s->count++;
		for (i = 0; i < nitems(dur_buckets); i++)
			if (v <= dur_buckets[i]) {
				s->buckets[i]++;
				break;
			}
		break;
	}
}

void
metrics_inc(const char *family, ...)
{
	va_list ap;

	va_start(ap, family);
	update(family, M_COUNTER, 'a', 1, ap);
	va_end(ap);
}

void
metrics_add(const char *family, double v, ...)
{
	va_list ap;

	va_start(ap, v);
	update(family, M_COUNTER, 'a', v, ap);
	va_end(ap);
}

void
metrics_set(const char *family, double v, ...)
{
	va_list ap;

	va_start(ap, v);
	update(family, M_GAUGE, 's', v, ap);
	va_end(ap);
}

void
metrics_observe(const char *family, double v, ...)
{
	va_list ap;

	va_start(ap, v);
	update(family, M_HISTOGRAM, 'o', v, ap);
	va_end(ap);
}

void
metrics_restart(const char *stack, const char *service, const char *reason)
{
	metrics_inc("shipd_restarts_total", "stack", stack, "service",
	    service, "reason", reason, NULL);
}

void
metrics_collector_add(metrics_collect_cb *cb, void *arg)
{
	struct collector *c = xcalloc(1, sizeof *c);

	c->cb = cb;
	c->arg = arg;
	c->next = collectors;
	collectors = c;
}

void
metrics_collector_del(metrics_collect_cb *cb, void *arg)
{
	struct collector **cp, *c;

	for (cp = &collectors; (c = *cp) != NULL; cp = &c->next)
		if (c->cb == cb && c->arg == arg) {
			*cp = c->next;
			free(c);
			return;
		}
}

void
metrics_family(struct buf *b, const char *name, const char *type,
    const char *help)
{
	buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void
metrics_sample(struct buf *b, const char *name, double v, ...)
{
	va_list ap;

	buf_puts(b, name);
	va_start(ap, v);
	{
		struct buf l;

		buf_init(&l);
		labels_v(&l, ap);
		if (l.len > 0) {
			buf_puts(b, "{");
			buf_append(b, l.data, l.len);
			buf_puts(b, "}");
		}
		buf_free(&l);
	}
	va_end(ap);
	buf_puts(b, " ");
	put_value(b, v);
	buf_puts(b, "\n");
}

static void
render_histogram(struct buf *b, const char *name, const struct series *s)
{
	const char	*sep = s->labels[0] != '\0' ? "," : "";
	uint64_t	 cum = 0;
	size_t		 i;

	for (i = 0; i < nitems(dur_buckets); i++) {
		cum += s->buckets[i];
		buf_printf(b, "%s_bucket{%s%sle=\"", name, s->labels, sep);
		put_value(b, dur_buckets[i]);
		buf_printf(b, "\"} %llu\n", (unsigned long long)cum);
	}
	buf_printf(b, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, s->labels,
	    sep, (unsigned long long)s->count);
	buf_printf(b, "%s_sum%s%s%s ", name, s->labels[0] ? "{" : "",
	    s->labels, s->labels[0] ? "}" : "");
	put_value(b, s->sum);
	buf_printf(b, "\n%s_count%s%s%s %llu\n", name, s->labels[0] ? "{" : "",
	    s->labels, s->labels[0] ? "}" : "", (unsigned long long)s->count);
}

char *
metrics_render(size_t *len)
{
	static const char	*tnames[] = { "counter", "gauge", "histogram" };
	struct buf		 b;
	struct collector	*c;
	struct series		*s;
	size_t			 i;

	buf_init(&b);
	for (i = 0; i < nitems(families); i++) {
		struct family *f = &families[i];

		metrics_family(&b, f->name, tnames[f->type], f->help);
		for (s = f->series; s != NULL; s = s->next) {
			if (f->type == M_HISTOGRAM) {
				render_histogram(&b, f->name, s);
				continue;
			}
			buf_puts(&b, f->name);
			if (s->labels[0] != '\0')
				buf_printf(&b, "{%s}", s->labels);
			buf_puts(&b, " ");
			put_value(&b, s->value);
			buf_puts(&b, "\n");
		}
	}
	for (c = collectors; c != NULL; c = c->next)
		c->cb(&b, c->arg);
	*len = b.len;
	return buf_steal(&b);
}

void
metrics_free_all(void)
{
	struct collector	*c;
	struct series		*s;
	size_t			 i;

	for (i = 0; i < nitems(families); i++) {
		while ((s = families[i].series) != NULL) {
			families[i].series = s->next;
			free(s->labels);
			free(s->buckets);
			free(s);
		}
		families[i].nseries = 0;
	}
	while ((c = collectors) != NULL) {
		collectors = c->next;
		free(c);
	}
}
