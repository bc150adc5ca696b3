/*
 * export kubernetes: names, metadata and what kind of workload a service
 * becomes; shared by cli/export_k8s*.c.
 */
#include <stdlib.h>
#include <string.h>

#include "export_k8s.h"
#include "unit.h"

#define SELECTOR	"app.kubernetes.io/name"

char *
k8s_name(const char *s)
{
	char	*n, *p;

	if (*s >= '0' && *s <= '9')
		xasprintf(&n, "s-%s", s);
	else
		n = xstrdup(s);
	for (p = n; *p != '\0'; p++)
		if (*p == '_' || *p == '.')
			*p = '-';
		else if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	if (strlen(n) > 63)
		n[63] = '\0';
	while ((p = n + strlen(n)) > n && p[-1] == '-')
		p[-1] = '\0';
	return n;
}

json_t *
k8s_meta(const struct k8s *k, const char *name, const char *service)
{
	json_t *m;

	m = json_pack("{s:s, s:s, s:{s:s, s:s}}", "name", name, "namespace",
	    k->ns, "labels", "app.kubernetes.io/part-of", k->x->st->name,
	    "app.kubernetes.io/managed-by", "shipctl-export");
	if (service != NULL)
		json_object_set_new(json_object_get(m, "labels"), SELECTOR,
		    json_string(service));
	return m;
}

json_t *
k8s_obj(const char *api, const char *kind, json_t *meta)
{
	return json_pack("{s:s, s:s, s:o}", "apiVersion", api, "kind", kind,
	    "metadata", meta);
}

enum k8s_kind
k8s_kind_of(const struct stack *st, const struct unit *u)
{
	size_t i, j;

	for (i = 0; i < st->nunits; i++)
		for (j = 0; j < st->units[i]->ndeps; j++)
			if (st->units[i]->deps[j].cond == DEP_COMPLETED &&
			    strcmp(st->units[i]->deps[j].name, u->name) == 0)
				return K8S_JOB;
	for (i = 0; i < u->nmounts; i++)
		if (u->mounts[i].kind == MOUNT_VOLUME)
			return K8S_STATEFULSET;
	return K8S_DEPLOYMENT;
}
