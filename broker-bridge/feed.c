/* The Atom feed of announcements and completed tasks (see feed.h). */
#include "feed.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "campaign/buf.h"
#include "campaign/log.h"
#include "campaign/plandb.h"
#include "campaign/utf8.h"
#include "campaign/xmalloc.h"

#define FEED_MAX (8 * 1024 * 1024)      /* 1000 entries of 16 KiB fit */
#define TAG_AUTHORITY "campaign-bot.invalid"
#define TITLE_CHARS 40                  /* an announcement's title: its first words */

struct feed {
	struct store *store;
	char *path;
	char *board_url;
	int entries;
	bool dirty;
	bool failed;            /* the last write failed: the next tick tries again */
};

struct feed *
feed_new(const struct cfg *cfg, struct store *s)
{
	struct feed *f;

	if (cfg->feed.path == NULL)
		return NULL;
	f = xcalloc(1, sizeof(*f));
	f->store = s;
	f->path = xstrdup(cfg->feed.path);
	f->board_url = xstrdup_or_null(cfg->feed.board_url);
	f->entries = cfg->feed.entries;
	f->dirty = true;        /* written once at start: a new path is never empty */
	return f;
}

void
feed_free(struct feed *f)
{
	if (f == NULL)
		return;
	free(f->path);
	free(f->board_url);
	free(f);
}

void
feed_event(struct feed *f, const struct event *e)
{
	json_t *payload;

	if (f == NULL)
		return;
	if (strcmp(e->type, "announcement") == 0) {
		f->dirty = true;
		return;
	}
	if (strcmp(e->type, "progress") != 0)
		return;
	payload = json_loads(e->payload, 0, NULL);
	if (json_is_true(json_object_get(json_object_get(payload, "task"), "done")))
		f->dirty = true;
	json_decref(payload);
}

/* XML text: & < > " escaped; characters XML 1.0 forbids and invalid UTF-8 dropped. */
static void
put_text(struct buf *b, const char *s)
{
	char *clean = utf8_sanitize(s, strlen(s));

	for (const char *p = clean; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '&')
			buf_puts(b, "&amp;");
		else if (c == '<')
			buf_puts(b, "&lt;");
		else if (c == '>')
			buf_puts(b, "&gt;");
		else if (c == '"')
			buf_puts(b, "&quot;");
		else if (c >= 0x20 || c == '\t' || c == '\n' || c == '\r')
			buf_append(b, p, 1);
	}
	free(clean);
}

static void
put_elem(struct buf *b, const char *indent, const char *name, const char *text)
{
	buf_printf(b, "%s<%s>", indent, name);
	put_text(b, text);
	buf_printf(b, "</%s>\n", name);
}

/* The first n characters of s, with an ellipsis when cut. */
static char *
first_chars(const char *s, size_t n)
{
	const char *p = s;
	uint32_t cp;
	size_t len;

	for (size_t i = 0; i < n && *p != '\0'; i++) {
		len = utf8_decode(p, strlen(p), &cp);
		if (len == 0)
			break;
		p += len;
	}
	return *p == '\0' ? xstrdup(s) : xasprintf("%.*s…", (int)(p - s), s);
}

/* tag:campaign-bot.invalid,YYYY-MM-DD:<campaign>/event/<id>: the day is the event's. */
static void
put_id(struct buf *b, const char *campaign, const char *ts, int64_t id)
{
	buf_printf(b, "    <id>tag:%s,%.10s:", TAG_AUTHORITY, ts);
	put_text(b, campaign);
	buf_printf(b, "/event/%lld</id>\n", (long long)id);
}

static void
put_link(struct buf *b, const char *indent, const char *url)
{
	if (url == NULL)
		return;
	buf_printf(b, "%s<link rel=\"alternate\" type=\"text/html\" href=\"", indent);
	put_text(b, url);
	buf_puts(b, "\"/>\n");
}

static void
put_entry(struct feed *f, struct buf *b, const char *type, const char *campaign,
    const char *ts, int64_t id, const json_t *p)
{
	const json_t *task = json_object_get(p, "task");
	const char *text = json_string_value(json_object_get(p, "text"));
	const char *tid = json_string_value(json_object_get(task, "id"));
	const char *ttitle = json_string_value(json_object_get(task, "title"));
	const char *unit = json_string_value(json_object_get(p, "unit"));
	char *title, *content;

	if (strcmp(type, "announcement") == 0) {
		char *head = first_chars(text != NULL ? text : "", TITLE_CHARS);

		title = xasprintf("通知:%s", head);
		content = xstrdup(text != NULL ? text : "");
		free(head);
	} else {
		title = xasprintf("任务 %s 已完成:%s", tid != NULL ? tid : "?",
		    ttitle != NULL ? ttitle : "");
		content = xasprintf("任务 %s「%s」已全部完成(最后汇报:%s)。",
		    tid != NULL ? tid : "?", ttitle != NULL ? ttitle : "",
		    unit != NULL ? unit : "");
	}
	buf_puts(b, "  <entry>\n");
	put_id(b, campaign, ts, id);
	put_elem(b, "    ", "title", title);
	put_elem(b, "    ", "published", ts);
	put_elem(b, "    ", "updated", ts);
	put_link(b, "    ", f->board_url);
	buf_puts(b, "    <content type=\"text\">");
	put_text(b, content);
	buf_puts(b, "</content>\n  </entry>\n");
	free(title);
	free(content);
}

