/*
 * Strict readers for JSON that comes from a peer: each field of an object
 * checked for presence, type and range, every problem reported with its
 * path ("stack.units.api.replicas: ...") into a diag_list, any input shape
 * safe to pass.
 */
#ifndef SHIPD_JREAD_H
#define SHIPD_JREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "diag.h"

#define JREAD_PATH	256	/* longer paths are cut in messages */
#define JREAD_NULL	0x1	/* null is allowed (and means unset) */
#define JREAD_NONEMPTY	0x2	/* "" or [] is not */

struct jread {
	struct diag_list	*errs;
};

void		 jread_err(struct jread *, const char *path, const char *fmt,
		    ...) __attribute__((format(printf, 3, 4)));
void		 jread_path(char *out, size_t len, const char *fmt, ...)
		    __attribute__((format(printf, 3, 4)));
const char	*jread_kind(const json_t *);	/* "an object", "null" ... */
/* v must be an object holding exactly these fields: unknown and missing
 * ones are reported.  False if v is not an object at all. */
bool		 jread_obj(struct jread *, const char *path, const json_t *v,
		    const char *const *fields, size_t n);
/* As jread_obj, and the fields in opt may be there or not (one added
 * later, which what was recorded before lacks). */
bool		 jread_obj_opt(struct jread *, const char *path,
		    const json_t *v, const char *const *fields, size_t n,
		    const char *const *opt, size_t nopt);
/* o's field key, or NULL if absent; sub gets "path.key" (JREAD_PATH). */
const json_t	*jread_field(const char *path, const json_t *o,
		    const char *key, char *sub);
bool		 jread_string_ok(struct jread *, const char *path,
		    const json_t *);			/* a string, no NUL */

/*
 * Field readers: false (reported, or absent and so reported by
 * jread_obj) leaves *out NULL / untouched.
 */
bool		 jread_str(struct jread *, const char *path, const json_t *o,
		    const char *key, int flags, char **out);
bool		 jread_int(struct jread *, const char *path, const json_t *o,
		    const char *key, json_int_t min, json_int_t max,
		    json_int_t *out);
void		 jread_int_i(struct jread *, const char *path,
		    const json_t *o, const char *key, int min, int max,
		    int *out);
/* Milliseconds that fit an int64 of nanoseconds. */
void		 jread_ms(struct jread *, const char *path, const json_t *o,
		    const char *key, uint64_t min, uint64_t *out);
void		 jread_bool(struct jread *, const char *path, const json_t *o,
		    const char *key, bool *out);
/* An array of strings as a NULL-terminated vector. */
void		 jread_strv(struct jread *, const char *path, const json_t *o,
		    const char *key, int flags, char ***out);

#endif
