/*
 * Stack operations as the control server sees them: deploy, scale and
 * history (stackops.c), over the apply engine (deploy.c).
 */
#ifndef SHIPD_DEPLOY_H
#define SHIPD_DEPLOY_H

struct op;
struct shipd;
struct ctl_req;

void	deploy_apply(struct op *);	/* deploy.c: walk the graph */
void	deploy_finish(struct op *);	/* stackops.c: record and reply */

void	ctl_handle_deploy(struct shipd *, struct ctl_req *);
void	ctl_handle_scale(struct shipd *, struct ctl_req *);
void	ctl_handle_plan(struct shipd *, struct ctl_req *);
void	ctl_handle_rollback(struct shipd *, struct ctl_req *);	/* rollback.c */

#endif
