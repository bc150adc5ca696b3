/*
 * Internals of compose_to_stack(), shared by its parts, each calling
 * only those below it: compose_map.c (the project: top-level sections
 * and the service loop), compose_svc.c (the table of service keys),
 * compose_run.c and compose_io.c (the keys of one service), and
 * compose_util.c (losses, lookups, paths, words).  Not for other callers.
 */
#ifndef SHIPD_COMPOSEMAP_H
#define SHIPD_COMPOSEMAP_H

#include "compose.h"
#include "unityaml.h"

/* The project being mapped. */
struct cmctx {
	const struct compose_project	*p;
	bool				 strict;
	struct stack			*s;
	struct diag_list		*warns;
	struct diag_list		*errs;
	const struct ynode		*services;	/* top-level maps, or */
	const struct ynode		*networks;	/* NULL when absent */
	const struct ynode		*volumes;
	const struct ynode		*secrets;
	const struct ynode		*configs;
};

/* One service: the unit decoder's context, so x-shipd can reuse the
 * unit file's own section decoders. */
struct csvc {
	struct uctx		 uc;
	struct cmctx		*m;
	const char		*name;
	const struct ynode	*networks_key;	/* networks: as written */
	int			 nanon;		/* anonymous volumes so far */
	const struct ynode	*healthcheck;	/* healthcheck: as written */
};

#define CSVC(obj)	((struct csvc *)(obj))

/* What shipd cannot honour: a warning, or with strict an error, at n. */
void	cm_loss(struct cmctx *, const struct ynode *, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* The value at key in map, or NULL. */
const struct ynode *cm_get(const struct ynode *map, const char *key);
/* Whether a top-level section (m->networks, ...) declares name. */
bool	cm_declared(const struct ynode *section, const char *name);
/* Path of a file named in the project: absolute as is, else under the
 * project directory, tidied.  Caller frees. */
char	*cm_path(const struct cmctx *, const char *);

/* Words of a command line as compose splits one (quotes and backslashes,
 * no shell): NULL-terminated, or NULL with *err set (caller frees). */
char	**cm_split_words(const char *, char **err);

/* One service's key: decode n (at path "services.NAME.KEY") into obj,
 * a struct csvc. */
struct cmkey {
	const char	*name;
	void		(*fn)(struct yctx *, const char *, const struct ynode *,
			    void *);
};

/* A service's x-shipd: key k, value n: the unit file's own sections. */
void	cm_service_shipd(struct csvc *, const struct ynode *k,
	    const struct ynode *n);

/* The table of service keys (compose_svc.c). */
extern const struct cmkey cm_service_keys[];
extern const size_t cm_nservice_keys;

/* Every key of map n (at path) not in keys (NULL-ended) is lost: why. */
void	cm_lost_others(struct yctx *, const char *path, const struct ynode *n,
	    void *obj, const char *const *keys, const char *why);

/* compose_run.c: depends_on, healthcheck, restart, deploy; cpus and
 * memory limits (deploy's, and the older cpus: and mem_limit:). */
void	cm_depends_on(struct yctx *, const char *, const struct ynode *,
	    void *);
void	cm_healthcheck(struct yctx *, const char *, const struct ynode *,
	    void *);
void	cm_deploy(struct yctx *, const char *, const struct ynode *, void *);
void	cm_cpus(struct yctx *, const char *, const struct ynode *, void *);
void	cm_memory(struct yctx *, const char *, const struct ynode *, void *);

/* compose_io.c: ports, expose, volumes, secrets and configs. */
void	cm_ports(struct yctx *, const char *, const struct ynode *, void *);
void	cm_expose(struct yctx *, const char *, const struct ynode *, void *);
void	cm_volumes(struct yctx *, const char *, const struct ynode *, void *);
void	cm_secrets(struct yctx *, const char *, const struct ynode *, void *);
void	cm_configs(struct yctx *, const char *, const struct ynode *, void *);
void	cm_tmpfs(struct yctx *, const char *, const struct ynode *, void *);
/* One tmpfs mount, "PATH[:OPTIONS]" (entry is taken), noted at at. */
void	cm_tmpfs_add(void *, const struct ynode *at, const char *path,
	    char *entry);

#endif
