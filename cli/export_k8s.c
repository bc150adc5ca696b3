/*
 * shipctl export kubernetes: the resolved stack as Kubernetes manifests,
 * one multi-document YAML stream in a fixed order (Namespace, the wait
 * RBAC if needed, then per service in name order: its ConfigMap and
 * Secrets, its workload, its autoscaler, its Service, its backup CronJob).  What cannot be
 * expressed is a warning naming the service and key.  docs/export.md has
 * the table of every key.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "export_k8s.h"
#include "unit.h"

#define SELECTOR	"app.kubernetes.io/name"

static json_t *
selector(const struct unit *u)
{
	return json_pack("{s:{s:s}}", "matchLabels", SELECTOR, u->name);
}

/* update: as a Deployment's strategy and timings. */
static void
rollout(struct k8s *k, const struct unit *u, json_t *spec, bool sts)
{
	const struct unit_update *up = &u->update;
	int	min_ready, deadline;

	min_ready = (int)((up->monitor_ms + 999) / 1000);
	deadline = (int)((up->healthy_deadline_ms + 999) / 1000);
	if (deadline <= min_ready)
		deadline = min_ready + 1;
	json_object_set_new(spec, "minReadySeconds", json_integer(min_ready));
	if (sts) {
		json_object_set_new(spec, "updateStrategy", json_pack("{s:s}",
		    "type", "RollingUpdate"));
		if (up->order == UPDATE_START_FIRST)
			export_warn(k->x, u->name, "update.order", "start-first: "
			    "a StatefulSet replaces one pod at a time, stopping "
			    "it first");
		if (up->parallelism > 1)
			export_warn(k->x, u->name, "update.parallelism", "%d: a "
			    "StatefulSet updates one pod at a time",
			    up->parallelism);
	} else {
		json_object_set_new(spec, "progressDeadlineSeconds",
		    json_integer(deadline));
		json_object_set_new(spec, "strategy", json_pack("{s:s, s:{s:i, "
		    "s:i}}", "type", "RollingUpdate", "rollingUpdate",
		    "maxSurge", up->order == UPDATE_START_FIRST ?
		    up->parallelism : 0, "maxUnavailable",
		    up->order == UPDATE_START_FIRST ? 0 : up->parallelism));
	}
	if (up->on_failure == UPDATE_ROLLBACK)
		export_warn(k->x, u->name, "update.on_failure", "rollback: "
		    "Kubernetes marks a failed rollout and stops; it never "
		    "rolls back by itself, nor the stack as a whole (kubectl "
		    "rollout undo)");
}

static json_t *
claims(const struct unit *u)
{
	json_t	*a = json_array();
	char	*n;
	size_t	 i, j;

	for (i = 0; i < u->nmounts; i++) {
		if (u->mounts[i].kind != MOUNT_VOLUME)
			continue;
		for (j = 0; j < i; j++)
			if (u->mounts[j].kind == MOUNT_VOLUME &&
			    strcmp(u->mounts[j].source, u->mounts[i].source) ==
			    0)
				break;
		if (j < i)
			continue;
		n = k8s_name(u->mounts[i].source);
		json_array_append_new(a, json_pack("{s:{s:s}, s:{s:[s], "
		    "s:{s:{s:s}}}}", "metadata", "name", n, "spec",
		    "accessModes", "ReadWriteOnce", "resources", "requests",
		    "storage", "1Gi"));
		free(n);
	}
	return a;
}

static json_t *
workload(struct k8s *k, const struct unit *u, enum k8s_kind kind,
    const char *name)
{
	json_t	*o, *spec, *tmpl;

	tmpl = k8s_pod_template(k, u, kind);
	if (kind == K8S_JOB) {
		o = k8s_obj("batch/v1", "Job", k8s_meta(k, name, u->name));
		spec = json_pack("{s:i, s:o}", "backoffLimit",
		    strcmp(u->restart, "no") == 0 ? 0 : u->restart_max > 0 ?
		    u->restart_max : 6, "template", tmpl);
		if (u->replicas != 1)
			export_warn(k->x, u->name, "replicas", "%d: a one-shot "
			    "runs once as a Job", u->replicas);
	} else {
		o = k8s_obj("apps/v1", kind == K8S_STATEFULSET ? "StatefulSet" :
		    "Deployment", k8s_meta(k, name, u->name));
		/* An autoscaled workload leaves its count to the HPA:
		 * a replicas: here would reset it on every apply. */
		spec = json_pack("{s:i, s:o}", "revisionHistoryLimit",
		    k->x->st->retain, "selector", selector(u));
		if (!u->autoscale.present)
			json_object_set_new(spec, "replicas",
			    json_integer(u->replicas));
		if (kind == K8S_STATEFULSET)
			json_object_set_new(spec, "serviceName",
			    json_string(name));
		rollout(k, u, spec, kind == K8S_STATEFULSET);
		json_object_set_new(spec, "template", tmpl);
		if (kind == K8S_STATEFULSET)
			json_object_set_new(spec, "volumeClaimTemplates",
			    claims(u));
		if (strcmp(u->restart, "always") != 0 &&
		    strcmp(u->restart, "unless-stopped") != 0)
			export_warn(k->x, u->name, "restart", "%s: pods of a "
			    "%s are always restarted", u->restart,
			    kind == K8S_STATEFULSET ? "StatefulSet" :
			    "Deployment");
	}
	json_object_set_new(o, "spec", spec);
	return o;
}

