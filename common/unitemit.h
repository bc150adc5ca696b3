/*
 * A loaded stack written back in the unit-file format (docs/units.md):
 * one YAML document per service and one for stack.yaml, every default
 * written out and every value escaped so that loading them gives the same
 * stack again (the same unit_spec_hash for every unit).  `shipctl config`
 * prints them; a directory of them can be written for a converter.
 */
#ifndef SHIPD_UNITEMIT_H
#define SHIPD_UNITEMIT_H

#include "unit.h"
#include "util.h"

/* One service's file, appended to out.  0, or -ENOMEM / -EINVAL when
 * libyaml's emitter failed (*err says why; caller frees). */
int	unit_emit_yaml(const struct unit *, struct buf *out, char **err);
/* stack.yaml: name, networks, volumes, retain. */
int	stack_emit_yaml(const struct stack *, struct buf *out, char **err);
/*
 * Write stack.yaml and <service>.yaml for every unit into dir (made if
 * missing), each file atomically.  Blocking: for shipctl, not the loop.
 * 0 or -errno, with *err naming the file.
 */
int	stack_write_dir(const struct stack *, const char *dir, char **err);

#endif
