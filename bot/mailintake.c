/*
 * Office mail into submissions, bindings and confirmations. See mailintake.h.
 */
#include "mailintake.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "campaign/buf.h"
#include "campaign/invites.h"
#include "campaign/log.h"
#include "campaign/mailstore.h"
#include "campaign/outbox.h"
#include "campaign/plan.h"
#include "campaign/plandb.h"
#include "campaign/submissions.h"
#include "campaign/users.h"
#include "campaign/xmalloc.h"
#include "mailparse.h"

#define MB (1024.0 * 1024.0)

/* What one message did, for the outcome row and the confirmation. */
struct outcome {
	struct buf reply;       /* confirmation body */
	const char *what;       /* submitted, unassigned, bound, refused, ignored */
	int accepted, refused;
};

/* "mid:<Message-ID>", or "sha:<hash of the raw message>" when it has none. */
static char *
message_key(const struct mail_msg *m, const void *raw, size_t len)
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0;
	char hex[65];

	if (m->message_id != NULL)
		return xasprintf("mid:%s", m->message_id);
	if (EVP_Digest(raw, len, d, &dlen, EVP_sha256(), NULL) != 1)
		dlen = 0;
	for (unsigned int i = 0; i < dlen && i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", d[i]);
	hex[2 * (dlen < 32 ? dlen : 32)] = '\0';
	return xasprintf("sha:%s", hex);
}

/* A subject that is only an invite code ("ABCDE-FGHJK", any case). */
static bool
looks_like_code(const char *subject)
{
	size_t alnum = 0;

	if (subject == NULL || strlen(subject) > 16)
		return false;
	for (const char *p = subject; *p != '\0'; p++) {
		if (isalnum((unsigned char)*p))
			alnum++;
		else if (*p != '-' && *p != ' ')
			return false;
	}
	return alnum == 10;
}

static int
queue_reply(struct store *s, const char *to, const char *key, const char *subject,
    const char *body, time_t now)
{
	char *text = xasprintf("%s\n\n%s", subject, body);
	char *dedupe = xasprintf("mail-reply:%s", key);
	struct outbox_item it = {
		.platform = MAIL_PLATFORM, .chat_id = to, .kind = OUTBOX_REPLY, .text = text,
		.plain = true, .dedupe_key = dedupe,
	};
	int64_t id = outbox_enqueue(s, &it, now);

	free(text);
	free(dedupe);
	return id < 0 ? -1 : 0;
}

static const char *
unit_name(const struct plan *plan, int64_t unit_id)
{
	ssize_t u = plan_unit_index_id(plan, unit_id);

	return u >= 0 ? plan->units[u].name : "?";
}

/* The invite code in the subject binds the address; *unit_id is the binding after. */
static void
redeem(struct store *s, const struct plan *plan, const struct mail_msg *m, time_t now,
    int64_t *unit_id, struct outcome *oc)
{
	int64_t bound = 0;

	switch (invites_redeem(s, m->subject, MAIL_PLATFORM, m->from, m->from_name, now,
	    &bound)) {
	case INVITE_BOUND:
		*unit_id = bound;
		oc->what = "bound";
		buf_printf(&oc->reply, "此邮箱 %s 已绑定到 %s。今后从这个地址发来的总结材料"
		    "（作为附件）将记为%s报送。\n", m->from, unit_name(plan, bound),
		    unit_name(plan, bound));
		break;
	case INVITE_USED:
		buf_printf(&oc->reply, "邀请码 %s 已被使用过。请向办公室索取新的邀请码。\n",
		    m->subject);
		break;
	case INVITE_EXPIRED:
		buf_printf(&oc->reply, "邀请码 %s 已过期。请向办公室索取新的邀请码。\n",
		    m->subject);
		break;
	case INVITE_UNKNOWN:
		buf_printf(&oc->reply, "邀请码 %s 无效。请核对后重发（主题只写邀请码）。\n",
		    m->subject);
		break;
	case INVITE_ERROR:
		break;
	}
}

static int
add_file(struct store *s, const struct plan *plan, const struct mail_msg *m,
    const char *key, size_t index, const char *name, const char *type,
    const void *data, size_t len, int64_t unit_id, time_t now, struct outcome *oc)
{
	char sha[SUBMISSIONS_SHA_STRLEN], err[256], *source = NULL;
	struct submission_in in;
	int64_t id;
	int rc = -1;

	if (submissions_put_file(s, data, len, now, sha, err, sizeof(err)) < 0) {
		log_warnx("mail", "%s", err);
		return -1;
	}
	source = xasprintf("%s#%zu", key, index);
	in = (struct submission_in){
		.unit_id = unit_id, .sha256 = sha, .name = name, .size = (int64_t)len,
		.type = type, .channel = MAIL_PLATFORM, .sender = m->from, .source_id = source,
		.subject = m->subject, .at = now,
	};
	id = submissions_add(s, plan, &in, err, sizeof(err));
	if (id < 0) {
		log_warnx("mail", "%s", err);
		goto out;
	}
	oc->accepted++;
	rc = 0;
out:
	free(source);
	return rc;
}

