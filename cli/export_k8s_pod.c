/*
 * export kubernetes: one service's pod template.  Health becomes readiness
 * and startup probes, and with on_unhealthy restart a liveness probe;
 * dependencies init containers that wait for them,
 * environment a ConfigMap and secrets Secrets (neither is ever written
 * into the template), resources requests and limits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "export_k8s.h"
#include "unit.h"

#define SECRETS_DIR	"/run/secrets/"

static json_t *
strv_json(char *const *v)
{
	json_t *a = json_array();

	for (; v != NULL && *v != NULL; v++)
		json_array_append_new(a, json_string(*v));
	return a;
}

/* Seconds of ms, rounded up, at least lo. */
static int
secs(uint64_t ms, int lo)
{
	uint64_t s = (ms + 999) / 1000;

	return s < (uint64_t)lo ? lo : s > 86400 * 365 ? 86400 * 365 : (int)s;
}

static char *
b64(const unsigned char *p, size_t n)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/";
	char	*out, *o;
	size_t	 i;
	unsigned v;

	out = o = xmalloc((n + 2) / 3 * 4 + 1);
	for (i = 0; i < n; i += 3) {
		v = (unsigned)p[i] << 16;
		if (i + 1 < n)
			v |= (unsigned)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		*o++ = tab[(v >> 18) & 63];
		*o++ = tab[(v >> 12) & 63];
		*o++ = i + 1 < n ? tab[(v >> 6) & 63] : '=';
		*o++ = i + 2 < n ? tab[v & 63] : '=';
	}
	*o = '\0';
	return out;
}

/* The check itself: httpGet, tcpSocket or exec; NULL when none. */
static json_t *
check(const struct unit_health *h)
{
	switch (h->kind) {
	case HEALTH_HTTP:
		return json_pack("{s:{s:s, s:i}}", "httpGet", "path",
		    h->http_path, "port", h->port);
	case HEALTH_TCP:
		return json_pack("{s:{s:i}}", "tcpSocket", "port", h->port);
	case HEALTH_CMD:
		if (h->test == NULL || h->test[0] == NULL)
			return NULL;
		if (strcmp(h->test[0], "CMD-SHELL") == 0)
			return json_pack("{s:{s:[s, s, s]}}", "exec", "command",
			    "/bin/sh", "-c", h->test[1] != NULL ? h->test[1] :
			    "true");
		return json_pack("{s:{s:o}}", "exec", "command",
		    strv_json(h->test + 1));
	default:
		return NULL;
	}
}

/*
 * Whether shipd's supervisor restarts u when it stays unhealthy
 * (docs/operations.md, Supervision): on_unhealthy, by default restart
 * but for a one-shot, which here is a Job.
 */
static bool
heals(const struct unit *u, enum k8s_kind kind)
{
	if (u->on_unhealthy != HEAL_DEFAULT)
		return u->on_unhealthy == HEAL_RESTART;
	return kind != K8S_JOB;
}

static void
probes(struct k8s *k, const struct unit *u, enum k8s_kind kind,
    json_t *ctr)
{
	const struct unit_health *h = &u->health;
	json_t		*p;
	uint64_t	 si;

	if (h->kind == HEALTH_IMAGE) {
		export_warn(k->x, u->name, "health", "the image's own "
		    "HEALTHCHECK is not known to Kubernetes: no probe");
		return;
	}
	if ((p = check(h)) == NULL)
		return;
	json_object_set_new(p, "periodSeconds", json_integer(secs(
	    h->interval_ms, 1)));
	json_object_set_new(p, "timeoutSeconds", json_integer(secs(
	    h->timeout_ms, 1)));
	json_object_set_new(p, "failureThreshold", json_integer(
	    h->retries > 0 ? h->retries : 1));
	json_object_set_new(ctr, "readinessProbe", json_deep_copy(p));
	/* on_unhealthy: restart is the kubelet restarting the container
	 * after failureThreshold failed checks in a row; the startup probe
	 * (below) holds it off while the service starts. */
	if (heals(u, kind))
		json_object_set_new(ctr, "livenessProbe", json_deep_copy(p));
	if (h->start_period_ms > 0) {
		si = h->start_interval_ms > 0 ? h->start_interval_ms : 1000;
		json_object_set_new(p, "periodSeconds", json_integer(secs(si,
		    1)));
		json_object_set_new(p, "failureThreshold", json_integer(
		    secs(h->start_period_ms, 1) / secs(si, 1) + 1));
		json_object_set_new(ctr, "startupProbe", p);
	} else
		json_decref(p);
}

