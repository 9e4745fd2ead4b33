/*
 * Reminder delivery (see remind.h): what reminders_due() says is due becomes
 * recorded keys, chat messages and MQTT events, one transaction per task so
 * a crash leaves a task's reminders either all sent or all still due. The
 * messages are short, in Chinese, and say what to do next.
 */
#include "campaign/remind.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "campaign/buf.h"
#include "campaign/caldate.h"
#include "campaign/channels.h"
#include "campaign/chats.h"
#include "campaign/clock.h"
#include "campaign/events.h"
#include "campaign/log.h"
#include "campaign/markup.h"
#include "campaign/outbox.h"
#include "campaign/plandb.h"
#include "campaign/progress.h"
#include "campaign/reminders.h"
#include "campaign/users.h"
#include "campaign/xmalloc.h"

/* What one tick works with. */
struct tick {
	struct store *store;
	const struct cfg *cfg;
	const struct plan *plan;
	const struct progress *progress;
	time_t now;
	int32_t today;
	time_t expires;         /* end of today: chat messages are not sent later */
	struct remind_stats *stats;
};

/* ---- words ---- */

static void
put_date(struct buf *b, const struct plan *plan, int32_t day)
{
	static const char *const weekdays[] = { "一", "二", "三", "四", "五", "六", "日" };
	int y, m, d;

	caldate_to_ymd(day, &y, &m, &d);
	if (y != plan->year)
		buf_printf(b, "%d年", y);
	buf_printf(b, "%d月%d日(周%s)", m, d, weekdays[caldate_weekday(day) - 1]);
}

/* "10月17日(周日)截止,还有2天" / "明天截止" / "今天截止" / "已逾期3天". */
static void
put_deadline(struct buf *b, const struct plan *plan, const struct plan_task *t,
    int32_t today)
{
	int32_t left = t->due - today;

	if (t->fuzzy)
		buf_puts(b, "约");
	put_date(b, plan, t->due);
	if (left > 1)
		buf_printf(b, "截止,还有%d天", (int)left);
	else if (left == 1)
		buf_puts(b, "截止,明天到期");
	else if (left == 0)
		buf_puts(b, "截止,今天到期");
	else
		buf_printf(b, "截止,已逾期%d天", (int)-left);
}

static void
put_cell(struct buf *b, const struct progress_cell *c)
{
	if (c->reported)
		buf_printf(b, "%d%%", c->percent);
	else
		buf_puts(b, "未汇报");
}

static void
put_heading(struct buf *b, bool overdue)
{
	buf_puts(b, overdue ? "⚠️ <b>逾期提醒</b>" : "⏰ <b>截止提醒</b>");
}

static void
put_title(struct buf *b, const struct plan_task *t)
{
	buf_puts(b, "<b>");
	markup_escape(b, t->id);
	buf_puts(b, "</b> ");
	markup_escape(b, t->title);
	buf_puts(b, "\n");
}

/* The message to a unit's own staff. */
static char *
unit_message(const struct tick *k, const struct reminder *r)
{
	const struct plan_task *t = &k->plan->tasks[r->task];
	const struct progress_cell *c = progress_cell(k->progress, r->task, r->unit);
	bool overdue = t->due < k->today;
	struct buf b;

	buf_init(&b, OUTBOX_TEXT_MAX);
	put_heading(&b, overdue);
	buf_puts(&b, " · ");
	markup_escape(&b, k->plan->units[r->unit].name);
	buf_puts(&b, "\n");
	put_title(&b, t);
	put_deadline(&b, k->plan, t, k->today);
	buf_puts(&b, "\n本单位进度:");
	if (c->reported) {
		buf_printf(&b, "%d%%", c->percent);
		if (c->note != NULL) {
			buf_puts(&b, "(");
			markup_escape(&b, c->note);
			buf_puts(&b, ")");
		}
	} else {
		buf_puts(&b, "还没有汇报");
	}
	buf_puts(&b, overdue ? "\n请尽快完成," : "\n");
	buf_puts(&b, "完成后发送 /report ");
	markup_escape(&b, t->id);
	buf_puts(&b, " done;汇报进度如 /report ");
	markup_escape(&b, t->id);
	buf_puts(&b, " 80 说明。");
	return buf_steal(&b);
}

