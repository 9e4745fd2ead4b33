/*
 * Files sent in chat, from the message to the submission. See
 * include/campaign/chatfiles.h.
 */
#include "campaign/chatfiles.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "campaign/log.h"
#include "campaign/outbox.h"
#include "campaign/submissions.h"
#include "campaign/xmalloc.h"

int
chatfiles_queue(struct store *s, const struct chat_file_in *f, time_t now)
{
	sqlite3_stmt *st = store_stmt(s, "INSERT INTO chat_files(platform, chat_id, user_id, "
	    "message_id, unit_id, file_ref, name, type, size, created_at) "
	    "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10) ON CONFLICT DO NOTHING");

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, f->platform, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, f->chat_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, f->user_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, f->message_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, f->unit_id);
	sqlite3_bind_text(st, 6, f->file_ref, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, f->name, -1, SQLITE_STATIC);
	store_bind_text(st, 8, f->type);
	sqlite3_bind_int64(st, 9, f->size);
	sqlite3_bind_int64(st, 10, (int64_t)now);
	if (store_step_done(s, st, "queue chat file") < 0)
		return -1;
	return sqlite3_changes(store_db(s)) > 0;
}

int
chatfiles_next(struct store *s, const char *platform, struct chat_file *out)
{
	sqlite3_stmt *st = store_stmt(s, "SELECT id, platform, chat_id, user_id, message_id, "
	    "unit_id, file_ref, name, type, size, attempts FROM chat_files "
	    "WHERE platform = ?1 AND state = 0 ORDER BY id LIMIT 1");
	int rc;

	memset(out, 0, sizeof(*out));
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, platform, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		out->id = sqlite3_column_int64(st, 0);
		out->platform = store_column_text(st, 1);
		out->chat_id = store_column_text(st, 2);
		out->user_id = store_column_text(st, 3);
		out->message_id = store_column_text(st, 4);
		out->unit_id = sqlite3_column_int64(st, 5);
		out->file_ref = store_column_text(st, 6);
		out->name = store_column_text(st, 7);
		out->type = store_column_text(st, 8);
		out->size = sqlite3_column_int64(st, 9);
		out->attempts = sqlite3_column_int(st, 10);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		store_log_error(s, "next chat file");
		return -1;
	}
	return rc == SQLITE_ROW;
}

/* The final state; the name too (a WeCom file is named only when downloaded). */
static int
set_state(struct store *s, const struct chat_file *f, int state, const char *error)
{
	sqlite3_stmt *st = store_stmt(s, "UPDATE chat_files SET state = ?2, error = ?3, "
	    "name = ?4, attempts = attempts + 1 WHERE id = ?1");

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, f->id);
	sqlite3_bind_int(st, 2, state);
	store_bind_text(st, 3, error);
	sqlite3_bind_text(st, 4, f->name, -1, SQLITE_STATIC);
	return store_step_done(s, st, "chat file state");
}

static int
reply(struct store *s, const struct chat_file *f, const char *text, time_t now)
{
	char *dedupe = xasprintf("chatfile:%lld", (long long)f->id);
	struct outbox_item it = {
		.platform = f->platform, .chat_id = f->chat_id, .kind = OUTBOX_REPLY,
		.reply_to = f->message_id, .text = text, .plain = true, .dedupe_key = dedupe,
	};
	int64_t id = outbox_enqueue(s, &it, now);

	free(dedupe);
	return id < 0 ? -1 : 0;
}

int
chatfiles_stored(struct store *s, const struct plan *plan, const struct chat_file *f,
    const void *data, size_t len, time_t now)
{
	char sha[SUBMISSIONS_SHA_STRLEN], err[256], *source = NULL, *text = NULL, *task = NULL;
	const struct plan_task *t;
	ssize_t u = plan_unit_index_id(plan, f->unit_id);
	struct submission_in in;
	int rc = -1;

	if (store_begin(s) < 0)
		return -1;
	if (submissions_put_file(s, data, len, now, sha, err, sizeof(err)) < 0) {
		log_warnx("chatfiles", "%s", err);
		goto rollback;
	}
	source = xasprintf("%s:%s:%s", f->platform, f->chat_id, f->message_id);
	task = submissions_pick_task(plan, f->unit_id, f->name);
	in = (struct submission_in){
		.task_id = task, .unit_id = f->unit_id, .sha256 = sha, .name = f->name,
		.size = (int64_t)len, .type = f->type, .channel = f->platform,
		.sender = f->user_id, .source_id = source, .at = now,
	};
	if (submissions_add(s, plan, &in, err, sizeof(err)) < 0) {
		log_warnx("chatfiles", "%s", err);
		goto rollback;
	}
	t = task != NULL ? plan_task_get(plan, task) : NULL;
	text = t != NULL ? xasprintf("✅ 已收到 %s 报送的《%s》，计入任务 %s：%s。如有修改，"
	    "再发一次即可，以最新一份为准。", u >= 0 ? plan->units[u].name : "?", f->name, t->id,
	    t->deliverable) : xasprintf("✅ 已收到《%s》。", f->name);
	if (reply(s, f, text, now) < 0 || set_state(s, f, 1, NULL) < 0 ||
	    store_commit(s) < 0)
		goto rollback;
	rc = 0;
	goto out;
rollback:
	store_rollback(s);
out:
	free(source);
	free(text);
	free(task);
	return rc;
}

int
chatfiles_failed(struct store *s, const struct chat_file *f, const char *why, int final,
    time_t now)
{
	char *text;
	int rc;

	if (!final) {
		sqlite3_stmt *st = store_stmt(s, "UPDATE chat_files SET attempts = attempts + 1, "
		    "error = ?2 WHERE id = ?1");

		if (st == NULL)
			return -1;
		sqlite3_bind_int64(st, 1, f->id);
		store_bind_text(st, 2, why);
		return store_step_done(s, st, "chat file attempt");
	}
	if (store_begin(s) < 0)
		return -1;
	/* A WeCom file has no name until downloaded. */
	text = f->name[0] != '\0' ? xasprintf("《%s》没有收到（%s）。请改用邮件发送，或稍后再发一次。",
	    f->name, why) : xasprintf("您发的文件没有收到（%s）。请改用邮件发送，或稍后再发一次。", why);
	rc = reply(s, f, text, now) < 0 || set_state(s, f, 2, why) < 0 ||
	    store_commit(s) < 0 ? -1 : 0;
	if (rc < 0)
		store_rollback(s);
	free(text);
	return rc;
}

void
chat_file_clear(struct chat_file *f)
{
	free(f->platform);
	free(f->chat_id);
	free(f->user_id);
	free(f->message_id);
	free(f->file_ref);
	free(f->name);
	free(f->type);
	memset(f, 0, sizeof(*f));
}