/* One init container per dependency, waiting until it is ready (its
 * Service answers) or, for a one-shot, until its Job completed. */
static json_t *
waits(struct k8s *k, const struct unit *u, bool *kubectl)
{
	const struct unit	*d;
	json_t			*a = json_array();
	char			*dn, *cmd, *cname;
	size_t			 i;

	for (i = 0; i < u->ndeps; i++) {
		if ((d = stack_unit(k->x->st, u->deps[i].name)) == NULL)
			continue;
		dn = k8s_name(d->name);
		xasprintf(&cname, "wait-%s", dn);
		if (k8s_kind_of(k->x->st, d) == K8S_JOB) {
			*kubectl = true;
			xasprintf(&cmd, "job/%s", dn);
			json_array_append_new(a, json_pack("{s:s, s:s, s:[s, s, "
			    "s, s, s, s]}", "name", cname, "image",
			    k->kubectl_image, "command", "kubectl", "wait",
			    "--for=condition=complete", "--timeout=24h", "-n",
			    k->ns));
			json_array_append_new(json_object_get(json_array_get(a,
			    json_array_size(a) - 1), "command"),
			    json_string(cmd));
		} else {
			if (d->nports > 0)
				xasprintf(&cmd, "until nc -z -w 2 %s %d; do "
				    "sleep 2; done", dn, d->ports[0].host_port >
				    0 ? d->ports[0].host_port :
				    d->ports[0].container_port);
			else
				xasprintf(&cmd, "until nslookup %s.%s.svc."
				    "cluster.local >/dev/null 2>&1; do sleep 2; "
				    "done", dn, k->ns);
			json_array_append_new(a, json_pack("{s:s, s:s, s:[s, s, "
			    "s]}", "name", cname, "image", k->wait_image,
			    "command", "sh", "-c", cmd));
		}
		free(cmd);
		free(cname);
		free(dn);
	}
	return a;
}

static json_t *
env_configmap(struct k8s *k, const struct unit *u, const char *name)
{
	json_t	*data = json_object(), *o;
	size_t	 i;

	for (i = 0; i < u->nenv; i++)
		if (strspn(u->env[i].key, "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._") ==
		    strlen(u->env[i].key) && strlen(u->env[i].key) <= 253)
			json_object_set_new(data, u->env[i].key,
			    json_string(u->env[i].value));
		else
			export_warn(k->x, u->name, "environment", "%s: not a "
			    "ConfigMap key (letters, digits, '-', '.', '_'); "
			    "left out", u->env[i].key);
	o = k8s_obj("v1", "ConfigMap", k8s_meta(k, name, u->name));
	json_object_set_new(o, "data", data);
	return o;
}

/* A bind under /run/secrets/ (compose's secrets) as a Secret of the
 * file's contents, mounted read-only where the file was. */
