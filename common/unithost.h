/*
 * Internals of the unit keys that change what runs on the host
 * (unithost.c): privileged, network_mode, pid, devices, cap_add, cap_drop.
 * Shared by the YAML and JSON halves of the unit loader; not for others.
 */
#ifndef SHIPD_UNITHOST_H
#define SHIPD_UNITHOST_H

#include <jansson.h>

#include "jread.h"
#include "unit.h"
#include "ytree.h"

/* The unit-file keys (obj is a struct uctx). */
void	unit_yaml_privileged(struct yctx *, const char *, const struct ynode *,
	    void *);
void	unit_yaml_network_mode(struct yctx *, const char *,
	    const struct ynode *, void *);
void	unit_yaml_pid(struct yctx *, const char *, const struct ynode *,
	    void *);
void	unit_yaml_devices(struct yctx *, const char *, const struct ynode *,
	    void *);
void	unit_yaml_cap_add(struct yctx *, const char *, const struct ynode *,
	    void *);
void	unit_yaml_cap_drop(struct yctx *, const char *, const struct ynode *,
	    void *);

/* The JSON members these keys add to an object, each only when set. */
#define UNIT_HOST_JSON_KEYS \
	"privileged", "network_mode", "pid", "devices", "cap_add", "cap_drop"
void	unit_host_json(const struct unit *, json_t *obj);
void	unit_host_from_json(struct jread *, const char *path, const json_t *,
	    struct unit *);

#endif
