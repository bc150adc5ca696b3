/*
 * shipd's configuration file (shipd -c FILE, default
 * SHIPD_DEFAULT_CONFIG): read once at start with the ytree reader, every
 * problem reported as file:line:col, and shipd refuses to start on a bad
 * file.  Its sections: policy, what units may ask of the host
 * (docs/operations.md, "Who may do what"), and metrics (listen: ADDR,
 * as --metrics-listen).
 */
#ifndef SHIPD_CONFIG_H
#define SHIPD_CONFIG_H

#include <stdbool.h>

#include "diag.h"

#define SHIPD_DEFAULT_CONFIG	"/etc/shipd/shipd.yaml"
#define CONFIG_FILE_MAX		(256 * 1024)

/*
 * Without a policy: section nothing is restricted (shipd before the
 * policy existed).  With one, it is an allow list: what it does not
 * allow is refused, so a key left out is the strict value.
 */
struct shipd_policy {
	bool	  set;		/* a policy: section was read */
	char	**bind_roots;	/* resolved absolute paths; NULL: none */
	bool	  privileged;
	bool	  host_network;
	bool	  host_pid;
	bool	  devices;
	char	**cap_add;	/* canonical names (ALL: any); NULL: none */
};

struct shipd_conf {
	char			*path;	/* the file read, or NULL: none */
	struct shipd_policy	 policy;
	char			*metrics_listen;	/* metrics: listen:, or
							   NULL */
};

/*
 * Read path into conf.  A missing file is the defaults, unless
 * must_exist (the operator named it).  0, -EINVAL with every problem in
 * errs, or -errno (named in errs).
 */
int	config_load(const char *path, bool must_exist, struct shipd_conf *,
	    struct diag_list *errs);
void	config_free(struct shipd_conf *);
/* The policy in words, one line, for the log and --check-config. */
char	*config_policy_text(const struct shipd_policy *);

#endif
