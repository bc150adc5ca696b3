/*
 * Shared by the backup modules and nobody else: the on-disk layout and its
 * thread-pool operations (backupfs.c), streaming to and from disk
 * (backupio.c), hooks (hook.c), stopping and restarting services around a
 * copy (quiesce.c), copying one path of a container (backupcopy.c), and
 * the backup job (bjobrun.c and backupjob.c, bjob_int.h) that backup.c
 * runs for `shipctl backup` and for deploys, and restore.c for its safety
 * copy.
 */
#ifndef SHIPD_BACKUP_INT_H
#define SHIPD_BACKUP_INT_H

/* Reference counts are checked with assert(): keep it on in every build. */
#undef NDEBUG
#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include <uv.h>

#include "backup/backup.h"
#include "graph.h"
#include "unit.h"

struct shipd;

/*
 * <state>/backups/<stack>/<id>/ holds one tar per (service, path) and
 * manifest.json; a backup being written is <id>.partial and is renamed
 * only once every file and the manifest are on disk.  verified.json
 * records the last `backup --verify`.
 */
#define BACKUP_FORMAT		1
#define BACKUP_MANIFEST		"manifest.json"
#define BACKUP_VERIFIED		"verified.json"
#define BACKUP_PARTIAL		".partial"
#define BACKUP_ID_MAX		64

/* "<state>/backups/<stack>/<id>[.partial]/<file>"; file may be NULL. */
char	*backup_path(const char *state, const char *stack, const char *id,
	    bool partial, const char *file);

/* ---- thread-pool operations: every callback runs on the loop ---- */

struct bfs_op;
/* err: 0 or -errno; msg names what failed; out is the operation's result
 * (borrowed for the callback's duration) or NULL. */
typedef void bfs_cb(int err, const char *msg, json_t *out, void *arg);

/* mkdir -p the stack's backup dir, clear stale partial backups (the
 * caller holds the stack lock, so none is being written), make <id>.partial. */
struct bfs_op	*bfs_prepare(uv_loop_t *, const char *state, const char *stack,
		    const char *id, bfs_cb *, void *);
/* Write the manifest (stolen) into <id>.partial, fsync it and the dir,
 * rename to <id>, fsync the stack's dir. */
struct bfs_op	*bfs_commit(uv_loop_t *, const char *state, const char *stack,
		    const char *id, json_t *manifest, bfs_cb *, void *);
/* rm -rf <id>.partial. */
struct bfs_op	*bfs_discard(uv_loop_t *, const char *state,
		    const char *stack, const char *id, bfs_cb *, void *);
/* out: [{stack, id, class, started, finished, revision, reason, services,
 * size, verified}], stack NULL for every stack; sorted by stack, then id. */
struct bfs_op	*bfs_list(uv_loop_t *, const char *state, const char *stack,
		    bfs_cb *, void *);
/* out: {"stack": name, "manifest": {...}}; stack NULL searches them all.
 * -ENOENT when no stack has it, -EEXIST when two do. */
struct bfs_op	*bfs_find(uv_loop_t *, const char *state, const char *stack,
		    const char *id, bfs_cb *, void *);
/* Re-read and re-hash; out: {ok, files, bytes, problems: [...]}.
 * services (stolen) limits it to those; NULL means all, and then the
 * outcome is recorded in verified.json. */
struct bfs_op	*bfs_verify(uv_loop_t *, const char *state, const char *stack,
		    const char *id, json_t *services, bfs_cb *, void *);
/* Remove the good backups backup_retain_select() lets go.  keep (stolen)
 * maps service -> count, others get dflt; pinned (stolen, NULL for none)
 * lists ids never removed.  out: removed ids. */
struct bfs_op	*bfs_prune(uv_loop_t *, const char *state, const char *stack,
		    json_t *keep, int dflt, json_t *pinned, bfs_cb *, void *);
/* At start: rm -rf every stack's <id>.partial with id before `before`
 * (a backup_id_new() of this process), left by a shipd that died while
 * writing it.  out: the paths removed. */
struct bfs_op	*bfs_clean(uv_loop_t *, const char *state, const char *before,
		    bfs_cb *, void *);
/* The callback will not be called; the work itself finishes. NULL ok. */
void		 bfs_cancel(struct bfs_op *);

/* ---- retain.c: what retention keeps ---- */

/* A backup's class, recorded in its manifest as "class". */
#define BACKUP_CLASS_MANUAL	"manual"	/* shipctl backup, timers */
#define BACKUP_CLASS_SAFETY	"safety"	/* taken by a restore */
#define BACKUP_CLASS_DEPLOY	"deploy"	/* a deploy's backup phase */

/* The class named s (static storage), or NULL for none. */
const char	*backup_class_name(const char *s);
/* A manifest's class: "class", else a "reason" naming one (backups made
 * before classes), else manual. */
