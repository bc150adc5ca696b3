/*
 * The unit-file model: a stack (a directory of <service>.yaml files plus an
 * optional stack.yaml and .env) loaded, expanded and validated into plain
 * structs, and its JSON form as shipctl sends it to shipd.  docs/units.md is
 * the reference for the file format.
 */
#ifndef SHIPD_UNIT_H
#define SHIPD_UNIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "diag.h"

/* graph.h carries the same guarded definition; keep the two identical. */
#ifndef SHIPD_DEP_COND_DEFINED
#define SHIPD_DEP_COND_DEFINED
enum dep_cond { DEP_STARTED = 1, DEP_HEALTHY = 2, DEP_COMPLETED = 4 };
#endif

/* Longest name of a service, stack, volume or network. */
#define UNIT_NAME_MAX		63
#define UNIT_REPLICAS_MIN	0
#define UNIT_REPLICAS_MAX	1000
#define UNIT_RETAIN_MIN		0
#define UNIT_RETAIN_MAX		100
#define UNIT_FILE_MAX		(1024 * 1024)	/* bytes per unit or env file */
/* Bounds that keep the loader's duplicate checks, which scan the entries
 * before each one, cheap on any input (docs/units.md). */
#define UNIT_KV_MAX		4096	/* environment (or labels) per service */
#define UNIT_SERVICES_MAX	1000	/* services per stack */
#define UNIT_MEMORY_MIN		(6ULL * 1024 * 1024)	/* the engine's floor */
#define UNIT_NANO_CPUS_MIN	10000000LL		/* 0.01 CPU */
#define UNIT_NANO_CPUS_MAX	4096000000000LL		/* 4096 CPUs */
#define UNIT_LABEL_RESERVED	"io.shipd."

struct unit_kv {
	char	*key;
	char	*value;
};
/* Append key and value (both taken); whether v[0..n) holds key; qsort's
 * order by key. */
void	unit_kv_push(struct unit_kv **, size_t *, char *key, char *value);
bool	unit_kv_has(const struct unit_kv *, size_t, const char *key);
int	unit_kv_cmp(const void *, const void *);

struct unit_port {
	char	*host_ip;	/* NULL: every address; needs host_port */
	int	 host_port;	/* 0: exposed to the stack only */
	int	 container_port;
	char	 proto[4];	/* "tcp" or "udp" */
};

enum unit_mount_kind { MOUNT_VOLUME, MOUNT_BIND };

struct unit_mount {
	int	 kind;		/* enum unit_mount_kind */
	char	*source;	/* volume name, or absolute host path */
	char	*target;	/* absolute container path */
	bool	 ro;
};

struct unit_dep {
	char		*name;
	enum dep_cond	 cond;
	bool		 restart;	/* compose's restart: true: restarted
					   after the dependency is healed */
	int		 line;	/* of the entry in its file; 0: unknown */
	int		 col;
};

/* A network of the stack the service is on: "default" or one of
 * stack.yaml's networks. */
struct unit_net {
	char		*name;
	int		 line;	/* of the entry in its file; 0: unknown */
	int		 col;
};

/* A host device in the container: devices: ["/dev/x[:/dev/y][:rwm]"]. */
struct unit_device {
	char	*host;		/* absolute path on the host */
	char	*container;	/* absolute path inside; the host's if unset */
	char	 perms[4];	/* cgroup permissions, some of "rwm" */
};

enum unit_health_kind {
	HEALTH_IMAGE = 0,	/* unset: the image's HEALTHCHECK, if any */
	HEALTH_DISABLED,	/* test: [NONE] */
	HEALTH_CMD,		/* test: [CMD, ...] or [CMD-SHELL, "..."] */
	HEALTH_HTTP,
	HEALTH_TCP,
};

