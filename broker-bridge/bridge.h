/*
 * campaign-bridge's daemon: the poll loop over the self-pipe (signals),
 * the database watch and the MQTT socket, and the shutdown and reload
 * sequences. main.c parses arguments and takes the lock; this runs.
 */
#ifndef BRIDGE_BRIDGE_H
#define BRIDGE_BRIDGE_H

#include <stddef.h>

#include "campaign/cfg.h"
#include "mqtt.h"

/*
 * Checks what the bridge needs from cfg beyond cfg_load's own checks
 * (secret and TLS files readable, prefix valid); 0 or -1 with err.
 */
int bridge_check_config(const struct cfg *cfg, char *err, size_t errlen);
/*
 * Builds connection settings: reads the password, picks the default client
 * id (campaign-bridge-<host>-<hash of the database path>), the will topic.
 */
int bridge_settings(const struct cfg *cfg, const char *prefix, const char *db_path,
    struct mqtt_settings *out, char *err, size_t errlen);

/* Runs until SIGTERM/SIGINT; takes ownership of cfg. Returns the exit status. */
int bridge_run(struct cfg *cfg, const char *config_path, const char *db_path);

#endif
