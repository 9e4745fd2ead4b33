/*
 * Mail messages to what the office needs from them (issue 15), with GMime 3:
 * the sender's address, the subject, the Message-ID and the attachments with
 * their file names decoded (RFC 2231, RFC 2047, and raw 8-bit GBK names
 * through GB18030 as a fallback charset). GMime lives in a module
 * (campaign-mailparse.so, gmime/mailparse_gmime.c) that mailparse_load()
 * dlopens: a bot without [mail] never maps GLib (its RSS goal is 16 MiB).
 */
#ifndef CAMPAIGN_BOT_MAILPARSE_H
#define CAMPAIGN_BOT_MAILPARSE_H

#include <stdbool.h>
#include <stddef.h>

struct mail_part {
	char *name;             /* UTF-8 file name */
	char *type;             /* "application/pdf" ... */
	unsigned char *data;    /* decoded content */
	size_t len;
};

struct mail_msg {
	char *from;             /* the sender's address, lower case; NULL if none */
	char *from_name;        /* display name; may be NULL */
	char *subject;          /* UTF-8, trimmed; may be NULL */
	char *message_id;       /* without <>; may be NULL */
	bool automatic;         /* Auto-Submitted, Precedence bulk/list/junk, or a bounce:
	                           never answered (RFC 3834), so two robots cannot loop */
	struct mail_part *parts; /* attachments (parts with a file name) */
	size_t nparts;
};

/*
 * Loads the module: next to the executable, else in CAMPAIGN_PKGLIBDIR.
 * 0, or -1 with err. The functions below load it on first use too.
 */
int mailparse_load(char *err, size_t errlen);
/* Parses a whole message (or just its header). 0, or -1 with err. */
int mailparse_message(const void *raw, size_t len, struct mail_msg *out, char *err,
    size_t errlen);
void mail_msg_clear(struct mail_msg *m);
/* Releases GMime if it was initialized (at exit, for leak checkers). */
void mailparse_shutdown(void);

/* The module's entry points (resolved by name with dlsym). */
int mailparse_gmime_message(const void *raw, size_t len, struct mail_msg *out, char *err,
    size_t errlen);
void mailparse_gmime_clear(struct mail_msg *m);
void mailparse_gmime_shutdown(void);

#endif
