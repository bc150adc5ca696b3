/*
 * shipctl export kubernetes internals, shared by cli/export_k8s*.c.
 */
#ifndef SHIPCTL_EXPORT_K8S_H
#define SHIPCTL_EXPORT_K8S_H

#include <jansson.h>

#include "export.h"

struct unit;

struct k8s {
	struct export_ctx	*x;
	const char		*ns;
	const char		*svc_type;	/* LoadBalancer or NodePort */
	const char		*wait_image;
	const char		*kubectl_image;
	json_t			*docs;		/* the objects, in order */
	bool			 need_waiter;	/* a Job is waited for */
};

/* What a service becomes. */
enum k8s_kind { K8S_DEPLOYMENT, K8S_STATEFULSET, K8S_JOB };

/* A DNS-1123 label made of a shipd name ('_' and '.' become '-');
 * caller frees. */
char	*k8s_name(const char *);
/* metadata: {name, namespace, labels} for a service's object. */
json_t	*k8s_meta(const struct k8s *, const char *name, const char *service);
/* apiVersion, kind, metadata. */
json_t	*k8s_obj(const char *api, const char *kind, json_t *meta);
enum k8s_kind k8s_kind_of(const struct stack *, const struct unit *);

/* export_k8s_pod.c: the pod template of u (and its ConfigMap, Secrets
 * appended to k->docs first). */
json_t	*k8s_pod_template(struct k8s *, const struct unit *,
	    enum k8s_kind);

/*
 * export_k8s_hpa.c: autoscale, pending in the unit model (docs/export.md):
 * the HorizontalPodAutoscaler a service's autoscale: would become, ready
 * for the day the key lands.  Nothing calls it yet.
 */
struct k8s_autoscale {
	int	 min;			/* replicas */
	int	 max;
	int	 cpu_percent;		/* target utilisation; 0: none */
	int	 memory_percent;	/* 0: none */
	int	 up_window_s;		/* stabilisation before scaling */
	int	 down_window_s;
	int	 up_step;		/* pods added per period; 0: any */
	int	 down_step;		/* pods removed per period */
	int	 period_s;		/* of the steps */
};
json_t	*k8s_hpa(const struct k8s *, const char *service, const char *kind,
	    const struct k8s_autoscale *);

#endif
