/*
 * Files sent to the bot in a private chat (issue 15): recorded with the
 * message that carried them (in the intake's transaction, once per message),
 * then downloaded by the platform's fetcher; a download stores the file as a
 * submission of the sender's unit and queues the confirmation in one
 * transaction, so a crash repeats at most a download, never a submission.
 */
#ifndef CAMPAIGN_CHATFILES_H
#define CAMPAIGN_CHATFILES_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "campaign/plan.h"
#include "campaign/store.h"

struct chat_file {
	int64_t id;
	char *platform;
	char *chat_id;
	char *user_id;
	char *message_id;
	int64_t unit_id;
	char *file_ref;
	char *name;
	char *type;
	int64_t size;
	int attempts;
};

/* What a message announced (borrowed). */
struct chat_file_in {
	const char *platform, *chat_id, *user_id, *message_id;
	int64_t unit_id;
	const char *file_ref, *name, *type;
	int64_t size;
};

/* Records a file to fetch; 1 queued, 0 already known, -1 error. */
int chatfiles_queue(struct store *s, const struct chat_file_in *f, time_t now);
/* The oldest pending file of a platform; 1 found, 0 none, -1 error. */
int chatfiles_next(struct store *s, const char *platform, struct chat_file *out);
/* The download arrived: file, submission, confirmation, state, in one transaction. */
int chatfiles_stored(struct store *s, const struct plan *plan, const struct chat_file *f,
    const void *data, size_t len, time_t now);
/* The download failed; final: give up and tell the sender why. */
int chatfiles_failed(struct store *s, const struct chat_file *f, const char *why,
    int final, time_t now);
void chat_file_clear(struct chat_file *f);

#endif