/* The message to subscribed chats: the task and every unit not done. */
static char *
task_message(const struct tick *k, const struct reminder *group, size_t n)
{
	const struct plan_task *t = &k->plan->tasks[group[0].task];
	bool overdue = t->due < k->today;
	struct buf b;

	buf_init(&b, OUTBOX_TEXT_MAX);
	put_heading(&b, overdue);
	buf_puts(&b, "\n");
	put_title(&b, t);
	put_deadline(&b, k->plan, t, k->today);
	buf_printf(&b, " · 任务总进度%d%%\n尚未完成的单位:",
	    progress_task_percent(k->progress, k->plan, group[0].task));
	for (size_t i = 0; i < n; i++) {
		buf_puts(&b, i > 0 ? "、" : "");
		markup_escape(&b, k->plan->units[group[i].unit].name);
		buf_puts(&b, "(");
		put_cell(&b, progress_cell(k->progress, group[i].task, group[i].unit));
		buf_puts(&b, ")");
	}
	buf_puts(&b, "\n各单位完成后发送 /report ");
	markup_escape(&b, t->id);
	buf_puts(&b, " done。");
	return buf_steal(&b);
}

static char *
escalation_message(const struct tick *k, const struct escalation *e, size_t n)
{
	struct buf b;

	buf_init(&b, OUTBOX_TEXT_MAX);
	buf_puts(&b, "🚨 <b>督办提醒</b> · ");
	put_date(&b, k->plan, k->today);
	buf_printf(&b, "\n以下任务已逾期%d天以上,仍有单位未完成:\n",
	    k->cfg->reminders.escalate_after > 0 ? k->cfg->reminders.escalate_after : 1);
	for (size_t i = 0; i < n; i++) {
		const struct plan_task *t = &k->plan->tasks[e[i].task];

		if (i == 0 || e[i - 1].task != e[i].task) {
			buf_puts(&b, i > 0 ? "\n• " : "• ");
			put_title(&b, t);
			buf_puts(&b, "   ");
			put_deadline(&b, k->plan, t, k->today);
			buf_puts(&b, ";未完成:");
		} else {
			buf_puts(&b, "、");
		}
		markup_escape(&b, k->plan->units[e[i].unit].name);
		buf_puts(&b, "(");
		put_cell(&b, progress_cell(k->progress, e[i].task, e[i].unit));
		buf_puts(&b, ")");
	}
	buf_puts(&b, "\n发 /overdue 查看全部逾期任务。");
	return buf_steal(&b);
}

static json_t *
reminder_payload(const struct tick *k, const struct reminder *r)
{
	const struct plan_task *t = &k->plan->tasks[r->task];
	const struct progress_cell *c = progress_cell(k->progress, r->task, r->unit);
	char due[CALDATE_STRLEN], date[CALDATE_STRLEN];

	caldate_format(t->due, due);
	caldate_format(r->date, date);
	return json_pack("{s:{s:s,s:s,s:s,s:i},s:s,s:s,s:s,s:i,s:i,s:b}",
	    "task", "id", t->id, "title", t->title, "due", due,
	    "percent", progress_task_percent(k->progress, k->plan, r->task),
	    "unit", k->plan->units[r->unit].name, "kind", r->kind, "date", date,
	    "days_left", (int)(t->due - k->today), "percent", c->percent,
	    "reported", c->reported);
}

/* ---- keys and fan-out ---- */

/* Records a key: 1 new, 0 already sent, -1 error. */
static int
record_key(struct tick *k, const char *task_id, int64_t unit_id, const char *kind,
    int32_t day)
{
	sqlite3_stmt *st = store_stmt(k->store, "INSERT INTO reminders_sent(task_id, unit_id, "
	    "kind, day, sent_at) VALUES(?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING");
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, task_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, unit_id);
	sqlite3_bind_text(st, 3, kind, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, day);
	sqlite3_bind_int64(st, 5, (int64_t)k->now);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		store_log_error(k->store, "record reminder");
		return -1;
	}
	return sqlite3_changes(store_db(k->store)) > 0 ? 1 : 0;
}