struct unit_health {
	enum unit_health_kind kind;
	char		**test;		/* HEALTH_CMD: CMD or CMD-SHELL, args */
	char		 *http_path;	/* HEALTH_HTTP: starts with '/' */
	int		  port;		/* HEALTH_HTTP, HEALTH_TCP */
	/* For HEALTH_IMAGE, 0 in interval/timeout/start_period/retries means
	 * "the image's own value"; all zero for HEALTH_DISABLED. */
	uint64_t	  interval_ms;
	uint64_t	  timeout_ms;
	uint64_t	  start_period_ms;
	uint64_t	  start_interval_ms;
	int		  retries;
};

enum unit_update_order { UPDATE_STOP_FIRST, UPDATE_START_FIRST };
enum unit_update_failure { UPDATE_ROLLBACK, UPDATE_PAUSE };

struct unit_update {
	enum unit_update_order	 order;
	int			 parallelism;
	uint64_t		 healthy_deadline_ms;
	uint64_t		 monitor_ms;
	/* Apply and verify of an operation must end within this (0: a bound
	 * shipd derives from the other knobs, docs/deploys.md). */
	uint64_t		 deadline_ms;
	enum unit_update_failure on_failure;
};

struct unit_backup {
	bool	  present;	/* false: no backup: key; the rest is zero */
	char	**paths;	/* absolute container paths, at least one */
	char	**pre;		/* argv run in the container before; or NULL */
	char	**post;		/* argv run after; or NULL */
	bool	  stop;		/* stop the service while copying */
	int	  keep;
	uint64_t  timeout_ms;	/* each hook's limit */
};

/*
 * build: an image made from a context directory on shipctl's host
 * (docs/units.md, "build").  shipctl reads the context; shipd never does.
 */
struct unit_build {
	bool		  present;	/* false: no build: key; rest zero */
	char		 *context;	/* absolute */
	char		 *dockerfile;	/* relative to the context */
	struct unit_kv	 *args;		/* sorted by key */
	size_t		  nargs;
	char		 *target;	/* NULL: the last stage */
	struct unit_kv	 *labels;	/* sorted by key */
	size_t		  nlabels;
	char		**cache_from;	/* or NULL */
};

/* pull_policy: when the image is pulled or built (docs/units.md). */
enum unit_pull_policy {
	PULL_MISSING = 0,	/* the default */
	PULL_ALWAYS,
	PULL_NEVER,
	PULL_BUILD,
};

/* The tag of a built image without image: "shipd/STACK-SERVICE:latest". */
#define UNIT_BUILD_REPO		"shipd/"
#define UNIT_BUILD_TAG		"latest"
/* The image label that holds a build's input hash. */
#define UNIT_BUILD_HASH_LABEL	"io.shipd.build-hash"

/*
 * autoscale: shipd sets the replica count between min and max from the
 * replicas' average CPU and memory use (docs/units.md, "autoscale";
 * docs/operations.md, "Autoscaling").  A policy bounds one direction's
 * change per period; given both bounds, the larger change is allowed, as
 * Kubernetes' selectPolicy: Max does.
 */
struct unit_scale_policy {
	int		 max_step;	/* replicas per period; 0: no such bound */
	int		 max_percent;	/* of the current count; 0: none */
	uint64_t	 every_ms;	/* the period */
};

struct unit_autoscale {
	bool			 present;	/* false: no autoscale:; rest 0 */
	int			 min;
	int			 max;
	/* Targets, in percent: CPU of the service's CPU limit (of one CPU
	 * without a limit), memory of its memory limit; 0: not a target. */
	int			 cpu;
	int			 memory;
	struct unit_scale_policy up;
	struct unit_scale_policy down;
	uint64_t		 window_ms;	/* averaged over */
	/* A scale-down acts on the highest count recommended over this. */
	uint64_t		 stabilization_ms;
};

