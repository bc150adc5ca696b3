/*
 * A model of dockerd for the operations layer's tests, served by the
 * scripted engine of helper_fakeengine.h: containers (name, labels,
 * state, health), networks, volumes, images and execs kept in memory,
 * the endpoints shipd calls answered as the engine would, an /events
 * stream of what changes, and a log of every call in order.
 *
 * The log holds one line per call in two forms: the raw "METHOD path"
 * and a short one with container IDs replaced by the names they had at
 * the time ("start demo-api-1", "rename demo-api-1 demo-api-1-r1").  The
 * engine's own changes are logged too ("healthy demo-api-1", "exited
 * demo-migrate-1 0"), so a test can order shipd's calls against them.
 */
#ifndef SHIPD_HELPER_FAKEDOCKER_H
#define SHIPD_HELPER_FAKEDOCKER_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

struct fakedocker;

/* How containers of one image behave; all times from their start. */
struct fake_image {
	int		 healthy_after_ms;	/* -1: never healthy */
	int		 exit_after_ms;		/* -1: runs until stopped */
	int		 exit_code;
	bool		 start_fails;		/* POST start answers 500 */
	unsigned	 start_delay_ms;	/* before start answers */
};

int	 fakedocker_start(struct fakedocker **);
/* The API version the model speaks, "1.41" unless set; shipd learns it
 * when it next connects (rig_down, rig_up).  Before 1.44 a create takes
 * one network. */
void	 fakedocker_api(struct fakedocker *, const char *version);
/* Ends the event streams, stops the server, frees. */
void	 fakedocker_stop(struct fakedocker *);
const char *fakedocker_path(const struct fakedocker *);

/* Register an image; knobs NULL: the defaults (healthy at once, never
 * exits).  Registering a ref again moves the tag to a new ID; the old
 * image stays, by its ID.  Writes the ID to id_out when not NULL (72
 * bytes). */
void	 fakedocker_image(struct fakedocker *, const char *ref,
	    const struct fake_image *, char *id_out);
/* Change an image's knobs, keeping its ID. */
void	 fakedocker_image_knobs(struct fakedocker *, const char *ref,
	    const struct fake_image *);

/* A container made as POST /containers/create would (spec borrowed),
 * started when start is set, healthy at once; not logged.  0 or -1. */
/* Containers created from now on have the address 127.0.0.1, so shipd's
 * own http/tcp probes reach a listener of the test's. */
void	 fakedocker_loopback(struct fakedocker *, bool);
/* While set, every POST /containers/create answers 500. */
void	 fakedocker_refuse_creates(struct fakedocker *, bool);
int	 fakedocker_seed(struct fakedocker *, const char *name, json_t *spec,
	    bool start);
/* A network as POST /networks/create would make it; not logged. */
void	 fakedocker_seed_network(struct fakedocker *, const char *name,
	    const char *stack_label);

/* The network is gone, as if removed behind shipd's back; 0 or -1. */
int	 fakedocker_remove_network(struct fakedocker *, const char *name);
/* The container is gone, as if removed behind shipd's back; 0 or -1. */
int	 fakedocker_remove(struct fakedocker *, const char *name);

/* Renamed, or exited with code, behind shipd's back; 0 or -1. */
int	 fakedocker_rename(struct fakedocker *, const char *name,
	    const char *newname);
int	 fakedocker_exit(struct fakedocker *, const char *name, int code);
/* The engine is removing the container (a DELETE sent by a shipd that
 * died): listed as "removing", a DELETE answers 409 "already in
 * progress", a wait?condition=removed ends the removal; 0 or -1. */
int	 fakedocker_removing(struct fakedocker *, const char *name);
/* A running, checked container's health turns unhealthy (and stays so,
 * health checks failing too); 0 or -1. */
int	 fakedocker_unhealthy(struct fakedocker *, const char *name);

/* "name state revision" per container, sorted by name, one per line. */
char	*fakedocker_containers(struct fakedocker *);
/* The container's ID into out (72 bytes); 0, or -1 when none. */
int	 fakedocker_id(struct fakedocker *, const char *name, char *out);
/* A copy of GET /containers/{name}/json, or NULL. */
json_t	*fakedocker_inspect(struct fakedocker *, const char *name);
/* Network -> aliases the container has, as a JSON object copy. */
json_t	*fakedocker_networks_of(struct fakedocker *, const char *name);

/* ---- the call log ---- */

int	 fakedocker_ncalls(struct fakedocker *);
/* Short lines from index `from` whose verb is one of `verbs` (space
 * separated; NULL: all) and which contain `match` (NULL: any), each
 * ending in "\n".  Caller frees. */
char	*fakedocker_trace(struct fakedocker *, int from, const char *verbs,
	    const char *match);
/* Index of the first short line equal to text at or after from; -1. */
int	 fakedocker_find(struct fakedocker *, int from, const char *text);
/* When entry idx was logged (now_ms()). */
uint64_t fakedocker_at(struct fakedocker *, int idx);
/* Calls the model has no route for. */
int	 fakedocker_unknown(struct fakedocker *);

#endif
