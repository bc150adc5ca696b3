/*
 * libyaml's emitter writing into a buf: the plumbing that every YAML
 * writer shares (the unit files, common/unitemit.c; shipctl export,
 * cli/export_yaml.c).  Events go through yemit_ev, which keeps the first
 * failure and drops what follows it, so a writer emits its whole document
 * and looks at the outcome once, in yemit_finish.
 */
#ifndef SHIPD_YEMIT_H
#define SHIPD_YEMIT_H

#include <stdbool.h>
#include <stdint.h>

#include <yaml.h>

#include "util.h"

struct yemit {
	yaml_emitter_t	 e;
	int		 rc;		/* the first failure: -ENOMEM, -EINVAL */
};

/* Set up y to append UTF-8 YAML to out, lines folded at width (-1:
 * never), and start the stream.  0, or -ENOMEM. */
int	yemit_init(struct yemit *, struct buf *out, int width);
/* Emit the event that ok says was initialised (0: its initialisation
 * failed). */
void	yemit_ev(struct yemit *, yaml_event_t *, int ok);
void	yemit_scalar(struct yemit *, const char *, yaml_scalar_style_t);
void	yemit_map(struct yemit *, bool flow);
void	yemit_map_end(struct yemit *);
void	yemit_seq(struct yemit *, bool flow);
void	yemit_seq_end(struct yemit *);
/* A document; implicit: without the "---" line. */
void	yemit_doc(struct yemit *, bool implicit);
void	yemit_doc_end(struct yemit *);
/* End the stream, flush and free the emitter.  0, or the first failure,
 * with *err (if err is not NULL) saying why; caller frees. */
int	yemit_finish(struct yemit *, char **err);

/*
 * Whether s may be written as a plain YAML scalar without a reader taking
 * it for a number, boolean or null: it starts with a letter or '/' and
 * holds only letters, digits, "_./-" and the characters in extra.  The
 * emitter still quotes what YAML's syntax needs quoted.
 */
bool	yaml_plain_ok(const char *s, const char *extra);

/* ms as the largest units that say it exactly: "1h", "1m30s", "250ms",
 * "0s". */
#define YAML_DURATION_MAX	64
void	yaml_duration(char *, size_t, uint64_t ms);

#endif
