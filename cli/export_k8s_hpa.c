/*
 * export kubernetes: autoscale as an autoscaling/v2
 * HorizontalPodAutoscaler.  shipd's keys are the HPA's (common/unit.h,
 * struct unit_autoscale): min and max replicas, CPU and memory targets,
 * and per direction a policy of at most max_step pods or max_percent per
 * period, the larger allowed (selectPolicy: Max), with a scale-down
 * stabilisation window.  A Utilization target is relative to the pods'
 * requests, which the container gets from the unit's limits
 * (export_k8s_pod.c); without a CPU limit shipd's CPU target is of one
 * CPU, written as an average value.
 */
#include <stdio.h>
#include <stdlib.h>

#include "export_k8s.h"
#include "unit.h"

/* The API's bounds (autoscaling/v2 HPAScalingPolicy, HPAScalingRules). */
#define HPA_PERIOD_MAX_S	1800
#define HPA_WINDOW_MAX_S	3600

static json_t *
utilization(const char *resource, int pct)
{
	return json_pack("{s:s, s:{s:s, s:{s:s, s:i}}}", "type", "Resource",
	    "resource", "name", resource, "target", "type", "Utilization",
	    "averageUtilization", pct);
}

/* Whole seconds of ms, rounded up, within lo..hi (a warning past hi). */
static int
bounded_secs(struct k8s *k, const struct unit *u, const char *key,
    uint64_t ms, int lo, int hi)
{
	uint64_t s = (ms + 999) / 1000;

	if (s > (uint64_t)hi) {
		export_warn(k->x, u->name, key, "%llus: the HPA allows at most "
		    "%ds; written as %ds", (unsigned long long)s, hi, hi);
		return hi;
	}
	return s < (uint64_t)lo ? lo : (int)s;
}

static json_t *
rules(struct k8s *k, const struct unit *u, const char *key,
    const struct unit_scale_policy *p, uint64_t window_ms)
{
	json_t	*r, *pol;
	char	 k2[64];
	int	 period;

	snprintf(k2, sizeof k2, "autoscale.%s.every", key);
	period = bounded_secs(k, u, k2, p->every_ms, 1, HPA_PERIOD_MAX_S);
	snprintf(k2, sizeof k2, "autoscale.stabilization");
	r = json_pack("{s:i, s:s}", "stabilizationWindowSeconds",
	    bounded_secs(k, u, k2, window_ms, 0, HPA_WINDOW_MAX_S),
	    "selectPolicy", "Max");
	pol = json_array();
	if (p->max_step > 0)
		json_array_append_new(pol, json_pack("{s:s, s:i, s:i}", "type",
		    "Pods", "value", p->max_step, "periodSeconds", period));
	if (p->max_percent > 0)
		json_array_append_new(pol, json_pack("{s:s, s:i, s:i}", "type",
		    "Percent", "value", p->max_percent, "periodSeconds",
		    period));
	json_object_set_new(r, "policies", pol);
	return r;
}

json_t *
k8s_hpa(struct k8s *k, const struct unit *u, const char *kind)
{
	const struct unit_autoscale *a = &u->autoscale;
	json_t	*o, *spec, *metrics;
	char	*name, mcpu[32];

	name = k8s_name(u->name);
	o = k8s_obj("autoscaling/v2", "HorizontalPodAutoscaler",
	    k8s_meta(k, name, u->name));
	metrics = json_array();
	if (a->cpu > 0 && u->nano_cpus > 0)
		json_array_append_new(metrics, utilization("cpu", a->cpu));
	else if (a->cpu > 0) {
		/* Of one CPU: a per-pod average, which needs no request. */
		snprintf(mcpu, sizeof mcpu, "%dm", a->cpu * 10);
		json_array_append_new(metrics, json_pack("{s:s, s:{s:s, "
		    "s:{s:s, s:s}}}", "type", "Resource", "resource", "name",
		    "cpu", "target", "type", "AverageValue", "averageValue",
		    mcpu));
		export_warn(k->x, u->name, "autoscale.cpu", "no resources.cpus: "
		    "the target is an average of %s per pod, and the pods "
		    "request no CPU (the scheduler places them as if idle); "
		    "set resources.cpus for a request and a Utilization "
		    "target", mcpu);
	}
	if (a->memory > 0)
		json_array_append_new(metrics, utilization("memory",
		    a->memory));
	if (a->window_ms != UNIT_AUTOSCALE_DEF_WINDOW_MS)
		export_warn(k->x, u->name, "autoscale.window", "an HPA has no "
		    "averaging window of its own: the metrics server's "
		    "resolution decides");
	spec = json_pack("{s:{s:s, s:s, s:s}, s:i, s:i, s:o, s:{s:o, s:o}}",
	    "scaleTargetRef", "apiVersion", "apps/v1", "kind", kind, "name",
	    name, "minReplicas", a->min, "maxReplicas", a->max, "metrics",
	    metrics, "behavior",
	    "scaleUp", rules(k, u, "up", &a->up, 0),
	    "scaleDown", rules(k, u, "down", &a->down, a->stabilization_ms));
	json_object_set_new(o, "spec", spec);
	free(name);
	return o;
}