/* "13 字节", "20.5 KB", "3.2 MB" */
static void
size_text(size_t len, char *out, size_t outlen)
{
	if (len < 1024)
		snprintf(out, outlen, "%zu 字节", len);
	else if (len < 1024 * 1024)
		snprintf(out, outlen, "%.1f KB", (double)len / 1024.0);
	else
		snprintf(out, outlen, "%.1f MB", (double)len / MB);
}

static void
confirm_submitted(struct store *s, const struct plan *plan, int64_t unit_id,
    const char *name, size_t len, const char *subject, struct outcome *oc)
{
	char *task = submissions_pick_task(plan, unit_id, subject);
	const struct plan_task *t = task != NULL ? plan_task_get(plan, task) : NULL;
	char size[32];

	if (t == NULL) {
		free(task);
		task = submissions_pick_task(plan, unit_id, name);
		t = task != NULL ? plan_task_get(plan, task) : NULL;
	}
	size_text(len, size, sizeof(size));
	if (t != NULL)
		buf_printf(&oc->reply, "已收到 %s 报送的《%s》（%s），计入任务 %s：%s。"
		    "如有修改，再发一次即可，以最新一份为准。\n", unit_name(plan, unit_id), name,
		    size, t->id, t->deliverable);
	else
		buf_printf(&oc->reply, "已收到 %s 发来的《%s》（%s）。\n",
		    unit_name(plan, unit_id), name, size);
	free(task);
	(void)s;
}

static int
attachments(struct store *s, const struct mailintake_opts *o, const struct plan *plan,
    const struct mail_msg *m, const char *key, int64_t unit_id, time_t now,
    struct outcome *oc)
{
	for (size_t i = 0; i < m->nparts; i++) {
		const struct mail_part *p = &m->parts[i];

		if (!submissions_type_allowed(o->types, o->ntypes, p->name)) {
			oc->refused++;
			submissions_type_refusal(&oc->reply, o->types, o->ntypes, p->name);
			buf_puts(&oc->reply, "\n");
			continue;
		}
		if ((int64_t)p->len > o->max_size) {
			oc->refused++;
			buf_printf(&oc->reply, "《%s》未收：文件 %.1f MB，超过上限 %.0f MB。"
			    "请压缩后重发，或分几封邮件发送。\n", p->name, (double)p->len / MB,
			    (double)o->max_size / MB);
			continue;
		}
		if (add_file(s, plan, m, key, i, p->name, p->type, p->data, p->len, unit_id,
		    now, oc) < 0)
			return -1;
		if (unit_id > 0)
			confirm_submitted(s, plan, unit_id, p->name, p->len, m->subject, oc);
	}
	return 0;
}

/* A message from an unknown address with nothing attached: kept whole. */
static int
keep_whole(struct store *s, const struct plan *plan, const struct mail_msg *m,
    const char *key, const void *raw, size_t len, time_t now, struct outcome *oc)
{
	char *name = xasprintf("%s.eml", m->subject != NULL ? m->subject : "mail");
	int rc;

	for (char *p = name; *p != '\0'; p++)
		if (*p == '/' || (unsigned char)*p < 0x20)
			*p = '_';
	rc = add_file(s, plan, m, key, 9999, name, "message/rfc822", raw, len, 0, now, oc);
	free(name);
	return rc;
}

static int
finish(struct store *s, const struct mailintake_opts *o, const struct mail_pos *pos,
    const struct mail_msg *m, const char *key, struct outcome *oc, time_t now)
{
	const char *subject;
	char *re;
	int rc;

	if (mailstore_handled(s, key, m->from != NULL ? m->from : "", m->subject, oc->what,
	    NULL, now) < 0 || mailstore_set_position(s, pos->mailbox, pos->uidvalidity,
	    pos->uid) < 0)
		return -1;
	if (!o->reply || m->from == NULL || m->automatic || oc->reply.len == 0)
		return 0;
	subject = strcmp(oc->what, "refused") == 0 ? "未收到材料" :
	    strcmp(oc->what, "bound") == 0 ? "邮箱已绑定" : "已收到";
	re = xasprintf("%s：%s", subject, m->subject != NULL ? m->subject : "（无主题）");
	rc = queue_reply(s, m->from, key, re, buf_str(&oc->reply), now);
	free(re);
	return rc;
}

