/*
 * Secret files (bot tokens, passwords, webhook secrets): read one line,
 * refuse what is not a regular file with a message that says so, and warn
 * when other users can read or write it (docs/ARCHITECTURE.md "Secrets").
 * Every secret file of the config goes through here (cfg_read_secret), so
 * `-n` and a start both warn.
 */
#ifndef CAMPAIGN_SECRETFILE_H
#define CAMPAIGN_SECRETFILE_H

#include <stddef.h>

#define SECRETFILE_MAX 4096

/* The first line, trailing newline and spaces removed; NULL with err (never the secret). */
char *secretfile_read(const char *path, char *err, size_t errlen);

#endif
