/*
 * Container, network and volume specs for the engine, made from units.
 * Everything shipd creates carries the io.shipd.* labels: they are the
 * source of truth for what exists.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/spec.h"
#include "util.h"

char *
spec_network_name(const char *stack, const char *net)
{
	char *s;

	xasprintf(&s, "%s_%s", stack, net);
	return s;
}

char *
spec_volume_name(const char *stack, const char *vol)
{
	return spec_network_name(stack, vol);
}

char *
spec_container_name(const char *stack, const char *service, int n)
{
	char *s;

	xasprintf(&s, "%s-%s-%d", stack, service, n);
	return s;
}

static json_t *
argv_json(char *const *v)
{
	json_t *a = json_array();

	for (; v != NULL && *v != NULL; v++)
		json_array_append_new(a, json_string(*v));
	return a;
}

static json_int_t
ns(uint64_t ms)
{
	return (json_int_t)(ms * 1000000);
}

static json_t *
healthcheck(const struct unit_health *h)
{
	json_t *hc;

	switch (h->kind) {
	case HEALTH_DISABLED:
		return json_pack("{s:[s]}", "Test", "NONE");
	case HEALTH_CMD:
		hc = json_pack("{s:o}", "Test", argv_json(h->test));
		break;
	case HEALTH_IMAGE:
		/* Only the timings the unit overrides; the test is the
		 * image's. */
		hc = json_object();
		break;
	default:
		/* http/tcp are probed by shipd itself. */
		return NULL;
	}
	if (h->interval_ms)
		json_object_set_new(hc, "Interval", json_integer(
		    ns(h->interval_ms)));
	if (h->timeout_ms)
		json_object_set_new(hc, "Timeout", json_integer(
		    ns(h->timeout_ms)));
	if (h->start_period_ms)
		json_object_set_new(hc, "StartPeriod", json_integer(
		    ns(h->start_period_ms)));
	if (h->retries)
		json_object_set_new(hc, "Retries", json_integer(h->retries));
	if (json_object_size(hc) == 0) {
		json_decref(hc);
		return NULL;
	}
	return hc;
}

static json_t *
labels(const struct stack *st, const struct unit *u, int replica,
    int revision)
{
	json_t	*l = json_object();
	char	 hash[65], buf[32];
	size_t	 i;

	for (i = 0; i < u->nlabels; i++)
		json_object_set_new(l, u->labels[i].key,
		    json_string(u->labels[i].value));
	unit_spec_hash(u, hash);
	json_object_set_new(l, LABEL_STACK, json_string(st->name));
	json_object_set_new(l, LABEL_SERVICE, json_string(u->name));
	snprintf(buf, sizeof buf, "%d", replica);
	json_object_set_new(l, LABEL_REPLICA, json_string(buf));
	snprintf(buf, sizeof buf, "%d", revision);
	json_object_set_new(l, LABEL_REVISION, json_string(buf));
	json_object_set_new(l, LABEL_HASH, json_string(hash));
	return l;
}

static void
add_ports(const struct unit *u, json_t *cfg, json_t *host)
{
	json_t	*exposed = json_object(), *bind = json_object();
	char	 key[32], hp[16];
	size_t	 i;

	for (i = 0; i < u->nports; i++) {
		const struct unit_port *p = &u->ports[i];
		json_t *list;

		snprintf(key, sizeof key, "%d/%s", p->container_port,
		    p->proto);
		json_object_set_new(exposed, key, json_object());
		if (p->host_port == 0)
			continue;
		if ((list = json_object_get(bind, key)) == NULL) {
			list = json_array();
			json_object_set_new(bind, key, list);
		}
		snprintf(hp, sizeof hp, "%d", p->host_port);
		json_array_append_new(list, json_pack("{s:s, s:s}",
		    "HostIp", p->host_ip ? p->host_ip : "",
		    "HostPort", hp));
	}
	json_object_set_new(cfg, "ExposedPorts", exposed);
	json_object_set_new(host, "PortBindings", bind);
}

static json_t *
mounts(const struct stack *st, const struct unit *u)
{
	json_t	*m = json_array();
	size_t	 i;

	for (i = 0; i < u->nmounts; i++) {
		const struct unit_mount *mt = &u->mounts[i];
		char *src = mt->kind == MOUNT_VOLUME ?
		    spec_volume_name(st->name, mt->source) :
		    xstrdup(mt->source);

		json_array_append_new(m, json_pack("{s:s, s:s, s:s, s:b}",
		    "Type", mt->kind == MOUNT_VOLUME ? "volume" : "bind",
		    "Source", src, "Target", mt->target, "ReadOnly", mt->ro));
		free(src);
	}
	return m;
}