/*
 * The entries, newest first: every announcement, and for each task the
 * first progress event that found it done. Returns the number, -1 on error.
 */
static int
put_entries(struct feed *f, struct buf *b, char **newest)
{
	sqlite3_stmt *st = store_stmt(f->store, "SELECT id, type, campaign, ts, payload "
	    "FROM events WHERE id IN (SELECT id FROM events WHERE type = 'announcement' "
	    "AND state <> 2 UNION SELECT MIN(id) FROM events WHERE type = 'progress' "
	    "AND state <> 2 AND json_extract(payload, '$.task.done') = 1 "
	    "GROUP BY json_extract(payload, '$.task.id')) ORDER BY id DESC LIMIT ?1");
	int rc, n = 0;

	if (st == NULL)
		return -1;
	sqlite3_bind_int(st, 1, f->entries);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *type = (const char *)sqlite3_column_text(st, 1);
		const char *campaign = (const char *)sqlite3_column_text(st, 2);
		const char *ts = (const char *)sqlite3_column_text(st, 3);
		json_t *p = json_loads((const char *)sqlite3_column_text(st, 4), 0, NULL);

		if (json_is_object(p) && type != NULL && campaign != NULL && ts != NULL) {
			if (*newest == NULL)
				*newest = xstrdup(ts);
			put_entry(f, b, type, campaign, ts, sqlite3_column_int64(st, 0), p);
			n++;
		}
		json_decref(p);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		store_log_error(f->store, "read the feed's events");
		return -1;
	}
	return n;
}

static char *
meta_or(struct store *s, const char *key, const char *fallback)
{
	char *v = plandb_meta(s, key);

	return v != NULL ? v : xstrdup(fallback);
}

static char *
render(struct feed *f)
{
	struct buf b, entries;
	char *id = meta_or(f->store, "plan.id", "campaign");
	char *year = meta_or(f->store, "plan.year", "2000");
	char *title = meta_or(f->store, "plan.title", id);
	char *loaded = meta_or(f->store, "plan.loaded_at", "2000-01-01T00:00:00Z");
	char *newest = NULL, *out = NULL;

	buf_init(&b, FEED_MAX);
	buf_init(&entries, FEED_MAX);
	if (put_entries(f, &entries, &newest) < 0)
		goto out;
	buf_puts(&b, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
	    "<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"zh-CN\">\n");
	buf_printf(&b, "  <id>tag:%s,%s:", TAG_AUTHORITY, year);
	put_text(&b, id);
	buf_puts(&b, "</id>\n");
	put_elem(&b, "  ", "title", title);
	put_elem(&b, "  ", "subtitle", "通知与完成的任务");
	put_elem(&b, "  ", "updated", newest != NULL ? newest : loaded);
	buf_puts(&b, "  <author>\n");
	put_elem(&b, "    ", "name", title);
	buf_puts(&b, "  </author>\n");
	buf_puts(&b, "  <generator>campaign-bridge</generator>\n");
	put_link(&b, "  ", f->board_url);
	buf_puts(&b, buf_str(&entries));
	buf_puts(&b, "</feed>\n");
	if (b.overflow)
		log_warnx("feed", "the feed exceeds %d bytes; not written", FEED_MAX);
	else
		out = buf_steal(&b);
out:
	buf_free(&b);
	buf_free(&entries);
	free(id);
	free(year);
	free(title);
	free(loaded);
	free(newest);
	return out;
}

/* path.tmp, fsync, rename: a reader sees the old file or the new one, never half. */
static int
write_atomically(const char *path, const char *text)
{
	char *tmp = xasprintf("%s.tmp", path);
	size_t len = strlen(text), off = 0;
	int fd, rc = -1;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		log_warn("feed", "cannot write %s", tmp);
		goto out;
	}
	while (off < len) {
		ssize_t n = write(fd, text + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			log_warn("feed", "cannot write %s", tmp);
			goto out;
		}
		off += (size_t)n;
	}
	if (fsync(fd) < 0) {
		log_warn("feed", "cannot sync %s", tmp);
		goto out;
	}
	if (rename(tmp, path) < 0) {
		log_warn("feed", "cannot rename %s to %s", tmp, path);
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	if (rc < 0)
		unlink(tmp);
	free(tmp);
	return rc;
}

int
feed_flush(struct feed *f, bool tick)
{
	char *text;
	int rc = -1;

	if (f == NULL || !(f->dirty || (tick && f->failed)))
		return 0;
	f->dirty = false;
	text = render(f);
	if (text != NULL)
		rc = write_atomically(f->path, text);
	free(text);
	f->failed = rc < 0;
	if (rc == 0)
		log_debug("feed", "wrote %s", f->path);
	return rc;
}
