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

/* export_k8s_hpa.c: u's autoscale: as a HorizontalPodAutoscaler of its
 * workload (kind: Deployment or StatefulSet). */
json_t	*k8s_hpa(struct k8s *, const struct unit *, const char *kind);

#endif
