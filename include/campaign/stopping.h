/*
 * A daemon's stop request, and the bound on how long stopping may take.
 * The SIGTERM handler calls stopping_request(bound): from then on long loops
 * (stopping_requested) give up early, and if the process is still running
 * after bound seconds, whatever it is doing, it exits at once with status 1
 * (docs/ARCHITECTURE.md "Limits"): every state is in the store's transactions,
 * so this loses no more than a kill -9 would, and a service manager never
 * has to escalate to SIGKILL.
 */
#ifndef CAMPAIGN_STOPPING_H
#define CAMPAIGN_STOPPING_H

#include <stdbool.h>

/* The daemons' bound: their orderly drains (5 s each) with room to spare. */
#define STOPPING_BOUND_S 15

/* Async-signal-safe. The first call arms the bound; later calls do nothing. */
void stopping_request(unsigned bound_s);
bool stopping_requested(void);

#endif
