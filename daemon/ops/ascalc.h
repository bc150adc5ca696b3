/*
 * The autoscaler's arithmetic (ascalc.c), apart from the loop and the
 * engine so the unit tests drive it with a clock of their own: the
 * averaging window, the recommendation with its tolerance, the
 * scale-down stabilization, the up and down policies and the bounds.
 * docs/operations.md, "Autoscaling", tells the rules.
 */
#ifndef SHIPD_ASCALC_H
#define SHIPD_ASCALC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "unit.h"

/* No change while the use is within 10% of the target (Kubernetes'). */
#define ASCALC_TOLERANCE	0.1
/* Samples kept per service at most (a window of an hour at 1 s). */
#define ASCALC_SAMPLES_MAX	3600

struct ascalc_sample {
	uint64_t	 t;
	double		 cpu;		/* percent of the CPU limit */
	double		 mem;		/* percent of the memory limit */
};

/* A recommendation at t: the highest of the stabilization window is
 * kept at the front (a decreasing run, so at most UNIT_REPLICAS_MAX). */
struct ascalc_rec {
	uint64_t	 t;
	int		 n;
};

struct ascalc {
	struct ascalc_sample	*samples;	/* oldest first */
	size_t			 nsamples;
	size_t			 cap;
	struct ascalc_rec	*recs;		/* decreasing n, oldest first */
	size_t			 nrecs;
	size_t			 rcap;
	uint64_t		 last_up;	/* 0: never */
	uint64_t		 last_down;
};

enum ascalc_dir { ASCALC_HOLD, ASCALC_UP, ASCALC_DOWN };

struct ascalc_out {
	enum ascalc_dir	 dir;
	int		 from;
	int		 to;		/* == from when held */
	int		 want;		/* the recommendation, bounded */
	const char	*metric;	/* "cpu" or "memory": what drove it */
	double		 value;		/* its average, percent */
	int		 target;	/* its target, percent */
	double		 cpu;		/* the averages; < 0 without target */
	double		 mem;
	char		 reason[192];
};

void	ascalc_init(struct ascalc *);
void	ascalc_free(struct ascalc *);
/* Every replica had a sample at t: their averages (percent). */
void	ascalc_sample(struct ascalc *, uint64_t t, double cpu, double mem);
/* Forget the samples (a replica is missing, the count changed). */
void	ascalc_clear(struct ascalc *);
/*
 * Decide at now for a service at current replicas within [min, max].
 * False when there is no decision (the samples do not cover the window
 * yet); true with *out filled, out->dir saying whether to move.
 */
bool	ascalc_decide(struct ascalc *, const struct unit_autoscale *,
	    int min, int max, int current, uint64_t now,
	    struct ascalc_out *out);
/* A change to out->to was made at now: the policies' periods start. */
void	ascalc_done(struct ascalc *, const struct ascalc_out *, uint64_t now);

/*
 * The bounds that stand for u: shipctl scale SERVICE=MIN:MAX's, recorded
 * in the scale overrides ({min, max, unit_min, unit_max}), while the unit
 * file's own bounds are those it was given over; else the unit's.
 */
void	ascalc_bounds(const struct unit *u, const json_t *override, int *min,
	    int *max);
/* The count an autoscaled service is to have: its recorded one (a scale
 * or the autoscaler's), else the unit's replicas, within the bounds. */
int	ascalc_count(const struct unit *u, const json_t *override);

#endif
