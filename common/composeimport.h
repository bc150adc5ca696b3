/*
 * `shipctl import compose`: a compose project's stack written as a unit
 * directory.  The mapping is compose_to_stack()'s and the writer is
 * stack_write_dir()'s; what is here is where the paths point from the
 * new directory, and the check that the written units load back to the
 * same services.
 */
#ifndef SHIPD_COMPOSEIMPORT_H
#define SHIPD_COMPOSEIMPORT_H

struct stack;

/*
 * The path from directory from to path to, both absolute and clean:
 * "." or "./a/b" when to is from or under it, else "../..." .  Caller
 * frees.
 */
char	*path_relative(const char *from, const char *to);

/*
 * Point the stack's host paths (bind sources, secrets and configs, build
 * contexts) from a unit directory at outdir.  When outdir is inside the
 * project directory projdir's parent (projdir/units, or a sibling of
 * projdir), a path inside projdir becomes relative to outdir, so the
 * units move together with the project; any other path, and every path
 * when outdir is elsewhere, stays absolute.  Both
 * directories must exist (their real paths are compared).  0 or -errno.
 */
int	compose_import_paths(struct stack *, const char *projdir,
	    const char *outdir);

/*
 * Whether the unit directory dir loads to the services of s, each with
 * the spec hash in hashes (hashes[i] is s->units[i]'s unit_spec_hash,
 * taken before compose_import_paths changed its paths): 0, or -EINVAL
 * with *err naming the first difference (caller frees).
 */
int	compose_import_verify(const struct stack *s, char (*hashes)[65],
	    const char *dir, char *const *envp, char **err);

#endif
