/*
 * A file sent to the bot (issue 15): in a private chat from a bound user, a
 * unit's written summary. Recorded here with the message (the platform's
 * fetcher, file_fetch.c, downloads it and confirms); refused with the
 * reason when it comes from a group, an unbound user, or is announced too
 * large or of another type. A file that comes without a name or size (WeCom
 * names it only when downloaded) is checked by the fetcher.
 */
#include <stdio.h>
#include <string.h>

#include "campaign/chatfiles.h"
#include "campaign/submissions.h"
#include "core.h"

int
cmd_file(struct ctx *c)
{
	const struct chat_event *ev = c->ev;
	int64_t max = c->cfg->mail.max_size;
	struct chat_file_in f;
	int rc;

	if (c->group) {
		buf_puts(&c->out, "请私聊我发送总结材料（群里的文件我收不到）。");
		return 0;
	}
	if (c->user.unit_id == 0 || ev->user_id == NULL || ev->message_id == NULL) {
		buf_puts(&c->out, "您还没有绑定单位，文件没有收下。请先发 /bind 邀请码，再发文件。");
		return 0;
	}
	if (*ev->file_name != '\0' &&
	    !submissions_type_allowed(c->cfg->mail.types, c->cfg->mail.ntypes, ev->file_name)) {
		submissions_type_refusal(&c->out, c->cfg->mail.types, c->cfg->mail.ntypes,
		    ev->file_name);
		return 0;
	}
	if (ev->file_size > max) {
		buf_printf(&c->out, "《%s》没有收下：文件 %.1f MB，超过上限 %lld MB。请压缩后再发，"
		    "或用邮件发送。", ev->file_name, (double)ev->file_size / (1024.0 * 1024.0),
		    (long long)(max / (1024 * 1024)));
		return 0;
	}
	f = (struct chat_file_in){
		.platform = c->platform, .chat_id = ev->chat_id, .user_id = ev->user_id,
		.message_id = ev->message_id, .unit_id = c->user.unit_id, .file_ref = ev->file_ref,
		.name = ev->file_name, .type = ev->file_type, .size = ev->file_size,
	};
	rc = chatfiles_queue(c->store, &f, c->now);
	return rc < 0 ? -1 : 0;
}