static void
secret(struct k8s *k, const struct unit *u, const struct unit_mount *m,
    json_t *vols, json_t *vmounts)
{
	const char	*base = m->target + strlen(SECRETS_DIR);
	char		*sn, *bn, *un, *data = NULL, *enc;
	size_t		 len = 0;
	json_t		*o;
	int		 rc;

	un = k8s_name(u->name);
	bn = k8s_name(base);
	xasprintf(&sn, "%s-secret-%s", un, bn);
	free(un);
	o = k8s_obj("v1", "Secret", k8s_meta(k, sn, u->name));
	json_object_set_new(o, "type", json_string("Opaque"));
	if ((rc = file_read_all(m->source, UNIT_FILE_MAX, &data, &len)) != 0) {
		export_warn(k->x, u->name, "secrets", "%s: %s: the Secret is "
		    "left empty", m->source, strerror(-rc));
		json_object_set_new(o, "data", json_object());
	} else {
		enc = b64((unsigned char *)data, len);
		json_object_set_new(o, "data", json_pack("{s:s}", base, enc));
		free(enc);
	}
	free(data);
	json_array_append_new(k->docs, o);
	json_array_append_new(vols, json_pack("{s:s, s:{s:s}}", "name", bn,
	    "secret", "secretName", sn));
	json_array_append_new(vmounts, json_pack("{s:s, s:s, s:s, s:b}",
	    "name", bn, "mountPath", m->target, "subPath", base, "readOnly",
	    1));
	free(sn);
	free(bn);
}

static void
mounts(struct k8s *k, const struct unit *u, enum k8s_kind kind,
    json_t *vols, json_t *vm)
{
	const struct unit_mount	*m;
	char			*n, *p;
	size_t			 i;

	for (i = 0; i < u->nmounts; i++) {
		m = &u->mounts[i];
		if (m->kind == MOUNT_BIND) {
			if (strncmp(m->target, SECRETS_DIR,
			    strlen(SECRETS_DIR)) == 0 &&
			    strchr(m->target + strlen(SECRETS_DIR), '/') ==
			    NULL && m->target[strlen(SECRETS_DIR)] != '\0')
				secret(k, u, m, vols, vm);
			else
				export_warn(k->x, u->name, "volumes", "bind "
				    "mount %s:%s: a host path has no place in "
				    "a cluster; left out", m->source,
				    m->target);
			continue;
		}
		n = k8s_name(m->source);
		if (kind != K8S_STATEFULSET) {
			export_warn(k->x, u->name, "volumes", "%s: a one-shot's "
			    "volume becomes an emptyDir (no claim is shared "
			    "with other pods)", m->source);
			json_array_append_new(vols, json_pack("{s:s, s:{}}",
			    "name", n, "emptyDir"));
		}
		json_array_append_new(vm, json_pack("{s:s, s:s, s:b}", "name",
		    n, "mountPath", m->target, "readOnly", m->ro));
		free(n);
	}
	for (i = 0; u->tmpfs != NULL && u->tmpfs[i] != NULL; i++) {
		p = xstrdup(u->tmpfs[i]);
		p[strcspn(p, ":")] = '\0';
		xasprintf(&n, "tmpfs-%zu", i);
		json_array_append_new(vols, json_pack("{s:s, s:{s:s}}", "name",
		    n, "emptyDir", "medium", "Memory"));
		json_array_append_new(vm, json_pack("{s:s, s:s}", "name", n,
		    "mountPath", p));
		free(n);
		free(p);
	}
}

static json_t *
security(struct k8s *k, const struct unit *u)
{
	json_t	*sc = json_object(), *caps;
	char	*end;
	long	 uid;
	size_t	 i;

	if (u->privileged)
		json_object_set_new(sc, "privileged", json_true());
	if (u->cap_add != NULL || u->cap_drop != NULL) {
		caps = json_object();
		if (u->cap_add != NULL)
			json_object_set_new(caps, "add", strv_json(u->cap_add));
		if (u->cap_drop != NULL)
			json_object_set_new(caps, "drop",
			    strv_json(u->cap_drop));
		json_object_set_new(sc, "capabilities", caps);
	}
	if (u->user != NULL) {
		uid = strtol(u->user, &end, 10);
		if (end != u->user && (*end == '\0' || *end == ':') && uid >= 0)
			json_object_set_new(sc, "runAsUser", json_integer(uid));
		else
			export_warn(k->x, u->name, "user", "'%s': Kubernetes "
			    "takes numeric IDs only; left to the image",
			    u->user);
		if (*end == ':' && (uid = strtol(end + 1, &end, 10)) >= 0 &&
		    *end == '\0')
			json_object_set_new(sc, "runAsGroup",
			    json_integer(uid));
	}
	for (i = 0; i < u->ndevices; i++)
		export_warn(k->x, u->name, "devices", "%s: host devices need a "
		    "device plugin; left out", u->devices[i].host);
	return sc;
}

