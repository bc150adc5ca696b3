/*
 * autoscale: as an autoscaling/v2 HorizontalPodAutoscaler.  The unit
 * model has no autoscale: key yet; this maps the small struct the key
 * will fill, so the export gains HPAs by one call when it lands
 * (docs/export.md, Pending).
 */
#include <stdlib.h>

#include "export_k8s.h"

static json_t *
metric(const char *resource, int pct)
{
	return json_pack("{s:s, s:{s:s, s:{s:s, s:i}}}", "type", "Resource",
	    "resource", "name", resource, "target", "type", "Utilization",
	    "averageUtilization", pct);
}

static json_t *
rules(int window, int step, int period)
{
	json_t *r;

	r = json_pack("{s:i}", "stabilizationWindowSeconds", window);
	if (step > 0)
		json_object_set_new(r, "policies", json_pack("[{s:s, s:i, s:i}]",
		    "type", "Pods", "value", step, "periodSeconds",
		    period > 0 ? period : 60));
	return r;
}

json_t *
k8s_hpa(const struct k8s *k, const char *service, const char *kind,
    const struct k8s_autoscale *a)
{
	json_t	*o, *spec, *metrics;
	char	*name;

	name = k8s_name(service);
	o = k8s_obj("autoscaling/v2", "HorizontalPodAutoscaler",
	    k8s_meta(k, name, service));
	metrics = json_array();
	if (a->cpu_percent > 0)
		json_array_append_new(metrics, metric("cpu", a->cpu_percent));
	if (a->memory_percent > 0)
		json_array_append_new(metrics, metric("memory",
		    a->memory_percent));
	spec = json_pack("{s:{s:s, s:s, s:s}, s:i, s:i, s:o, s:{s:o, s:o}}",
	    "scaleTargetRef", "apiVersion", "apps/v1", "kind", kind, "name",
	    name, "minReplicas", a->min, "maxReplicas", a->max, "metrics",
	    metrics, "behavior",
	    "scaleUp", rules(a->up_window_s, a->up_step, a->period_s),
	    "scaleDown", rules(a->down_window_s, a->down_step, a->period_s));
	json_object_set_new(o, "spec", spec);
	free(name);
	return o;
}
