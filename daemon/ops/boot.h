/*
 * Ordered boot (boot.c, docs/operations.md): services found down that
 * nothing meant so are started again in dependency order, gated.
 */
#ifndef SHIPD_BOOT_H
#define SHIPD_BOOT_H

struct boot;
struct shipd;

/* Look soon (coalesced), once recovery is done; *bp is made on first use. */
void	boot_scan(struct shipd *, struct boot **bp);
void	boot_stop(struct boot **bp);

#endif