/* Whether an earlier port of u names the same container port. */
static bool
port_seen(const struct unit *u, size_t i)
{
	size_t j;

	for (j = 0; j < i; j++)
		if (u->ports[j].container_port == u->ports[i].container_port &&
		    strcmp(u->ports[j].proto, u->ports[i].proto) == 0)
			return true;
	return false;
}

static json_t *
container(struct k8s *k, const struct unit *u, enum k8s_kind kind,
    const char *name, json_t *vm)
{
	json_t	*c, *ports, *res;
	char	 cpu[32], *cm;
	size_t	 i;

	c = json_pack("{s:s, s:s}", "name", name, "image", u->image != NULL ?
	    u->image : "");
	json_object_set_new(c, "imagePullPolicy", json_string(
	    u->pull_policy == PULL_ALWAYS ? "Always" :
	    u->pull_policy == PULL_NEVER ? "Never" : "IfNotPresent"));
	if (u->entrypoint != NULL)
		json_object_set_new(c, "command", strv_json(u->entrypoint));
	if (u->command != NULL)
		json_object_set_new(c, "args", strv_json(u->command));
	if (u->working_dir != NULL)
		json_object_set_new(c, "workingDir",
		    json_string(u->working_dir));
	if (u->nenv > 0) {
		xasprintf(&cm, "%s-env", name);
		json_object_set_new(c, "envFrom", json_pack("[{s:{s:s}}]",
		    "configMapRef", "name", cm));
		free(cm);
	}
	if (u->nports > 0) {
		ports = json_array();
		for (i = 0; i < u->nports; i++) {
			if (port_seen(u, i))
				continue;
			json_array_append_new(ports, json_pack("{s:i, s:s}",
			    "containerPort", u->ports[i].container_port,
			    "protocol", strcmp(u->ports[i].proto, "udp") == 0 ?
			    "UDP" : "TCP"));
		}
		json_object_set_new(c, "ports", ports);
	}
	if (u->memory > 0 || u->nano_cpus > 0) {
		res = json_object();
		if (u->memory > 0) {
			snprintf(cpu, sizeof cpu, "%llu",
			    (unsigned long long)u->memory);
			json_object_set_new(res, "memory", json_string(cpu));
		}
		if (u->nano_cpus > 0) {
			snprintf(cpu, sizeof cpu, "%lldm",
			    (long long)((u->nano_cpus + 999999) / 1000000));
			json_object_set_new(res, "cpu", json_string(cpu));
		}
		json_object_set_new(c, "resources", json_pack("{s:O, s:O}",
		    "requests", res, "limits", res));
		json_decref(res);
	}
	probes(k, u, kind, c);
	if (json_array_size(vm) > 0)
		json_object_set(c, "volumeMounts", vm);
	json_object_set_new(c, "securityContext", security(k, u));
	if (json_object_size(json_object_get(c, "securityContext")) == 0)
		json_object_del(c, "securityContext");
	return c;
}