static int
handle(struct store *s, const struct mailintake_opts *o, const struct plan *plan,
    const struct mail_pos *pos, const struct mail_msg *m, const char *key,
    const void *raw, size_t len, time_t now)
{
	struct outcome oc = { .what = "ignored" };
	struct user_info ui;
	int64_t unit_id = 0;
	int rc = -1;

	buf_init(&oc.reply, 64 * 1024);
	if (m->from == NULL)
		goto done;
	if (users_get(s, MAIL_PLATFORM, m->from, &ui) < 0)
		goto out;
	unit_id = ui.unit_id;
	user_info_clear(&ui);
	if (looks_like_code(m->subject))
		redeem(s, plan, m, now, &unit_id, &oc);
	if (attachments(s, o, plan, m, key, unit_id, now, &oc) < 0)
		goto out;
	if (oc.accepted > 0)
		oc.what = unit_id > 0 ? "submitted" : "unassigned";
	else if (oc.refused > 0)
		oc.what = "refused";
	if (unit_id == 0 && oc.accepted == 0 && strcmp(oc.what, "bound") != 0) {
		if (keep_whole(s, plan, m, key, raw, len, now, &oc) < 0)
			goto out;
		oc.what = oc.refused > 0 ? "refused" : "unassigned";
	}
	if (unit_id == 0 && !looks_like_code(m->subject))
		buf_printf(&oc.reply, "您的邮件已收到并保存。此邮箱地址 %s 尚未绑定单位，"
		    "办公室确认后计入。也可以把办公室给的邀请码作为邮件主题单独发一封，"
		    "绑定后再发的材料自动计入本单位。\n", m->from);
	else if (unit_id > 0 && m->nparts == 0 && strcmp(oc.what, "bound") != 0)
		buf_printf(&oc.reply, "邮件里没有附件。请把总结材料作为附件发送（格式：");
	if (unit_id > 0 && m->nparts == 0 && strcmp(oc.what, "bound") != 0) {
		submissions_types_list(&oc.reply, o->types, o->ntypes);
		buf_puts(&oc.reply, ")。\n");
	}
done:
	rc = finish(s, o, pos, m, key, &oc, now);
out:
	buf_free(&oc.reply);
	(void)plan;
	return rc;
}

static struct plan *
load_plan(struct store *s)
{
	char err[256];
	struct plan *plan = plandb_load(s, err, sizeof(err));

	if (plan == NULL)
		log_warnx("mail", "mail left in the mailbox: %s", err);
	return plan;
}

int
mailintake_message(struct store *s, const struct mailintake_opts *o,
    const struct mail_pos *pos, const void *raw, size_t len, time_t now)
{
	struct mail_msg m;
	struct plan *plan = NULL;
	char err[256], *key = NULL;
	int rc = -1, seen;

	if (mailparse_message(raw, len, &m, err, sizeof(err)) < 0) {
		log_warnx("mail", "uid %lld: %s; skipped", (long long)pos->uid, err);
		return mailintake_skip(s, pos);
	}
	key = message_key(&m, raw, len);
	plan = load_plan(s);
	if (plan == NULL || store_begin(s) < 0)
		goto out;
	seen = mailstore_seen(s, key);
	if (seen < 0)
		goto rollback;
	if (seen > 0)
		rc = mailstore_set_position(s, pos->mailbox, pos->uidvalidity, pos->uid);
	else
		rc = handle(s, o, plan, pos, &m, key, raw, len, now);
	if (rc < 0 || store_commit(s) < 0)
		goto rollback;
	log_info("mail", "uid %lld: %s", (long long)pos->uid, seen > 0 ? "already handled" :
	    "handled");
	rc = 0;
	goto out;
rollback:
	store_rollback(s);
	rc = -1;
out:
	plan_free(plan);
	free(key);
	mail_msg_clear(&m);
	return rc;
}

int
mailintake_too_large(struct store *s, const struct mailintake_opts *o,
    const struct mail_pos *pos, const void *header, size_t len, int64_t size, time_t now)
{
	struct outcome oc = { .what = "refused" };
	struct mail_msg m;
	char err[256], *key = NULL;
	int rc = -1, seen;

	if (mailparse_message(header, len, &m, err, sizeof(err)) < 0)
		return mailintake_skip(s, pos);
	key = message_key(&m, header, len);
	buf_init(&oc.reply, 4096);
	buf_printf(&oc.reply, "邮件太大（%.1f MB），未能接收：附件上限 %.0f MB。请压缩后重发，"
	    "或分几封邮件发送。\n", (double)size / MB, (double)o->max_size / MB);
	if (store_begin(s) < 0)
		goto out;
	seen = mailstore_seen(s, key);
	if (seen < 0)
		goto rollback;
	if (seen > 0)
		rc = mailstore_set_position(s, pos->mailbox, pos->uidvalidity, pos->uid);
	else
		rc = finish(s, o, pos, &m, key, &oc, now);
	if (rc < 0 || store_commit(s) < 0)
		goto rollback;
	log_info("mail", "uid %lld: %.1f MB, refused", (long long)pos->uid, (double)size / MB);
	rc = 0;
	goto out;
rollback:
	store_rollback(s);
	rc = -1;
out:
	buf_free(&oc.reply);
	free(key);
	mail_msg_clear(&m);
	return rc;
}

int
mailintake_skip(struct store *s, const struct mail_pos *pos)
{
	if (store_begin(s) < 0)
		return -1;
	if (mailstore_set_position(s, pos->mailbox, pos->uidvalidity, pos->uid) < 0 ||
	    store_commit(s) < 0) {
		store_rollback(s);
		return -1;
	}
	return 0;
}