const char	*backup_class_of(const json_t *manifest);
/*
 * Pure: the ids to remove of backups, the stack's good backups oldest
 * first, each {"id", "class", "services": [names]}.  A backup stays while
 * it is among the keep newest of its class for any service it holds (keep
 * maps service -> count, others get dflt), or when pinned (an array of
 * ids, NULL for none) names it.  A new array, oldest first.
 */
json_t		*backup_retain_select(const json_t *backups, const json_t *keep,
		    int dflt, const json_t *pinned);
/* The backups named by the stack's current revision and the retain
 * committed revisions before it (a new array of ids). */
json_t		*backup_revision_pins(struct shipd *, const char *stack,
		    int retain);

/* ---- streaming a file to disk, hashed as it is written ---- */

enum { SINK_DRAINED, SINK_DONE, SINK_FAILED };
struct bfs_sink;
typedef void bfs_sink_cb(int what, void *arg);

/* rate: bytes/s to write at most (a test hook); 0 for no limit. */
struct bfs_sink	*bfs_sink_new(uv_loop_t *, const char *path, uint64_t rate,
		    bfs_sink_cb *, void *);
/* Queue a copy of the bytes; false once over the high-water mark: pause
 * the source until SINK_DRAINED. */
bool		 bfs_sink_write(struct bfs_sink *, const char *, size_t);
/* No more bytes: flush, fsync, close, then SINK_DONE or SINK_FAILED. */
void		 bfs_sink_finish(struct bfs_sink *);
int		 bfs_sink_err(const struct bfs_sink *);	/* -errno */
uint64_t	 bfs_sink_size(const struct bfs_sink *);
const char	*bfs_sink_sha256(const struct bfs_sink *);	/* hex */
/* No callback follows; memory goes once the thread pool lets go. */
void		 bfs_sink_free(struct bfs_sink *);

/* ---- reading a file back for an upload ---- */

struct bfs_source;
/* ready() once bytes (or the end, or an error) are there after a read
 * returned DOCKER_READ_PAUSE. */
struct bfs_source *bfs_source_new(uv_loop_t *, const char *path,
		    void (*ready)(void *), void *);
/* Up to n bytes, 0 at the end, DOCKER_READ_PAUSE when none are ready. */
size_t		 bfs_source_read(struct bfs_source *, char *, size_t);
int		 bfs_source_err(const struct bfs_source *);
void		 bfs_source_free(struct bfs_source *);

/* ---- quiesce.c: stop services, then start them again in order ---- */

struct quiesce;
/* msg: NULL on success, else what failed (one line per problem). */
typedef void quiesce_cb(const char *msg, void *arg);
typedef void quiesce_event_cb(const char *service, const char *status,
		    void *arg);

/*
 * The services marked in mark[] (graph nodes of st) and every service
 * that depends on them.  containers is the engine's list for the stack
 * (borrowed): only what runs in it is stopped, and only that is started
 * again.  st and g must outlive the quiesce.  Returns the caller's
 * reference; dropping the last one stops what is under way, and no
 * callback follows.
 */
struct quiesce	*quiesce_new(struct shipd *, const struct stack *,
		    const struct graph *, const unsigned char *mark,
		    json_t *containers, quiesce_event_cb *, void *);
/* What it stops: [{"service", "id", "name"}], for the journal. */
json_t		*quiesce_targets(const struct quiesce *);
/* Over containers as quiesce_targets() listed them, whatever their state
 * now (those of services st lacks are left out): quiesce_start() brings
 * back what a killed shipd left stopped. */
struct quiesce	*quiesce_from_targets(struct shipd *, const struct stack *,
		    const struct graph *, const json_t *targets,
		    quiesce_event_cb *, void *);
/* Dependents first, each replica with its unit's stop_grace; ends at the
 * first failure.  cb runs from the loop, never from inside this call. */
void		 quiesce_stop(struct quiesce *, quiesce_cb *, void *);
/* Dependencies first, each replica gated on health within its unit's
 * healthy_deadline; carries on past failures.  cb as for quiesce_stop;
 * it may start the other sequence. */
void		 quiesce_start(struct quiesce *, quiesce_cb *, void *);
bool		 quiesce_stopped_any(const struct quiesce *);
bool		 quiesce_has(const struct quiesce *, const char *service);
void		 quiesce_ref(struct quiesce *);
void		 quiesce_unref(struct quiesce *);	/* NULL ok */

/* ---- hook.c: a command in a container through the exec API ---- */

struct hook;
/* code: the exit status, or -1 when it did not run (why says why); out:
 * the tail of its stdout and stderr, trailing newlines cut. */
typedef void hook_cb(int code, const char *why, const char *out, size_t len,
		    void *arg);