json_t *
k8s_pod_template(struct k8s *k, const struct unit *u, enum k8s_kind kind)
{
	json_t	*spec, *vols, *vm, *init, *meta, *ann, *sysctls, *ha;
	char	*name, *cm;
	bool	 kubectl = false;
	size_t	 i;

	name = k8s_name(u->name);
	if (u->nenv > 0) {
		xasprintf(&cm, "%s-env", name);
		json_array_append_new(k->docs, env_configmap(k, u, cm));
		free(cm);
	}
	vols = json_array();
	vm = json_array();
	mounts(k, u, kind, vols, vm);
	spec = json_object();
	init = waits(k, u, &kubectl);
	if (kubectl) {
		k->need_waiter = true;
		json_object_set_new(spec, "serviceAccountName",
		    json_string("shipd-wait"));
	}
	if (json_array_size(init) > 0)
		json_object_set(spec, "initContainers", init);
	json_decref(init);
	json_object_set_new(spec, "containers", json_pack("[o]",
	    container(k, u, kind, name, vm)));
	json_decref(vm);
	if (json_array_size(vols) > 0)
		json_object_set(spec, "volumes", vols);
	json_decref(vols);
	if (kind == K8S_JOB)
		json_object_set_new(spec, "restartPolicy", json_string(
		    strcmp(u->restart, "no") == 0 ? "Never" : "OnFailure"));
	json_object_set_new(spec, "terminationGracePeriodSeconds",
	    json_integer(secs(u->stop_grace_ms, 0)));
	if (u->host_network) {
		json_object_set_new(spec, "hostNetwork", json_true());
		export_warn(k->x, u->name, "network_mode", "host: hostNetwork "
		    "is the node's network, and the Pod Security baseline "
		    "refuses it");
	}
	if (u->host_pid) {
		json_object_set_new(spec, "hostPID", json_true());
		export_warn(k->x, u->name, "pid", "host: hostPID is the "
		    "node's, and the Pod Security baseline refuses it");
	}
	if (u->privileged)
		export_warn(k->x, u->name, "privileged", "the Pod Security "
		    "baseline refuses privileged pods");
	if (u->hostname != NULL)
		json_object_set_new(spec, "hostname", json_string(u->hostname));
	if (u->extra_hosts != NULL) {
		ha = json_array();
		for (i = 0; u->extra_hosts[i] != NULL; i++) {
			cm = xstrdup(u->extra_hosts[i]);
			cm[strcspn(cm, ":")] = '\0';
			json_array_append_new(ha, json_pack("{s:s, s:[s]}", "ip",
			    u->extra_hosts[i] + strlen(cm) + 1, "hostnames",
			    cm));
			free(cm);
		}
		json_object_set_new(spec, "hostAliases", ha);
	}
	if (u->nsysctls > 0) {
		sysctls = json_array();
		for (i = 0; i < u->nsysctls; i++)
			json_array_append_new(sysctls, json_pack("{s:s, s:s}",
			    "name", u->sysctls[i].key, "value",
			    u->sysctls[i].value));
		json_object_set_new(spec, "securityContext", json_pack("{s:o}",
		    "sysctls", sysctls));
	}
	for (i = 0; i < u->nulimits; i++)
		export_warn(k->x, u->name, "ulimits", "%s: Kubernetes sets no "
		    "per-pod limits; left to the node", u->ulimits[i].key);
	if (u->stop_signal != NULL)
		export_warn(k->x, u->name, "stop_signal", "%s: Kubernetes "
		    "sends SIGTERM; make the image's STOPSIGNAL match",
		    u->stop_signal);
	if (u->init)
		export_warn(k->x, u->name, "init", "Kubernetes has no init "
		    "process option: build one (tini) into the image");
	meta = json_pack("{s:{s:s, s:s}}", "labels", "app.kubernetes.io/name",
	    u->name, "app.kubernetes.io/part-of", k->x->st->name);
	if (u->nlabels > 0) {
		ann = json_object();
		for (i = 0; i < u->nlabels; i++)
			json_object_set_new(ann, u->labels[i].key,
			    json_string(u->labels[i].value));
		json_object_set_new(meta, "annotations", ann);
	}
	free(name);
	return json_pack("{s:o, s:o}", "metadata", meta, "spec", spec);
}