/* stack.yaml may list default itself: it is the stack's own, once. */
static bool
extra(const char *net)
{
	return strcmp(net, "default") != 0;
}

size_t
spec_nets(const struct stack *st, const struct unit *u)
{
	size_t i, n = 1;

	if (u->host_network)
		return 0;
	if (u->nnetworks > 0)
		return u->nnetworks;
	for (i = 0; i < st->nnetworks; i++)
		if (extra(st->networks[i]))
			n++;
	return n;
}

const char *
spec_net(const struct stack *st, const struct unit *u, size_t i)
{
	size_t j;

	if (u->nnetworks > 0)
		return u->networks[i].name;
	if (i == 0)
		return "default";
	for (j = 0; j < st->nnetworks; j++)
		if (extra(st->networks[j]) && --i == 0)
			return st->networks[j];
	return "default";	/* i out of range: not reached */
}

/* Every replica answers to the service name on the stack's networks,
 * so the engine's DNS spreads clients over whichever replicas run. */
static json_t *
endpoints(const struct stack *st, const struct unit *u, bool aliased,
    bool all_nets)
{
	json_t	*eps = json_object();
	size_t	 i, n = all_nets ? spec_nets(st, u) : 1;
	char	*net;

	for (i = 0; i < n; i++) {
		net = spec_network_name(st->name, spec_net(st, u, i));
		json_object_set_new(eps, net, aliased ? json_pack("{s:[s]}",
		    "Aliases", u->name) : json_object());
		free(net);
	}
	return json_pack("{s:o}", "EndpointsConfig", eps);
}

/* The keys that change what the container may do on the host. */
static void
host_keys(const struct unit *u, json_t *host)
{
	const struct unit_device	*d;
	json_t				*a;
	size_t				 i;

	if (u->privileged)
		json_object_set_new(host, "Privileged", json_true());
	if (u->host_pid)
		json_object_set_new(host, "PidMode", json_string("host"));
	if (u->ndevices > 0) {
		a = json_array();
		for (i = 0; i < u->ndevices; i++) {
			d = &u->devices[i];
			json_array_append_new(a, json_pack("{s:s, s:s, s:s}",
			    "PathOnHost", d->host, "PathInContainer",
			    d->container, "CgroupPermissions", d->perms));
		}
		json_object_set_new(host, "Devices", a);
	}
	if (u->cap_add != NULL)
		json_object_set_new(host, "CapAdd", argv_json(u->cap_add));
	if (u->cap_drop != NULL)
		json_object_set_new(host, "CapDrop", argv_json(u->cap_drop));
}