#define UNIT_AUTOSCALE_CPU_MAX		1000	/* ten CPUs without a limit */
#define UNIT_AUTOSCALE_MEMORY_MAX	100
#define UNIT_AUTOSCALE_PERCENT_MAX	1000	/* a policy's max_percent */
#define UNIT_AUTOSCALE_EVERY_MIN_MS	1000
#define UNIT_AUTOSCALE_WINDOW_MIN_MS	1000
/* Kubernetes' HorizontalPodAutoscaler defaults. */
#define UNIT_AUTOSCALE_DEF_UP_STEP	4
#define UNIT_AUTOSCALE_DEF_UP_PERCENT	100
#define UNIT_AUTOSCALE_DEF_DOWN_PERCENT	100
#define UNIT_AUTOSCALE_DEF_EVERY_MS	15000
#define UNIT_AUTOSCALE_DEF_STAB_MS	(5 * 60 * 1000)
#define UNIT_AUTOSCALE_DEF_WINDOW_MS	30000

/*
 * One service.  Arrays of strings are argv-style (NULL-terminated) and NULL
 * when unset; an empty entrypoint ({ NULL }) clears the image's.  env and
 * labels are sorted by key, ports and mounts are in a canonical order, deps
 * are sorted by name: two units that mean the same thing compare equal.
 */
struct unit {
	char			 *name;
	char			 *file;		/* as loaded, or NULL */
	char			 *image;
	char			**command;
	char			**entrypoint;
	struct unit_kv		 *env;
	size_t			  nenv;
	struct unit_port	 *ports;
	size_t			  nports;
	struct unit_mount	 *mounts;
	size_t			  nmounts;
	struct unit_dep		 *deps;
	size_t			  ndeps;
	/* Sorted; none (the default): every network of the stack. */
	struct unit_net		 *networks;
	size_t			  nnetworks;
	struct unit_health	  health;
	int			  replicas;
	bool			  init;
	struct unit_update	  update;
	char			 *restart;	/* the engine's name for it */
	/* on_unhealthy: what shipd does with a replica that stays
	 * unhealthy (docs/operations.md, supervision). */
	enum unit_heal {
		HEAL_DEFAULT,	/* unset: restart, except one-shots */
		HEAL_RESTART,
		HEAL_NONE,
	}			  on_unhealthy;
	int			  restart_max;	/* on-failure retries; 0: any */
	uint64_t		  stop_grace_ms;
	char			 *stop_signal;	/* NULL: the image's */
	uint64_t		  memory;	/* bytes; 0: no limit */
	int64_t			  nano_cpus;	/* 0: no limit */
	struct unit_kv		 *labels;
	size_t			  nlabels;
	char			 *user;
	char			 *working_dir;
	char			 *hostname;	/* NULL: SERVICE-N */
	/* "HOST:IP" entries for /etc/hosts, in order; NULL: none. */
	char			**extra_hosts;
	/* Namespaced kernel settings, sorted by key; none: NULL, 0. */
	struct unit_kv		 *sysctls;
	size_t			  nsysctls;
	/* "PATH[:OPTIONS]" tmpfs mounts, in order; NULL: none. */
	char			**tmpfs;
	/* Resource limits: name ("nofile") to "N" or "SOFT:HARD", sorted. */
	struct unit_kv		 *ulimits;
	size_t			  nulimits;
	struct unit_backup	  backup;
	/*
	 * What changes what the container may do on the host (docs/units.md):
	 * the policy in shipd's configuration judges these at pre-flight.
	 * Unset, each is as before the key existed (and hashes so).
	 */
	bool			  privileged;
	bool			  host_network;	/* network_mode: host */
	bool			  host_pid;	/* pid: host */
	struct unit_device	 *devices;	/* sorted by container path */
	size_t			  ndevices;
	/* Capability names without CAP_, upper case, sorted; NULL: none. */
	char			**cap_add;
	char			**cap_drop;
	struct unit_build	  build;
	enum unit_pull_policy	  pull_policy;
	/* Left out of the spec hash, as replicas: a new bound never
	 * recreates a container. */
	struct unit_autoscale	  autoscale;
};

