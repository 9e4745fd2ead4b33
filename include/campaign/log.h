/*
 * One line per event on stderr: "LEVEL module: message key=value".
 * log_warn appends strerror(errno); fatal/fatalx exit(1).
 * Never pass a secret (bot token, MQTT password) to these functions.
 */
#ifndef CAMPAIGN_LOG_H
#define CAMPAIGN_LOG_H

#include <stdbool.h>
#include <stddef.h>

enum log_level { LOG_LEVEL_ERROR, LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

/* Sets the program name printed by fatal paths and the verbosity. */
void log_init(const char *progname, enum log_level level);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Parses "error", "warn", "info", "debug"; returns -1 for anything else. */
int log_level_parse(const char *s, enum log_level *out);

void log_warn(const char *module, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_warnx(const char *module, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_info(const char *module, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_debug(const char *module, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_error(const char *module, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
_Noreturn void fatal(const char *module, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
_Noreturn void fatalx(const char *module, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Writes a loggable copy of untrusted text (chat messages, names) into buf:
 * control characters become \n, \t or \xNN, invalid UTF-8 bytes \xNN, and
 * the copy is cut at max_chars characters with "…". Returns buf.
 */
const char *log_escape(const char *text, char *buf, size_t bufsize, size_t max_chars);

#endif
