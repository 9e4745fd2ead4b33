/*
 * Batch application (see intake.h). Each event runs in its own savepoint: an
 * event that fails (a store error while answering it) is rolled back alone,
 * answered with an apology and still marked seen, so one poisonous update
 * can never block the ones behind it forever.
 */
#include "intake.h"

#include <string.h>

#include "campaign/chats.h"
#include "campaign/clock.h"
#include "campaign/log.h"
#include "campaign/outbox.h"

/* 1 new (now recorded), 0 already applied, -1 error. */
static int
mark_seen(struct store *s, const char *platform, const char *event_id)
{
	sqlite3_stmt *st = store_stmt(s, "INSERT OR IGNORE INTO seen_updates(platform, "
	    "update_id, seen_at) VALUES(?1, ?2, ?3)");
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, platform, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, event_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, outbox_now_ms() / 1000);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		store_log_error(s, "record update");
		return -1;
	}
	return sqlite3_changes(store_db(s)) > 0 ? 1 : 0;
}

static int
apply(struct store *s, struct core *core, const char *platform, const struct chat_event *ev)
{
	time_t now = clock_now();
	bool private_chat = ev->chat_kind == NULL || strcmp(ev->chat_kind, CHAT_PRIVATE) == 0;

	switch (ev->kind) {
	case CHAT_EV_MESSAGE:
		/* The console is the local operator's view: it gets broadcasts from the start. */
		if (chats_seen(s, platform, ev->chat_id, ev->chat_kind, ev->chat_title,
		    private_chat ? ev->user_id : NULL, strcmp(platform, "console") == 0, now) < 0)
			return -1;
		return core_message(core, platform, ev);
	case CHAT_EV_JOINED:
		log_info("intake", "%s chat %s: the bot was added or unblocked", platform,
		    ev->chat_id);
		return chats_seen(s, platform, ev->chat_id, ev->chat_kind, ev->chat_title,
		    private_chat ? ev->user_id : NULL, strcmp(platform, "console") == 0, now);
	case CHAT_EV_LEFT:
		log_info("intake", "%s chat %s: the bot was removed or blocked", platform,
		    ev->chat_id);
		if (chats_set_active(s, platform, ev->chat_id, false, "removed from the chat",
		    now) < 0)
			return -1;
		return outbox_fail_chat(s, platform, ev->chat_id, "removed from the chat",
		    now) < 0 ? -1 : 0;
	case CHAT_EV_MIGRATED:
		log_info("intake", "%s chat %s moved to %s", platform, ev->chat_id,
		    ev->new_chat_id);
		return chats_migrate(s, platform, ev->chat_id, ev->new_chat_id, now);
	case CHAT_EV_EDITED:
	case CHAT_EV_OTHER:
		break;
	}
	return 0;
}

int
intake_batch(struct store *s, struct core *core, const struct chat_batch *b,
    size_t *napplied)
{
	*napplied = 0;
	if (store_begin(s) < 0)
		return -1;
	for (size_t i = 0; i < b->n; i++) {
		const struct chat_event *ev = &b->events[i];
		int fresh = 1;

		if (ev->event_id != NULL) {
			fresh = mark_seen(s, b->platform, ev->event_id);
			if (fresh < 0)
				goto fail;
			if (fresh == 0) {
				log_debug("intake", "%s update %s was already applied", b->platform,
				    ev->event_id);
				continue;
			}
		}
		if (store_begin(s) < 0)
			goto fail;
		if (apply(s, core, b->platform, ev) == 0) {
			if (store_commit(s) < 0)
				goto fail;
		} else {
			store_rollback(s);
			if (core_apologize(core, b->platform, ev) < 0) {
				log_warnx("intake", "%s update %s failed, and storing an apology "
				    "failed too: not answered, to be tried again", b->platform,
				    ev->event_id != NULL ? ev->event_id : "-");
				goto fail;
			}
			log_warnx("intake", "%s update %s failed; answered with an apology",
			    b->platform, ev->event_id != NULL ? ev->event_id : "-");
		}
		(*napplied)++;
	}
	if (b->cursor_key != NULL && b->cursor != NULL &&
	    store_kv_set(s, b->cursor_key, b->cursor) < 0)
		goto fail;
	if (store_commit(s) < 0) {
		*napplied = 0;
		return -1;
	}
	return 0;
fail:
	*napplied = 0;
	store_rollback(s);
	return -1;
}

int
intake_prune(struct store *s)
{
	sqlite3_stmt *st = store_stmt(s, "DELETE FROM seen_updates WHERE seen_at < ?1");
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, outbox_now_ms() / 1000 - INTAKE_SEEN_TTL);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		store_log_error(s, "prune seen updates");
		return -1;
	}
	return sqlite3_changes(store_db(s));
}