/*
 * notify: in stack.yaml, webhook targets (docs/units.md, "notify").  A
 * value is literal, or names a variable of shipd's own environment read
 * when the hook is sent (env), so that a secret stays out of revisions.
 */
enum notify_event {
	NOTIFY_DEPLOY_START = 0,
	NOTIFY_DEPLOY_SUCCESS,
	NOTIFY_DEPLOY_FAILURE,
	NOTIFY_ROLLBACK,
	NOTIFY_BACKUP_FAILURE,
	NOTIFY_CRASH_LOOP,
	NOTIFY_AUTOSCALE,
	NOTIFY_NEVENTS
};
#define NOTIFY_ALL		((1u << NOTIFY_NEVENTS) - 1)
#define NOTIFY_HOOKS_MAX	16
#define NOTIFY_HEADERS_MAX	32
#define NOTIFY_RETRIES_MAX	10
#define NOTIFY_DEF_RETRIES	3
#define NOTIFY_DEF_TIMEOUT_MS	5000
#define NOTIFY_TIMEOUT_MAX_MS	60000

struct notify_value {
	char	*value;		/* exactly one of value and env is set */
	char	*env;
};

struct notify_header {
	char			*name;
	struct notify_value	 v;
};

struct notify_hook {
	struct notify_value	 url;
	unsigned		 events;	/* 1 << enum notify_event */
	uint64_t		 timeout_ms;	/* each attempt's */
	int			 retries;	/* after the first attempt */
	struct notify_header	*headers;	/* in file order */
	size_t			 nheaders;
};

struct stack {
	char		 *name;
	char		 *dir;		/* absolute, or NULL if not sent */
	struct unit	**units;	/* sorted by name */
	size_t		  nunits;
	/* Extra networks, sorted; every stack also has <stack>_default. */
	char		**networks;
	size_t		  nnetworks;
	/* Named volumes, sorted: the declared ones and any a unit uses. */
	char		**volumes;
	size_t		  nvolumes;
	int		  retain;
	struct notify_hook *hooks;	/* notify:, in file order */
	size_t		  nhooks;
};

/*
 * Load the stack in dir.  envp is a NULL-terminated "K=V" array (pass
 * environ) that ${VAR} reads before .env.  Returns 0, -EINVAL with every
 * problem in errs, or -errno when a file could not be read (errs names it).
 */
int		 stack_load_dir(const char *dir, char *const *envp,
		    struct stack **out, struct diag_list *errs);
/* The same for environment env (NULL: none): ENV.env after .env, and
 * env/ENV/'s overlays merged over the unit files (docs/units.md,
 * Environments). */
int		 stack_load_dir_env(const char *dir, const char *env,
		    char *const *envp, struct stack **out,
		    struct diag_list *errs);
void		 stack_free(struct stack *);
/* unitnotify.c: the event's name ("deploy_start"), or -1 / NULL. */
const char	*notify_event_name(enum notify_event);
int		 notify_event_parse(const char *);
void		 notify_hooks_free(struct notify_hook *, size_t);
void		 unit_free(struct unit *);
/* The service called name, or NULL. */
const struct unit *stack_unit(const struct stack *, const char *name);
/*
 * Whether u, a service of s, may run n replicas, by every rule the unit
 * files are held to that a count takes part in: its own (the range, host
 * ports) and the stack's (a completed dependency on it needs exactly
 * one).  What `scale` asks.  0, or -EINVAL with the rules' messages in
 * errs: "replicas: ..." for its own, "file:line:col: depends_on: ..." of
 * the dependent for the stack's.
 */
int		 unit_check_replicas(const struct stack *, const struct unit *,
		    int n, struct diag_list *errs);

/* The resolved stack with every default explicit; shipctl sends this. */
json_t		*stack_to_json(const struct stack *);
/* Strict inverse: any shape is safe to pass; -EINVAL with errs filled. */
int		 stack_from_json(const json_t *, struct stack **out,
		    struct diag_list *errs);
