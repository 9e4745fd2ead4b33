/*
 * The console driver: one message per line on stdin, replies on stdout, in a
 * terminal or a pipe. `printf '/tasks 市扶贫办\n' | campaign-bot --console`
 * answers and exits at EOF once the replies are out. The console user is a
 * local admin unless --as names someone else; its chat also shows what
 * other processes queue for it (broadcasts, reminders) while it runs.
 */
#include "driver_console.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "campaign/buf.h"
#include "campaign/chats.h"
#include "campaign/log.h"
#include "campaign/safetext.h"
#include "campaign/markup.h"
#include "campaign/xmalloc.h"

/* A line longer than this is cut (and refused by the core as too long). */
#define LINE_MAX_BYTES (2 * 1024 * 1024)
#define READ_CHUNK (64 * 1024)

struct console {
	struct driver drv;
	int fd;
	char *user_id;
	bool admin;
	bool tty;
	bool eof;
	size_t refused;         /* messages the database did not take */
	struct buf line;        /* the partial line read so far */
	size_t dropped;         /* bytes of the current line beyond LINE_MAX_BYTES */
	int64_t *done;          /* deliveries printed, their results not yet reported */
	size_t ndone;
	struct loop_timer *report;
};

static void on_readable(void *arg, int fd);

static bool
blank_line(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return false;
	return true;
}

/* Appends a finished line to the batch being built; empty lines are not messages. */
static void
add_event(struct console *c, struct chat_event **evs, size_t *n, char ***texts,
    const char *s, size_t len)
{
	struct chat_event *ev;
	char *text;

	if (len > 0 && s[len - 1] == '\r')
		len--;
	if (blank_line(s, len))
		return;
	if (c->dropped > 0)
		log_warnx("console", "a %zu-byte line was cut at %d bytes", len + c->dropped,
		    LINE_MAX_BYTES);
	text = xmalloc(len + 1);
	memcpy(text, s, len);
	text[len] = '\0';
	*evs = xreallocarray(*evs, *n + 1, sizeof(**evs));
	*texts = xreallocarray(*texts, *n + 1, sizeof(**texts));
	(*texts)[*n] = text;
	ev = &(*evs)[(*n)++];
	*ev = (struct chat_event){
		.kind = CHAT_EV_MESSAGE, .chat_id = c->user_id, .chat_kind = CHAT_PRIVATE,
		.user_id = c->user_id, .text = text, .text_len = len, .as_admin = c->admin,
	};
}

static void
deliver(struct console *c, struct chat_event *evs, size_t n, char **texts)
{
	struct chat_batch b = { .platform = c->drv.ops->name, .events = evs, .n = n };

	if (n > 0 && c->drv.host->batch(c->drv.host->ctx, &b) < 0) {
		fprintf(stderr, "campaign-bot: the database refused %zu message(s); "
		    "see the log above\n", n);
		c->refused += n;
	}
	for (size_t i = 0; i < n; i++)
		free(texts[i]);
	free(texts);
	free(evs);
}

