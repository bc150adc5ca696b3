/*
 * The rules a decoded unit and stack must satisfy, written once for every
 * form one arrives in: unit files (unityaml.c, unitstack.c), the JSON that
 * shipctl sends and shipd stores (unitjson.c), and a later scale.
 */
#ifndef SHIPD_UNITCHECK_H
#define SHIPD_UNITCHECK_H

#include <stdbool.h>
#include <stddef.h>

#include "diag.h"
#include "unit.h"

/* What a rule complains about: a field, and for lists which item. */
enum unit_field {
	UF_UNIT,		/* the service as a whole */
	UF_NAME,
	UF_IMAGE,
	UF_ENV,			/* item: u->env[i] */
	UF_LABEL,		/* item: u->labels[i] */
	UF_PORT,		/* item: u->ports[i] */
	UF_MOUNT,		/* item: u->mounts[i] */
	UF_DEP,			/* item: u->deps[i] */
	UF_UNIT_NET,		/* item: u->networks[i] */
	UF_HEALTH_PATH,
	UF_REPLICAS,
	UF_ORDER,		/* update.order */
	UF_RESTART,
	UF_STOP_SIGNAL,
	UF_MEMORY,
	UF_CPUS,
	UF_WORKING_DIR,
	UF_HOSTNAME,
	UF_EXTRA_HOST,		/* item: u->extra_hosts[i] */
	UF_SYSCTL,		/* item: u->sysctls[i] */
	UF_TMPFS,		/* item: u->tmpfs[i] */
	UF_ULIMIT,		/* item: u->ulimits[i] */
	UF_BACKUP_PATH,		/* item: u->backup.paths[i] */
	UF_PRIVILEGED,
	UF_NETWORK_MODE,
	UF_PID,
	UF_DEVICE,		/* item: u->devices[i] */
	UF_CAP_ADD,		/* item: u->cap_add[i] */
	UF_CAP_DROP,		/* item: u->cap_drop[i] */
	UF_AUTOSCALE,
	UF_STACK_NAME,
	UF_STACK_DIR,
	UF_NETWORK,		/* item: s->networks[i] */
	UF_VOLUME,		/* item: s->volumes[i] */
	UF_N
};

#define UNIT_AT_PATH	256

/* Where a field came from, for the message: "file:line:col: path: ...". */
struct unit_at {
	const char	*file;		/* NULL: none */
	int		 line;		/* 0: unknown */
	int		 col;
	/* The form wrote the field, so a zero in it is a value rather than
	 * "unset" (memory: 0 in a file is a limit, and too low). */
	bool		 given;
	char		 path[UNIT_AT_PATH];	/* "": the message alone */
};

/*
 * Each decoder says where fields came from.  at is called with the
 * default filled in (no file, the field's name in unit files, e.g.
 * "ports[1]") and may change any of it.  A NULL where keeps the default.
 */
struct unit_where {
	void	(*at)(void *arg, enum unit_field, size_t item,
		    struct unit_at *);
	void	*arg;
};

/*
 * Where a form with lines (unit files) saw each field: mark items in the
 * order they are added to the unit, then validate through
 * unit_marks_where().  A marked field is given.
 */
struct unit_mark {
	const char *file;	/* NULL: the marks' file */
	int	 line;
	int	 col;
	char	*path;
};

struct unit_marks {
	const char		*file;
	struct unit_mark	*v[UF_N];	/* v[f][i]: item i of field f */
	size_t			 n[UF_N];
};

/* file: where the value came from (an environment's overlay), or NULL
 * for the marks' own file. */
void	 unit_mark(struct unit_marks *, enum unit_field, const char *file,
	    int line, int col, const char *fmt, ...)
	    __attribute__((format(printf, 6, 7)));
void	 unit_marks_where(struct unit_marks *, struct unit_where *);
void	 unit_marks_free(struct unit_marks *);

/* The field's path in JSON under the object at obj: "stack.units.api"
 * and UF_MOUNT give "stack.units.api.mounts[item]". */
void	 unit_field_json(char *, size_t, const char *obj, enum unit_field,
	    size_t item);

/* Fields of a unit that decoded; a field it could not read is left at its
 * default, so nothing here reports it again. */
void	 unit_validate(const struct unit *, const struct unit_where *,
	    struct diag_list *);
/* The stack's own fields: name, dir, networks, volumes. */
void	 stack_validate(const struct stack *, const struct unit_where *,
	    struct diag_list *);
/* What spans units, on a finished (sorted) stack: one name per service,
 * completed dependencies, declared volumes and networks, host ports.
 * Messages name the unit's file. */
void	 stack_validate_units(const struct stack *, struct diag_list *);

/* Single rules the short-syntax parsers (unityaml.c) and the dir loader
 * apply as they go: NULL, or what is wrong (caller frees). */
char	*unit_name_problem(const char *);
/* An image reference, NAME[:TAG][@DIGEST], as the engine parses it
 * (imageref.c). */
char	*unit_image_problem(const char *);
char	*unit_port_problem(const struct unit_port *);
char	*unit_mount_problem(const struct unit_mount *);

/*
 * Shared by the rule files (unitcheck.c, stackcheck.c, unitscale.c), not
 * for others: report at field f of w; whether the form wrote f; and the
 * rules a count of u's replicas must pass on its own (range, host ports),
 * reported at replicas.
 */
void	 unit_report(const struct unit_where *, struct diag_list *,
	    enum unit_field, size_t item, const char *fmt, ...)
	    __attribute__((format(printf, 5, 6)));
bool	 unit_given(const struct unit_where *, enum unit_field);
void	 unit_check_count(const struct unit *, int n,
	    const struct unit_where *, struct diag_list *);

/* Shared by a reader's syntax message and the range rule. */
#define UNIT_CPUS_WANT	"a number of CPUs from 0.01 to 4096"

#endif