/*
 * What a container is made from: image, command, entrypoint, environment,
 * ports, mounts, health, init, restart, stop_grace, stop_signal,
 * resources, labels, user, working_dir, networks (only when the unit
 * names some, so a unit without them hashes as it always did), and
 * hostname, extra_hosts, sysctls, tmpfs, ulimits, privileged,
 * network_mode, pid, devices, cap_add, cap_drop (each only when set, for
 * the same reason).  Left out on purpose, since
 * changing them must not recreate containers: name, file, replicas,
 * depends_on, update, backup, autoscale.
 */
json_t		*unit_spec_json(const struct unit *);
/* Hex sha256 of the compact, key-sorted dump of unit_spec_json(). */
void		 unit_spec_hash(const struct unit *, char out[65]);

/* Names of enum values as they appear in files and JSON; NULL if invalid. */
const char	*unit_dep_cond_name(enum dep_cond);
const char	*unit_health_kind_name(enum unit_health_kind);
const char	*unit_mount_kind_name(int);
const char	*unit_update_order_name(enum unit_update_order);
const char	*unit_update_failure_name(enum unit_update_failure);
const char	*unit_pull_policy_name(enum unit_pull_policy);
int		 unit_pull_policy_parse(const char *, enum unit_pull_policy *);
/* The unit's build: as JSON (null when none), and its inverse, which
 * leaves b zeroed when v is null; 0 or -EINVAL with errs filled. */
json_t		*unit_build_json(const struct unit_build *);
void		 unit_build_free(struct unit_build *);
struct jread;
void		 unit_build_from_json(struct jread *, const char *path,
		    const json_t *unit, struct unit *);
/* The unit's autoscale: as JSON (NULL when none: the member is left
 * out), and its inverse for the member if present (unitscale.c). */
json_t		*unit_autoscale_json(const struct unit_autoscale *);
void		 unit_autoscale_from_json(struct jread *, const char *path,
		    const json_t *unit, struct unit *);
/* v[0..n) as a JSON object of strings. */
json_t		*unit_kv_json(const struct unit_kv *, size_t);
/* An object of strings at o's member key, appended to out; a key that
 * check (if any) finds a problem with is reported, and left out. */
void		 unit_kv_from_json(struct jread *, const char *path,
		    const json_t *o, const char *key,
		    const char *(*check)(const char *), struct unit_kv **,
		    size_t *);
/* Fill in image for a unit with build: and no image: (the stack's tag). */
void		 stack_build_tags(struct stack *);

/*
 * Shared by the YAML and JSON halves so both accept exactly the same
 * values.  Parsers return 0 or -EINVAL; predicates return true if valid.
 */
int		 unit_dep_cond_parse(const char *, enum dep_cond *);
int		 unit_health_kind_parse(const char *, enum unit_health_kind *);
int		 unit_mount_kind_parse(const char *, int *);
int		 unit_update_order_parse(const char *,
		    enum unit_update_order *);
int		 unit_update_failure_parse(const char *,
		    enum unit_update_failure *);
/* "no", "always", "unless-stopped", "on-failure[:N]"; *name is allocated. */
/* "restart", "none" (NULL for HEAL_DEFAULT); parse: 0 or -1. */
const char	*unit_heal_name(enum unit_heal);
int		 unit_heal_parse(const char *, enum unit_heal *);
int		 unit_restart_parse(const char *, char **name, int *max);
bool		 unit_restart_valid(const char *name, int max);
bool		 unit_name_valid(const char *);		/* services */
bool		 stack_name_valid(const char *);
bool		 unit_volume_name_valid(const char *);	/* volumes, networks */
bool		 unit_env_key_valid(const char *);
bool		 unit_signal_valid(const char *);
bool		 unit_abs_path_valid(const char *);
bool		 unit_ip_valid(const char *);
bool		 unit_hostname_valid(const char *);	/* one DNS label */
/* "HOST:IP" for /etc/hosts. */
bool		 unit_extra_host_valid(const char *);
bool		 unit_sysctl_key_valid(const char *);	/* net.core.x */
/* "/path" or "/path:size=64m,mode=1777". */
bool		 unit_tmpfs_valid(const char *);
/* A limit the kernel knows ("nofile", "nproc", ...). */
bool		 unit_ulimit_name_valid(const char *);
/* "N" or "SOFT:HARD", -1 for unlimited, soft at most hard: 0 or -EINVAL. */
int		 unit_ulimit_parse(const char *, long long *soft,
		    long long *hard);
