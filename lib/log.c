/*
 * Logging: one line per event to stderr, "LEVEL module: message".
 * The daemons' only output channel besides the chat and MQTT; kept dependency-free
 * so every module can use it. Untrusted text goes through log_escape first.
 * When stderr is the journal ($JOURNAL_STREAM names its device and inode, as
 * systemd sets it), each line starts with its syslog priority ("<4>WARN ..."),
 * so journalctl -p warning shows warnings and worse (sd-daemon(3)).
 */
#include "campaign/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "campaign/num.h"
#include "campaign/safetext.h"
#include "campaign/utf8.h"

static enum log_level current_level = LOG_LEVEL_INFO;
static const char *program = "campaign";
static int to_journal = -1;     /* -1: not looked at yet */

/* $JOURNAL_STREAM is "DEVICE:INODE" of the journal's stream; stderr must be it. */
static bool
stderr_is_journal(void)
{
	const char *env = getenv("JOURNAL_STREAM"), *colon;
	char dev[32];
	int64_t d, i;
	struct stat st;

	if (env == NULL || (colon = strchr(env, ':')) == NULL ||
	    (size_t)(colon - env) >= sizeof(dev))
		return false;
	memcpy(dev, env, (size_t)(colon - env));
	dev[colon - env] = '\0';
	if (num_parse_i64(dev, 0, INT64_MAX, &d) < 0 ||
	    num_parse_i64(colon + 1, 0, INT64_MAX, &i) < 0 || fstat(STDERR_FILENO, &st) < 0)
		return false;
	return (uint64_t)st.st_dev == (uint64_t)d && (uint64_t)st.st_ino == (uint64_t)i;
}

/* syslog(3) priorities: 2 crit (fatal), 3 err, 4 warning, 6 info, 7 debug. */
static int
priority(enum log_level level, const char *tag)
{
	static const int by_level[] = { 3, 4, 6, 7 };

	if (strcmp(tag, "FATAL") == 0)
		return 2;
	return by_level[level];
}

void
log_init(const char *progname, enum log_level level)
{
	if (progname != NULL)
		program = progname;
	current_level = level;
}

void
log_set_level(enum log_level level)
{
	current_level = level;
}

enum log_level
log_get_level(void)
{
	return current_level;
}

int
log_level_parse(const char *s, enum log_level *out)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(s, names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

static void
vlog(enum log_level level, const char *tag, const char *module, int errnum,
    const char *fmt, va_list ap)
{
	char msg[2048], pri[8] = "";

	if (level > current_level)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	/*
	 * A backstop for text from servers or users that reached a format
	 * without log_escape: no control character may end the line early or
	 * drive a terminal, so one call stays one line.
	 */
	for (unsigned char *c = (unsigned char *)msg; *c != '\0'; c++)
		if (*c < 0x20 || *c == 0x7f)
			*c = '?';
	if (to_journal < 0)
		to_journal = stderr_is_journal();
	if (to_journal)
		snprintf(pri, sizeof(pri), "<%d>", priority(level, tag));
	if (errnum != 0)
		fprintf(stderr, "%s%s %s: %s: %s\n", pri, tag, module, msg, strerror(errnum));
	else
		fprintf(stderr, "%s%s %s: %s\n", pri, tag, module, msg);
}

void
log_warn(const char *module, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LEVEL_WARN, "WARN", module, saved, fmt, ap);
	va_end(ap);
	errno = saved;
}

void
log_warnx(const char *module, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LEVEL_WARN, "WARN", module, 0, fmt, ap);
	va_end(ap);
}

void
log_error(const char *module, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LEVEL_ERROR, "ERROR", module, 0, fmt, ap);
	va_end(ap);
}

void
log_info(const char *module, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LEVEL_INFO, "INFO", module, 0, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *module, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LEVEL_DEBUG, "DEBUG", module, 0, fmt, ap);
	va_end(ap);
}

void
fatal(const char *module, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LEVEL_ERROR, "FATAL", module, saved, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *module, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LEVEL_ERROR, "FATAL", module, 0, fmt, ap);
	va_end(ap);
	exit(1);
}

const char *
log_escape(const char *text, char *buf, size_t bufsize, size_t max_chars)
{
	const unsigned char *p = (const unsigned char *)text;
	size_t out = 0, chars = 0;

	if (bufsize == 0)
		return buf;
	if (text == NULL) {
		snprintf(buf, bufsize, "(null)");
		return buf;
	}
	while (*p != '\0') {
		char piece[16];
		size_t len;
		uint32_t cp;
		size_t n = utf8_decode((const char *)p, strlen((const char *)p), &cp);

		if (chars == max_chars) {
			snprintf(piece, sizeof(piece), "…");
			len = strlen(piece);
			if (out + len < bufsize) {
				memcpy(buf + out, piece, len);
				out += len;
			}
			break;
		}
		if (n == 0) {
			snprintf(piece, sizeof(piece), "\\x%02x", *p);
			n = 1;
		} else if (cp == '\n') {
			snprintf(piece, sizeof(piece), "\\n");
		} else if (cp == '\t') {
			snprintf(piece, sizeof(piece), "\\t");
		} else if (cp == '\\') {
			snprintf(piece, sizeof(piece), "\\\\");
		} else if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0)) {
			snprintf(piece, sizeof(piece), "\\x%02x", (unsigned)cp);
		} else if (safetext_unsafe(cp)) {
			snprintf(piece, sizeof(piece), "\\u%04x", (unsigned)cp);
		} else {
			memcpy(piece, p, n);
			piece[n] = '\0';
		}
		len = strlen(piece);
		if (out + len >= bufsize)
			break;
		memcpy(buf + out, piece, len);
		out += len;
		p += n;
		chars++;
	}
	buf[out] = '\0';
	return buf;
}