static int
finish_key(struct tick *k, const char *task_id, int64_t unit_id, const char *kind,
    int32_t day, int64_t event_id, size_t chats)
{
	sqlite3_stmt *st = store_stmt(k->store, "UPDATE reminders_sent SET event_id = ?5, "
	    "chats = ?6 WHERE task_id = ?1 AND unit_id = ?2 AND kind = ?3 AND day = ?4");

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, task_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, unit_id);
	sqlite3_bind_text(st, 3, kind, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, day);
	if (event_id > 0)
		sqlite3_bind_int64(st, 5, event_id);
	sqlite3_bind_int64(st, 6, (int64_t)chats);
	return store_step_done(k->store, st, "finish reminder");
}

/* Queues text to every chat; the count queued (dedupe keys may skip some), or -1. */
static int64_t
send_all(struct tick *k, const struct chat_ref *chats, size_t n, const char *text,
    const char *key_prefix)
{
	int64_t queued = 0;

	for (size_t i = 0; i < n; i++) {
		char *key = xasprintf("%s:%s:%s", key_prefix, chats[i].platform,
		    chats[i].chat_id);
		struct outbox_item it = {
			.platform = chats[i].platform, .chat_id = chats[i].chat_id,
			.kind = OUTBOX_REMINDER, .text = text, .dedupe_key = key,
			.expires_at = k->expires,
		};
		int64_t id = outbox_enqueue(k->store, &it, k->now);

		free(key);
		if (id < 0)
			return -1;
		queued += id > 0;
	}
	k->stats->deliveries += (size_t)queued;
	return queued;
}

static bool
listed(const struct chat_ref *refs, size_t n, const struct chat_ref *c)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(refs[i].platform, c->platform) == 0 &&
		    strcmp(refs[i].chat_id, c->chat_id) == 0)
			return true;
	return false;
}

/* One unit's reminder: key, event, its staff's messages. 1 sent, 0 was sent, -1 error. */
static int
send_unit(struct tick *k, const struct reminder *r, struct chat_ref **reached,
    size_t *nreached)
{
	const struct plan_task *t = &k->plan->tasks[r->task];
	int64_t unit_id = k->plan->units[r->unit].id, event_id, queued;
	struct chat_ref *chats = NULL;
	size_t nchats = 0;
	char err[256], *text = NULL, *prefix = NULL;
	json_t *payload;
	int fresh = record_key(k, t->id, unit_id, r->kind, r->date), rc = -1;

	if (fresh <= 0)
		return fresh;
	payload = reminder_payload(k, r);
	event_id = events_append(k->store, "reminder", k->plan->id, payload, k->now, err,
	    sizeof(err));
	json_decref(payload);
	if (event_id < 0) {
		log_warnx("remind", "reminder %s %s: %s", t->id, k->plan->units[r->unit].name,
		    err);
		return -1;
	}
	k->stats->events++;
	if (chats_of_unit(k->store, unit_id, &chats, &nchats) < 0)
		goto out;
	text = unit_message(k, r);
	prefix = xasprintf("reminder:%s:%" PRId64 ":%s:%d", t->id, unit_id, r->kind,
	    (int)r->date);
	if ((queued = send_all(k, chats, nchats, text, prefix)) < 0 ||
	    finish_key(k, t->id, unit_id, r->kind, r->date, event_id, (size_t)queued) < 0)
		goto out;
	for (size_t i = 0; i < nchats; i++) {
		*reached = xreallocarray(*reached, *nreached + 1, sizeof(**reached));
		(*reached)[(*nreached)++] = chats[i];
	}
	free(chats);            /* the strings moved to reached */
	chats = NULL;
	nchats = 0;
	k->stats->reminders++;
	rc = 1;
out:
	chat_refs_free(chats, nchats);
	free(prefix);
	free(text);
	return rc;
}

/* Appends a chat ref {platform, id} (copied) to refs. */
static void
ref_add(struct chat_ref **refs, size_t *n, const char *platform, const char *id)
{
	*refs = xreallocarray(*refs, *n + 1, sizeof(**refs));
	(*refs)[*n].platform = xstrdup(platform);
	(*refs)[(*n)++].chat_id = xstrdup(id);
}

/*
 * The channels (group robots) that want reminders get one list per task:
 * the units of the group their filter lets through. The count queued, or -1.
 */