bool		 unit_proto_valid(const char *);	/* "tcp", "udp" */
int		 unit_port_number(const char *, int *);	/* "1".."65535" */
/* [CMD, arg, ...] or [CMD-SHELL, "command"]. */
bool		 unit_health_test_valid(char *const *);
/* Short syntax: "[IP:][HOST:]CONTAINER[/tcp|/udp]" and
 * "SOURCE:TARGET[:ro|:rw]" with relative bind sources made absolute under
 * dir (unityaml.c).  Return NULL, or what is wrong (caller frees). */
char		*unit_port_parse(const char *, struct unit_port *);
char		*unit_mount_parse(const char *, const char *dir,
		    struct unit_mount *);

/* A capability as a unit names it, "NET_ADMIN", "cap_net_admin" or
 * "ALL": the canonical name (upper case, no CAP_; caller frees) or NULL. */
char		*unit_cap_canon(const char *);
/* "/dev/x[:/dev/y][:rwm]": NULL, or what is wrong (caller frees). */
char		*unit_device_parse(const char *, struct unit_device *);

/* What to say of an unknown unit key compose's files have (at path:
 * NULL for the top level, "health", "update"), or NULL. */
const char	*unit_compose_hint(const char *path, const char *key);

/* Loader internals, shared by common/unit*.c; not for other callers. */
#define UNIT_DEF_INTERVAL_MS		5000	/* explicit checks only */
#define UNIT_DEF_TIMEOUT_MS		3000
#define UNIT_DEF_RETRIES		3
#define UNIT_DEF_START_INTERVAL_MS	100
#define UNIT_DEF_DEADLINE_MS		60000
#define UNIT_DEF_STOP_GRACE_MS		10000
#define UNIT_DEF_RETAIN			2
#define UNIT_DEF_BACKUP_KEEP		7
#define UNIT_DEF_BACKUP_TIMEOUT_MS	(10 * 60 * 1000)
#define UNIT_PARALLELISM_MIN		1
#define UNIT_PARALLELISM_MAX		UNIT_REPLICAS_MAX
#define UNIT_RETRIES_MIN		1	/* of a check shipd sets */
#define UNIT_RETRIES_MAX		1000
#define UNIT_KEEP_MIN			1
#define UNIT_KEEP_MAX			1000
#define UNIT_PORT_MAX			65535

struct expand_ctx;
void		 unit_defaults(struct unit *);
void		 unit_sort(struct unit *);
struct stack	*stack_new(void);
/* Sort the units and names, declare the volumes units use if
 * declare_volumes (unit files need not), and check what spans units
 * (stack_validate_units). */
void		 stack_finish(struct stack *, bool declare_volumes,
		    struct diag_list *);
/* One unit file: 0 with *out set, -EINVAL (reported) or -errno. */
int		 unit_yaml_load(const char *path, const char *name,
		    const char *dir, const struct expand_ctx *, struct unit **,
		    struct diag_list *);
/* The same from a parsed tree (consumed): a unit file with an
 * environment's overlay merged over it (unitenv.c).  Each node names its
 * own file; path is the unit's file. */
struct ynode;
int		 unit_yaml_decode(const char *path, const char *name,
		    const char *dir, const struct expand_ctx *, struct ynode *,
		    struct unit **, struct diag_list *);

#endif