static json_t *
service(struct k8s *k, const struct unit *u, const char *name)
{
	json_t		*o, *spec, *ports, *p;
	const char	*type = "ClusterIP";
	const struct unit_port *up;
	char		 pn[32];
	size_t		 i;

	o = k8s_obj("v1", "Service", k8s_meta(k, name, u->name));
	spec = json_pack("{s:{s:s}}", "selector", SELECTOR, u->name);
	if (u->nports == 0) {
		json_object_set_new(spec, "clusterIP", json_string("None"));
		json_object_set_new(o, "spec", spec);
		return o;
	}
	ports = json_array();
	for (i = 0; i < u->nports; i++) {
		up = &u->ports[i];
		snprintf(pn, sizeof pn, "%s-%d", strcmp(up->proto, "udp") == 0 ?
		    "udp" : "tcp", up->host_port > 0 ? up->host_port :
		    up->container_port);
		p = json_pack("{s:s, s:s, s:i, s:i}", "name", pn, "protocol",
		    strcmp(up->proto, "udp") == 0 ? "UDP" : "TCP", "port",
		    up->host_port > 0 ? up->host_port : up->container_port,
		    "targetPort", up->container_port);
		if (up->host_port > 0) {
			type = k->svc_type;
			if (strcmp(type, "NodePort") == 0 &&
			    up->host_port >= 30000 && up->host_port <= 32767)
				json_object_set_new(p, "nodePort",
				    json_integer(up->host_port));
			else if (strcmp(type, "NodePort") == 0)
				export_warn(k->x, u->name, "ports", "%d: outside "
				    "the NodePort range; the cluster picks one",
				    up->host_port);
			if (up->host_ip != NULL)
				export_warn(k->x, u->name, "ports", "%s:%d: the "
				    "host address is not kept", up->host_ip,
				    up->host_port);
		}
		json_array_append_new(ports, p);
	}
	json_object_set_new(spec, "type", json_string(type));
	json_object_set_new(spec, "ports", ports);
	json_object_set_new(o, "spec", spec);
	return o;
}

/* backup: a CronJob to fill in: shipd's backups read the volumes through
 * the engine, which a cluster does not offer. */
static json_t *
backup(struct k8s *k, const struct unit *u, const char *name)
{
	const struct unit_backup *b = &u->backup;
	json_t	*o, *paths;
	char	*cn;
	size_t	 i;

	export_warn(k->x, u->name, "backup", "a CronJob skeleton: give it a "
	    "schedule, an image and a destination");
	if (b->pre != NULL || b->post != NULL)
		export_warn(k->x, u->name, "backup.pre/post", "hooks run in "
		    "the service's container; a CronJob cannot run them there");
	if (b->stop)
		export_warn(k->x, u->name, "backup.stop", "the quiesce (stop "
		    "while copying) has no Kubernetes form");
	paths = json_array();
	for (i = 0; b->paths != NULL && b->paths[i] != NULL; i++)
		json_array_append_new(paths, json_string(b->paths[i]));
	xasprintf(&cn, "%s-backup", name);
	o = k8s_obj("batch/v1", "CronJob", k8s_meta(k, cn, u->name));
	json_array_insert_new(paths, 0, json_string("echo"));
	json_array_insert_new(paths, 1, json_string("TODO: back up"));
	json_object_set_new(o, "spec", json_pack("{s:s, s:i, s:s, s:{s:{s:i, "
	    "s:{s:{s:s, s:[{s:s, s:s, s:o}]}}}}}", "schedule", "0 3 * * *",
	    "successfulJobsHistoryLimit", b->keep, "concurrencyPolicy",
	    "Forbid", "jobTemplate", "spec", "backoffLimit", 0, "template",
	    "spec", "restartPolicy", "Never", "containers", "name", "backup",
	    "image", k->wait_image, "command", paths));
	free(cn);
	return o;
}

/* A volume that an earlier service mounts too: one claim per pod here. */
static void
shared_volumes(struct export_ctx *x, const struct unit *u)
{
	const struct stack	*st = x->st;
	const struct unit	*o;
	size_t			 i, j, l;

	for (i = 0; i < u->nmounts; i++) {
		if (u->mounts[i].kind != MOUNT_VOLUME)
			continue;
		for (j = 0; j < st->nunits && st->units[j] != u; j++) {
			o = st->units[j];
			for (l = 0; l < o->nmounts; l++)
				if (o->mounts[l].kind == MOUNT_VOLUME &&
				    strcmp(o->mounts[l].source,
				    u->mounts[i].source) == 0)
					break;
			if (l < o->nmounts)
				export_warn(x, u->name, "volumes", "%s is also "
				    "%s's: each pod gets a claim of its own",
				    u->mounts[i].source, o->name);
		}
	}
}