static int64_t
send_channels(struct tick *k, const struct reminder *group, size_t n, const char *prefix)
{
	struct channel *c = NULL;
	struct reminder *mine = xcalloc(n, sizeof(*mine));
	char platform[] = CHANNEL_PLATFORM;
	size_t nc = 0;
	int64_t queued = 0;

	if (channels_list(k->store, &c, &nc) < 0)
		queued = -1;
	for (size_t i = 0; i < nc && queued >= 0; i++) {
		struct chat_ref ref = { .platform = platform, .chat_id = c[i].name };
		size_t m = 0;
		char *text;
		int64_t q;

		if (c[i].failing || (c[i].sends & CHANNEL_REMINDERS) == 0)
			continue;
		for (size_t j = 0; j < n; j++)
			if (channels_has_unit(&c[i], k->plan->units[group[j].unit].name))
				mine[m++] = group[j];
		if (m == 0)
			continue;
		text = task_message(k, mine, m);
		q = send_all(k, &ref, 1, text, prefix);
		free(text);
		queued = q < 0 ? -1 : queued + q;
	}
	channels_free(c, nc);
	free(mine);
	return queued;
}

/* One task's reminders (same kind and day for every unit), in one transaction. */
static int
send_task(struct tick *k, const struct reminder *group, size_t n)
{
	const struct plan_task *t = &k->plan->tasks[group[0].task];
	struct chat_ref *reached = NULL, *subs = NULL, *others = NULL;
	size_t nreached = 0, nsubs = 0, nothers = 0, fresh = 0;
	char *text = NULL, *prefix = NULL;
	char date[CALDATE_STRLEN];
	int64_t queued = 0;
	int rc = -1;

	if (store_begin(k->store) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int sent = send_unit(k, &group[i], &reached, &nreached);

		if (sent < 0)
			goto out;
		fresh += (size_t)sent;
	}
	if (fresh > 0) {
		if (chats_subscribed(k->store, &subs, &nsubs) < 0)
			goto out;
		others = xcalloc(nsubs + 1, sizeof(*others));
		for (size_t i = 0; i < nsubs; i++)
			if (!listed(reached, nreached, &subs[i]))
				others[nothers++] = subs[i];
		text = task_message(k, group, n);
		prefix = xasprintf("reminder:%s:*:%s:%d", t->id, group[0].kind,
		    (int)group[0].date);
		if ((queued = send_all(k, others, nothers, text, prefix)) < 0 ||
		    send_channels(k, group, n, prefix) < 0)
			goto out;
	}
	if (store_commit(k->store) < 0)
		goto fail;
	if (fresh > 0) {
		caldate_format(group[0].date, date);
		log_info("remind", "task %s %s (%s): %zu unit(s) reminded, %zu staff chat(s), "
		    "%" PRId64 " subscribed chat(s)", t->id, group[0].kind, date, fresh, nreached,
		    queued);
	}
	rc = 0;
	goto done;
out:
	store_rollback(k->store);
fail:
	log_warnx("remind", "task %s: reminders not sent (store error); next tick retries",
	    t->id);
done:
	free(others);           /* borrowed from subs */
	chat_refs_free(subs, nsubs);
	chat_refs_free(reached, nreached);
	free(prefix);
	free(text);
	return rc;
}

/* The admins' private chats: campaignctl admin and [chat] admins. */
static int
admin_chats(struct tick *k, struct chat_ref **out, size_t *n)
{
	char **ids = NULL;
	size_t nids = 0;
	int rc;

	if (admins_list(k->store, &ids, &nids) < 0)
		return -1;
	for (size_t i = 0; i < k->cfg->chat.nadmins; i++) {
		ids = xreallocarray(ids, nids + 1, sizeof(*ids));
		ids[nids++] = xstrdup(k->cfg->chat.admins[i]);
	}
	rc = chats_of_users(k->store, ids, nids, out, n);
	for (size_t i = 0; i < nids; i++)
		free(ids[i]);
	free(ids);
	return rc;
}

/* The channels that want the admins' digest, added to refs. */
static int
digest_channels(struct tick *k, struct chat_ref **refs, size_t *n)
{
	char **names;
	size_t nnames;

	if (channels_wanting(k->store, CHANNEL_DIGEST, NULL, 0, &names, &nnames) < 0)
		return -1;
	for (size_t i = 0; i < nnames; i++)
		ref_add(refs, n, CHANNEL_PLATFORM, names[i]);
	channels_names_free(names, nnames);
	return 0;
}

