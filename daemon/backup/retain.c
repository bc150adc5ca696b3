/*
 * Backup retention: which backups of a stack go once a new one is written.
 * Each backup has a class (manual, safety, deploy) recorded in its
 * manifest; each class keeps its own `keep` newest per service, so safety
 * and deploy backups never push out a manual one.  Backups that a kept
 * revision names, or that a restore is reading, are never removed.  The
 * choice itself is a pure function over the manifests (tested on its own);
 * backupfs.c runs it on the thread pool and removes what it returns.
 */
#include <stdio.h>
#include <string.h>

#include "backup/backup_int.h"
#include "core/shipd.h"
#include "state/revision.h"
#include "state/store.h"

static const char *const classes[] = { BACKUP_CLASS_MANUAL,
	BACKUP_CLASS_SAFETY, BACKUP_CLASS_DEPLOY };

const char *
backup_class_name(const char *s)
{
	size_t i;

	for (i = 0; s != NULL && i < sizeof classes / sizeof classes[0]; i++)
		if (strcmp(s, classes[i]) == 0)
			return classes[i];
	return NULL;
}

const char *
backup_class_of(const json_t *manifest)
{
	const char *c;

	if ((c = backup_class_name(json_string_value(json_object_get(manifest,
	    "class")))) != NULL)
		return c;
	/* Written before classes: the reason was the class already, and
	 * anything else counts as manual. */
	if ((c = backup_class_name(json_string_value(json_object_get(manifest,
	    "reason")))) != NULL)
		return c;
	return BACKUP_CLASS_MANUAL;
}

static bool
listed(const json_t *ids, const char *id)
{
	const json_t	*v;
	size_t		 i;

	json_array_foreach(ids, i, v)
		if (strcmp(json_string_value(v) ?: "", id) == 0)
			return true;
	return false;
}

json_t *
backup_retain_select(const json_t *backups, const json_t *keep, int dflt,
    const json_t *pinned)
{
	json_t		*gone = json_array(), *seen = json_object(), *b, *svc;
	json_t		*k;
	json_int_t	 count;
	const char	*id, *cls, *name;
	char		 key[512];
	size_t		 i, j;
	bool		 needed;

	/* Newest first, counting per class and service. */
	for (i = json_array_size(backups); i-- > 0;) {
		b = json_array_get(backups, i);
		id = json_string_value(json_object_get(b, "id")) ?: "";
		cls = backup_class_name(json_string_value(json_object_get(b,
		    "class"))) ?: BACKUP_CLASS_MANUAL;
		needed = pinned != NULL && listed(pinned, id);
		json_array_foreach(json_object_get(b, "services"), j, svc) {
			name = json_string_value(svc) ?: "";
			/* '\n' is in no class or service name. */
			snprintf(key, sizeof key, "%s\n%s", cls, name);
			count = json_integer_value(json_object_get(seen,
			    key)) + 1;
			json_object_set_new(seen, key, json_integer(count));
			k = json_object_get(keep, name);
			if (count <= (k ? json_integer_value(k) : dflt))
				needed = true;
		}
		if (!needed)
			json_array_insert_new(gone, 0, json_string(id));
	}
	json_decref(seen);
	return gone;
}

json_t *
backup_revision_pins(struct shipd *sd, const char *stack, int retain)
{
	json_t		*pins = json_array();
	const char	*id;
	int		 rev, n;

	/* The current revision (rollback --with-data restores its backup)
	 * and the earlier ones kept for rollback. */
	rev = store_current(sd->store, stack);
	for (n = 0; rev > 0 && n <= retain; n++) {
		id = json_string_value(json_object_get(store_revision_get(
		    sd->store, stack, rev), "backup"));
		if (id != NULL && !listed(pins, id))
			json_array_append_new(pins, json_string(id));
		rev = revision_prev_committed(sd->store, stack, rev);
	}
	return pins;
}
