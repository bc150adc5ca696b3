/*
 * verify: re-read and re-hash a stored backup's archives against its
 * manifest, naming each damaged file.
 */
#include <errno.h>

#include "backup/backup.h"
#include "core/shipd.h"
#include "ctl/ctl.h"
#include "proto.h"
#include "util.h"

static void
on_verified(int err, const char *msg, const json_t *out, void *arg)
{
	struct ctl_req	*r = arg;
	struct buf	 b;
	json_t		*p;
	size_t		 i;

	if (err == -ENOENT)
		ctl_req_err(r, PROTO_E_NOT_FOUND, "%s", msg);
	else if (err == -EEXIST)
		ctl_req_err(r, PROTO_E_BAD_ARGS, "%s", msg);
	else if (err < 0)
		ctl_req_err(r, PROTO_E_FAILED, "%s", msg);
	else if (!json_is_true(json_object_get(out, "ok"))) {
		buf_init(&b);
		json_array_foreach(json_object_get(out, "problems"), i, p)
			buf_printf(&b, "\n  %s", json_string_value(p));
		ctl_req_err(r, PROTO_E_FAILED, "backup %s of stack %s is "
		    "damaged:%s", json_string_value(json_object_get(out,
		    "id")), json_string_value(json_object_get(out, "stack")),
		    b.data ? b.data : "");
		buf_free(&b);
	} else
		ctl_req_ok(r, json_deep_copy(out));
}

static void
on_cancel(struct ctl_req *r, void *arg)
{
	(void)r;
	backup_query_cancel(arg);
}

static void
cmd_verify(struct shipd *sd, struct ctl_req *r)
{
	const char *id = ctl_str(r, "id");

	if (!backup_id_valid(id)) {
		ctl_req_err(r, PROTO_E_BAD_ARGS, "'%s' is not a backup ID", id);
		return;
	}
	ctl_req_on_cancel(r, on_cancel, backup_verify(sd, ctl_str(r, "stack"),
	    id, on_verified, r));
}

static const struct ctl_arg args[] = {
	{ "stack", JSON_STRING, false },
	{ "id", JSON_STRING, true },
	{ NULL, 0, false }
};

const struct ctl_cmd ctl_cmd_verify = {
	PROTO_CMD_VERIFY, true, false, cmd_verify, args
};
