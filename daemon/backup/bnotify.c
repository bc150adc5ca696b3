/*
 * A backup that failed, told to the stack's webhooks (backup_failure):
 * a deploy's backup, `shipctl backup` or a restore's safety copy alike.
 */
#include <string.h>

#include "backup/backup_int.h"
#include "core/webhook.h"

void
backup_notify_failed(struct shipd *sd, const struct stack *st, int rev,
    const char *id, const char *why)
{
	struct webhook_event	ev;
	json_t			*svcs = json_array();
	size_t			i;

	if (st == NULL || st->nhooks == 0) {
		json_decref(svcs);
		return;
	}
	for (i = 0; i < st->nunits; i++) {
		if (st->units[i]->backup.present)
			json_array_append_new(svcs,
			    json_string(st->units[i]->name));
	}
	memset(&ev, 0, sizeof ev);
	ev.event = NOTIFY_BACKUP_FAILURE;
	ev.stack = st->name;
	ev.revision = rev;
	ev.services = svcs;
	ev.reason = why != NULL ? why : "the backup did not complete";
	ev.detail = json_pack("{s:s?}", "backup", id);
	webhook_emit(sd, st->hooks, st->nhooks, &ev);
	json_decref(ev.detail);
	json_decref(svcs);
}