json_t *
spec_container(const struct stack *st, const struct unit *u, int replica,
    int revision, bool aliased, bool all_nets)
{
	json_t	*c, *host, *hc, *env;
	char	*net, *hostname;
	size_t	 i;

	c = json_pack("{s:s, s:o}", "Image", u->image, "Labels",
	    labels(st, u, replica, revision));
	host = json_object();
	if (u->command != NULL)
		json_object_set_new(c, "Cmd", argv_json(u->command));
	if (u->entrypoint != NULL)
		json_object_set_new(c, "Entrypoint", argv_json(u->entrypoint));
	env = json_array();
	for (i = 0; i < u->nenv; i++) {
		char *kv;

		xasprintf(&kv, "%s=%s", u->env[i].key, u->env[i].value);
		json_array_append_new(env, json_string(kv));
		free(kv);
	}
	json_object_set_new(c, "Env", env);
	if ((hc = healthcheck(&u->health)) != NULL)
		json_object_set_new(c, "Healthcheck", hc);
	if (u->user != NULL)
		json_object_set_new(c, "User", json_string(u->user));
	if (u->working_dir != NULL)
		json_object_set_new(c, "WorkingDir",
		    json_string(u->working_dir));
	if (u->stop_signal != NULL)
		json_object_set_new(c, "StopSignal",
		    json_string(u->stop_signal));
	json_object_set_new(c, "StopTimeout", json_integer(
	    (json_int_t)((u->stop_grace_ms + 999) / 1000)));
	/* On the host's network the container has the host's name. */
	if (u->host_network)
		;
	else if (u->hostname != NULL)
		json_object_set_new(c, "Hostname", json_string(u->hostname));
	else {
		xasprintf(&hostname, "%s-%d", u->name, replica);
		json_object_set_new(c, "Hostname", json_string(hostname));
		free(hostname);
	}
	if (u->extra_hosts != NULL)
		json_object_set_new(host, "ExtraHosts",
		    argv_json(u->extra_hosts));
	if (u->nsysctls > 0) {
		json_t *sc = json_object();

		for (i = 0; i < u->nsysctls; i++)
			json_object_set_new(sc, u->sysctls[i].key,
			    json_string(u->sysctls[i].value));
		json_object_set_new(host, "Sysctls", sc);
	}
	if (u->tmpfs != NULL) {
		json_t	*tf = json_object();
		char	*p, *colon;
		size_t	 k;

		for (k = 0; u->tmpfs[k] != NULL; k++) {
			p = xstrdup(u->tmpfs[k]);
			if ((colon = strchr(p, ':')) != NULL)
				*colon++ = '\0';
			json_object_set_new(tf, p, json_string(colon ? colon :
			    ""));
			free(p);
		}
		json_object_set_new(host, "Tmpfs", tf);
	}
	if (u->nulimits > 0) {
		json_t		*ul = json_array();
		long long	 soft, hard;

		for (i = 0; i < u->nulimits; i++) {
			/* unitcheck held it to the syntax */
			if (unit_ulimit_parse(u->ulimits[i].value, &soft,
			    &hard) != 0)
				continue;
			json_array_append_new(ul, json_pack("{s:s, s:I, s:I}",
			    "Name", u->ulimits[i].key, "Soft",
			    (json_int_t)soft, "Hard", (json_int_t)hard));
		}
		json_object_set_new(host, "Ulimits", ul);
	}
	add_ports(u, c, host);
	host_keys(u, host);

	json_object_set_new(host, "Mounts", mounts(st, u));
	json_object_set_new(host, "RestartPolicy", json_pack("{s:s, s:i}",
	    "Name", strcmp(u->restart, "no") == 0 ? "" : u->restart,
	    "MaximumRetryCount", u->restart_max));
	if (u->init)
		json_object_set_new(host, "Init", json_true());
	if (u->memory)
		json_object_set_new(host, "Memory",
		    json_integer((json_int_t)u->memory));
	if (u->nano_cpus)
		json_object_set_new(host, "NanoCpus",
		    json_integer(u->nano_cpus));
	json_object_set_new(c, "HostConfig", host);
	if (u->host_network) {
		json_object_set_new(host, "NetworkMode", json_string("host"));
		return c;
	}
	net = spec_network_name(st->name, spec_net(st, u, 0));
	json_object_set_new(host, "NetworkMode", json_string(net));
	free(net);
	json_object_set_new(c, "NetworkingConfig", endpoints(st, u, aliased,
	    all_nets));
	return c;
}

json_t *
spec_network(const char *stack, const char *name)
{
	char	*full = spec_network_name(stack, name);
	json_t	*n;

	n = json_pack("{s:s, s:s, s:b, s:{s:s}}", "Name", full, "Driver",
	    "bridge", "CheckDuplicate", 1, "Labels", LABEL_STACK, stack);
	free(full);
	return n;
}

bool
spec_network_matches(const json_t *spec, const json_t *have)
{
	const json_t	*want_labels, *have_labels, *v;
	const char	*key;

	if (!json_equal(json_object_get(spec, "Name"), json_object_get(have,
	    "Name")))
		return false;
	want_labels = json_object_get(spec, "Labels");
	have_labels = json_object_get(have, "Labels");
	json_object_foreach((json_t *)want_labels, key, v)
		if (!json_equal(v, json_object_get(have_labels, key)))
			return false;
	/* The rest (the driver, any option) as the engine reports it;
	 * CheckDuplicate is a request flag, not the network's. */
	json_object_foreach((json_t *)spec, key, v) {
		if (strcmp(key, "Name") == 0 || strcmp(key, "Labels") == 0 ||
		    strcmp(key, "CheckDuplicate") == 0)
			continue;
		if (!json_equal(v, json_object_get(have, key)))
			return false;
	}
	return true;
}

json_t *
spec_volume(const char *stack, const char *name)
{
	char	*full = spec_volume_name(stack, name);
	json_t	*v;

	v = json_pack("{s:s, s:{s:s}}", "Name", full, "Labels", LABEL_STACK,
	    stack);
	free(full);
	return v;
}

json_t *
spec_health_argv(char *const *test)
{
	if (test == NULL || test[0] == NULL)
		return NULL;
	if (strcmp(test[0], "CMD") == 0)
		return argv_json(test + 1);
	if (strcmp(test[0], "CMD-SHELL") == 0 && test[1] != NULL)
		return json_pack("[s, s, s]", "/bin/sh", "-c", test[1]);
	return NULL;
}

int
spec_kept_revision(const char *name)
{
	const char	*r = strrchr(name, '-');
	char		*end;
	long		 v;

	if (r == NULL || r[1] != 'r' || r[2] < '0' || r[2] > '9')
		return 0;
	v = strtol(r + 2, &end, 10);
	return *end == '\0' && v > 0 && v < 1000000000 ? (int)v : 0;
}