/* timeout_ms: 0 for none; past it code is -1 and why says so. */
struct hook	*hook_run(struct shipd *, const char *container,
		    char *const *argv, uint64_t timeout_ms, hook_cb *, void *);
/* No callback follows.  NULL is ignored. */
void		 hook_cancel(struct hook *);

/* ---- backupcopy.c: one path of a container into one file ---- */

/* Replica 1 of service in the engine's list of the stack's containers
 * (borrowed from list), or NULL. */
json_t		*backup_containers_find(json_t *list, const char *stack,
		    const char *service);

struct bcopy;
/* err: NULL, or what failed (the file is then no good); absent: the
 * container has no such path (only asked for with absent_ok); size and
 * sha256 of the file otherwise.  All borrowed for the callback. */
struct bcopy_result {
	const char	*err;
	bool		 absent;
	uint64_t	 size;
	const char	*sha256;
};
typedef void bcopy_cb(const struct bcopy_result *, void *arg);

/* Stream path of container cid into file (created, fsync'd, hashed),
 * failing if the container dies or restarts meanwhile.  The copy is gone
 * once its callback returns. */
struct bcopy	*bcopy_start(struct shipd *, const char *cid, const char *path,
		    const char *file, bool absent_ok, bcopy_cb *, void *);
/* No callback follows.  NULL is ignored. */
void		 bcopy_cancel(struct bcopy *);

/* ---- the backup job (backupjob.c) ---- */

struct bjob;
/* id: the backup written (NULL if none); msg: NULL, or what failed (with
 * id set: after the copy, e.g. a service that did not come back). */
typedef void bjob_cb(const char *id, const char *msg, uint64_t bytes,
		    void *arg);
typedef void bjob_event_cb(const char *event, json_t *fields, void *arg);

#define BJOB_NO_HOOKS	0x01	/* skip pre and post */
#define BJOB_NO_STOP	0x02	/* copy as found (the caller stopped them) */
#define BJOB_ABSENT_OK	0x08	/* a path the container lacks is skipped */
#define BJOB_OWNED	0x10	/* the caller cancels it, also at shutdown */
#define BJOB_MISSING_OK	0x20	/* a service without replica 1 is skipped */

/*
 * Back up what want names, [{"service": s, "paths": [...]}] (stolen),
 * from replica 1 of each service of st (copied) into a new backup tagged
 * with revision and reason.  Takes no lock: the caller holds it.  cb runs
 * from the loop, never from inside this call.  Returns the caller's
 * reference; the job holds one of its own until it has reported or been
 * cancelled.
 */
struct bjob	*bjob_start(struct shipd *, const struct stack *, json_t *want,
		    int revision, const char *reason, unsigned flags,
		    bjob_event_cb *, bjob_cb *, void *);
/* Called when the job goes, whether or not cb was. */
void		 bjob_free_arg(struct bjob *, void (*)(void *));
/* Never prune backup id after this job (the one a restore reads). */
void		 bjob_pin(struct bjob *, const char *id);
void		 bjob_ref(struct bjob *);
void		 bjob_unref(struct bjob *);
/* The callback will not be called; what is under way stops.  Drops the
 * caller's reference.  NULL is ignored. */
void		 bjob_cancel(struct bjob *);

/* ---- bjournal.c: a job's records in the journal ------------------------ */

struct bjrec;
/* err: 0 once the record is on disk, else -errno. */
typedef void bjrec_cb(int err, void *arg);

/*
 * job: "backup" or "restore"; id names this run.  fields (stolen, NULL
 * for none) go into the record.  Holds the journal (no truncate) until
 * the end is on disk or the record is cancelled.  One record at a time:
 * the next step is written from the previous one's callback.
 */
struct bjrec	*bjr_begin(struct shipd *, const char *stack, const char *job,
		    const char *id, json_t *fields, bjrec_cb *, void *);
void		 bjr_step(struct bjrec *, const char *step, json_t *fields,
		    bjrec_cb *, void *);
/* The last record: the handle goes once it is written (after cb). */
void		 bjr_end(struct bjrec *, bool ok, const char *why,
		    bjrec_cb *, void *);
/* Shutdown: no callback, no end written (the next start finishes the
 * job).  NULL is ignored. */
void		 bjr_cancel(struct bjrec *);

/* "YYYYmmdd-HHMMSS-mmm", increasing within the process: backup ids, and
 * the boundary below which a .partial is a dead process's. */
char		*backup_id_new(void);

/* restore.c: the directory a path's archive is put back into. */
char		*backup_parent_dir(const char *path);

/* bnotify.c: a backup of st (at revision rev) failed: its webhooks. */
void	backup_notify_failed(struct shipd *, const struct stack *st, int rev,
	    const char *id, const char *why);

#endif