static void
on_readable(void *arg, int fd)
{
	struct console *c = arg;
	char chunk[READ_CHUNK];
	struct chat_event *evs = NULL;
	char **texts = NULL;
	size_t n = 0;
	ssize_t got = read(fd, chunk, sizeof(chunk));

	if (got < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (got < 0)
		log_warn("console", "read stdin");
	for (ssize_t i = 0, start = 0; i < got; i++) {
		if (chunk[i] != '\n' && i + 1 < got)
			continue;
		size_t len = (size_t)(i - start) + (chunk[i] != '\n');

		if (c->line.len + len > LINE_MAX_BYTES) {
			size_t room = LINE_MAX_BYTES - c->line.len;

			c->dropped += len - room;
			len = room;
		}
		buf_append(&c->line, chunk + start, len);
		if (chunk[i] == '\n') {
			add_event(c, &evs, &n, &texts, buf_str(&c->line), c->line.len);
			buf_reset(&c->line);
			c->dropped = 0;
		}
		start = i + 1;
	}
	if (got <= 0) {
		/* EOF: the last line may lack its newline. */
		if (c->line.len > 0)
			add_event(c, &evs, &n, &texts, buf_str(&c->line), c->line.len);
		buf_reset(&c->line);
		c->eof = true;
		loop_unwatch_fd(c->drv.host->loop, c->fd);
	}
	deliver(c, evs, n, texts);
	if (c->eof && c->refused > 0) {
		/* Not a clean run: say so in the exit status too. */
		char msg[128];

		snprintf(msg, sizeof(msg), "%zu message(s) were not recorded (the database "
		    "refused them); exiting with status 1", c->refused);
		c->drv.host->fatal(c->drv.host->ctx, msg);
	} else if (c->eof) {
		c->drv.host->input_closed(c->drv.host->ctx);
	}
}

static void
report_results(void *arg)
{
	struct console *c = arg;
	struct send_result ok = { .status = SEND_OK };
	int64_t *done = c->done;
	size_t n = c->ndone;

	c->done = NULL;
	c->ndone = 0;
	for (size_t i = 0; i < n; i++)
		c->drv.host->sent(c->drv.host->ctx, done[i], &ok);
	free(done);
}

static int
console_start(struct driver *d)
{
	struct console *c = d->priv;

	/*
	 * The session opens the chat: it exists (subscribed, as consoles are)
	 * before anything is typed, so broadcasts and reminders due now show.
	 */
	struct chat_event open = {
		.kind = CHAT_EV_JOINED, .chat_id = c->user_id, .chat_kind = CHAT_PRIVATE,
		.user_id = c->user_id,
	};
	struct chat_batch b = { .platform = d->ops->name, .events = &open, .n = 1 };

	if (d->host->batch(d->host->ctx, &b) < 0)
		log_warnx("console", "cannot record the console chat");
	loop_watch_fd(d->host->loop, c->fd, on_readable, c);
	safetext_filter_stdio();        /* what users wrote never steers this terminal */
	if (c->tty)
		fprintf(stderr, "campaign-bot console: 你是用户 %s%s。输入 /help 查看用法,"
		    "Ctrl-D 退出。\n", c->user_id, c->admin ? "(管理员)" : "");
	return 0;
}

static void
console_stop(struct driver *d)
{
	struct console *c = d->priv;

	if (!c->eof)
		loop_unwatch_fd(d->host->loop, c->fd);
	c->eof = true;
}

static bool
console_can_send(struct driver *d)
{
	(void)d;
	return true;
}

static int
console_send(struct driver *d, const struct chat_out *m)
{
	struct console *c = d->priv;
	fputs(m->text, stdout);         /* rendered as plain text (ops->format) */
	fputs("\n\n", stdout);
	fflush(stdout);
	c->done = xreallocarray(c->done, c->ndone + 1, sizeof(*c->done));
	c->done[c->ndone++] = m->delivery_id;
	loop_timer_at(c->report, 0);
	return 0;
}

static bool
console_idle(struct driver *d)
{
	struct console *c = d->priv;

	return c->ndone == 0;
}

/* Other console users' chats (another --as) are not on this terminal. */
static bool
console_owns(struct driver *d, const char *chat_id)
{
	struct console *c = d->priv;

	return strcmp(chat_id, c->user_id) == 0;
}

static void
console_free(struct driver *d)
{
	struct console *c;

	if (d == NULL)
		return;
	c = d->priv;
	loop_timer_free(c->report);
	buf_free(&c->line);
	free(c->done);
	free(c->user_id);
	free(c);
}

static const struct driver_ops console_ops = {
	.name = "console",
	.format = MARKUP_PLAIN,
	.max_text = 0,
	.max_unit = MARKUP_UNIT_UTF16,
	.start = console_start,
	.stop = console_stop,
	.can_send = console_can_send,
	.send = console_send,
	.idle = console_idle,
	.owns = console_owns,
	.free = console_free,
};

struct driver *
driver_console_new(const struct driver_host *host, const char *user_id, bool admin)
{
	struct console *c = xcalloc(1, sizeof(*c));

	c->drv.ops = &console_ops;
	c->drv.host = host;
	c->drv.priv = c;
	c->fd = STDIN_FILENO;
	c->user_id = xstrdup(user_id);
	c->admin = admin;
	c->tty = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
	buf_init(&c->line, LINE_MAX_BYTES);
	c->report = loop_timer_new(host->loop, report_results, c);
	return &c->drv;
}