/* The digest names every failing channel, so an admin learns a robot stopped working. */
static void
failing_channels(struct tick *k, char **text)
{
	struct channel *c;
	size_t n;
	struct buf b;

	if (channels_list(k->store, &c, &n) < 0)
		return;
	buf_init(&b, OUTBOX_TEXT_MAX);
	buf_puts(&b, *text);
	for (size_t i = 0; i < n; i++) {
		if (!c[i].failing)
			continue;
		buf_puts(&b, "\n⚠️ 群机器人 ");
		markup_escape(&b, c[i].name);
		buf_printf(&b, " 发送失败(%lld ", (long long)c[i].error_code);
		markup_escape(&b, c[i].error != NULL ? c[i].error : "");
		buf_puts(&b, "),请核对其 Webhook 地址和密钥后用 campaignctl channel update 更新。");
	}
	free(*text);
	*text = buf_steal(&b);
	channels_free(c, n);
}

static int
send_escalations(struct tick *k)
{
	struct escalation *e = NULL;
	struct chat_ref *admins = NULL;
	size_t n, nadmins = 0;
	int32_t day;
	char *text = NULL, *prefix = NULL;
	int fresh, rc = -1;

	n = reminders_escalations(k->plan, k->progress, k->cfg, k->now, &e, &day);
	if (n == 0) {
		rc = 0;
		goto out;
	}
	if (admin_chats(k, &admins, &nadmins) < 0 || digest_channels(k, &admins, &nadmins) < 0)
		goto out;
	if (nadmins == 0) {
		/* Not recorded: an admin who writes to the bot later today still gets it. */
		rc = 0;
		goto out;
	}
	if (store_begin(k->store) < 0)
		goto out;
	if ((fresh = record_key(k, "", 0, "escalation", day)) < 0)
		goto rollback;
	if (fresh == 1) {
		int64_t queued;

		text = escalation_message(k, e, n);
		failing_channels(k, &text);
		prefix = xasprintf("escalation:%d", (int)day);
		if ((queued = send_all(k, admins, nadmins, text, prefix)) < 0 ||
		    finish_key(k, "", 0, "escalation", day, 0, (size_t)queued) < 0)
			goto rollback;
		k->stats->escalations += n;
	}
	if (store_commit(k->store) < 0)
		goto out;
	if (fresh == 1)
		log_info("remind", "escalation digest: %zu late unit(s) to %zu admin chat(s)", n,
		    nadmins);
	rc = 0;
	goto out;
rollback:
	store_rollback(k->store);
out:
	chat_refs_free(admins, nadmins);
	free(prefix);
	free(text);
	free(e);
	return rc;
}

int
remind_tick(struct store *s, const struct cfg *cfg, time_t now, struct remind_stats *out)
{
	struct remind_stats stats = { 0 };
	struct tick k = { .store = s, .cfg = cfg, .now = now, .stats = &stats };
	struct plan *plan = NULL;
	struct progress *progress = NULL;
	struct reminder *due = NULL;
	size_t n = 0;
	char err[256];
	int rc = -1;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (!plandb_present(s))
		return 0;
	if ((plan = plandb_load(s, err, sizeof(err))) == NULL ||
	    plandb_use_zone(s, err, sizeof(err)) < 0) {
		log_warnx("remind", "%s", err);
		goto out;
	}
	if ((progress = progress_load(s, plan)) == NULL)
		goto out;
	k.plan = plan;
	k.progress = progress;
	k.today = clock_local_day(now);
	k.expires = clock_local_time(k.today + 1, 0);
	n = reminders_due(plan, progress, cfg, now, &due);
	rc = 0;
	/* reminders_due lists a task's units together, all with the task's kind and day. */
	for (size_t i = 0, j; i < n; i = j) {
		for (j = i + 1; j < n && due[j].task == due[i].task; j++)
			;
		if (send_task(&k, &due[i], j - i) < 0)
			rc = -1;
	}
	if (send_escalations(&k) < 0)
		rc = -1;
out:
	if (out != NULL)
		*out = stats;
	free(due);
	progress_free(progress);
	plan_free(plan);
	return rc;
}