static void
waiter_rbac(struct k8s *k)
{
	json_t *sa, *role, *rb;

	sa = k8s_obj("v1", "ServiceAccount", k8s_meta(k, "shipd-wait",
	    NULL));
	role = k8s_obj("rbac.authorization.k8s.io/v1", "Role",
	    k8s_meta(k, "shipd-wait", NULL));
	json_object_set_new(role, "rules", json_pack("[{s:[s], s:[s], "
	    "s:[s, s, s]}]", "apiGroups", "batch", "resources", "jobs",
	    "verbs", "get", "list", "watch"));
	rb = k8s_obj("rbac.authorization.k8s.io/v1", "RoleBinding",
	    k8s_meta(k, "shipd-wait", NULL));
	json_object_set_new(rb, "subjects", json_pack("[{s:s, s:s, s:s}]",
	    "kind", "ServiceAccount", "name", "shipd-wait", "namespace",
	    k->ns));
	json_object_set_new(rb, "roleRef", json_pack("{s:s, s:s, s:s}",
	    "apiGroup", "rbac.authorization.k8s.io", "kind", "Role", "name",
	    "shipd-wait"));
	json_array_insert_new(k->docs, 1, rb);
	json_array_insert_new(k->docs, 1, role);
	json_array_insert_new(k->docs, 1, sa);
}

int
export_kubernetes(struct export_ctx *x)
{
	struct k8s		 k;
	const struct stack	*st = x->st;
	const struct unit	*u;
	struct buf		 b;
	enum k8s_kind		 kind;
	json_t			*ns;
	char			*nsname, *name, *file;
	const char		*opt;
	size_t			 i;
	int			 rc;

	memset(&k, 0, sizeof k);
	k.x = x;
	opt = cli_opt_get(x->c, 'T');
	k.svc_type = opt != NULL ? opt : "LoadBalancer";
	if (strcmp(k.svc_type, "LoadBalancer") != 0 &&
	    strcmp(k.svc_type, "NodePort") != 0)
		return cli_usage_error(x->c, "--service-type: LoadBalancer or "
		    "NodePort, not '%s'", k.svc_type);
	opt = cli_opt_get(x->c, 'W');
	k.wait_image = opt != NULL ? opt : "busybox:1.36";
	opt = cli_opt_get(x->c, 'K');
	k.kubectl_image = opt != NULL ? opt : "bitnami/kubectl:1.30";
	opt = cli_opt_get(x->c, 'n');
	nsname = k8s_name(opt != NULL ? opt : st->name);
	k.ns = nsname;
	k.docs = json_array();
	ns = k8s_obj("v1", "Namespace", json_pack("{s:s, s:{s:s}}", "name",
	    nsname, "labels", "app.kubernetes.io/part-of", st->name));
	json_array_append_new(k.docs, ns);
	if (st->nnetworks > 0)
		export_warn(x, NULL, "networks", "a cluster's pod network is "
		    "flat: every service reaches every other (NetworkPolicies "
		    "are left to you)");
	for (i = 0; i < st->nunits; i++) {
		u = st->units[i];
		kind = k8s_kind_of(st, u);
		name = k8s_name(u->name);
		if (kind == K8S_STATEFULSET)
			shared_volumes(x, u);
		json_array_append_new(k.docs, workload(&k, u, kind, name));
		if (u->autoscale.present && kind != K8S_JOB)
			json_array_append_new(k.docs, k8s_hpa(&k, u,
			    kind == K8S_STATEFULSET ? "StatefulSet" :
			    "Deployment"));
		json_array_append_new(k.docs, service(&k, u, name));
		if (u->backup.present)
			json_array_append_new(k.docs, backup(&k, u, name));
		if (u->build.present)
			export_warn(x, u->name, "build", "push %s to a registry "
			    "the cluster pulls from", u->image);
		free(name);
	}
	if (k.need_waiter)
		waiter_rbac(&k);
	buf_init(&b);
	if ((rc = export_yaml(k.docs, NULL, &b)) == 0) {
		xasprintf(&file, "%s.yaml", nsname);
		rc = export_write(x, file, &b);
		if (rc != 0)
			cli_fail("io", "%s/%s: %s", x->outdir, file,
			    strerror(-rc));
		free(file);
	} else
		cli_fail("internal", "writing YAML: %s", strerror(-rc));
	buf_free(&b);
	json_decref(k.docs);
	free(nsname);
	return rc == 0 ? EXIT_OK : EXIT_FAILED;
}
