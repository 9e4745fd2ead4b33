/*
 * Submissions: who owes which document, the files received (kept once by
 * hash under the state directory) and their rows, assignment of files from
 * unknown senders. See include/campaign/submissions.h.
 */
#include "campaign/submissions.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "campaign/clock.h"
#include "campaign/events.h"
#include "campaign/log.h"
#include "campaign/progress.h"
#include "campaign/users.h"
#include "campaign/utf8.h"
#include "campaign/xmalloc.h"

bool
submissions_owed(const struct plan *plan, const struct plan_task *t, size_t u)
{
	if (t->deliverable == NULL || u >= plan->nunits)
		return false;
	/* No unit named: the item is addressed to everyone ("各地、各部门"). */
	if (t->nunits == 0)
		return true;
	return plan_task_has_unit(t, u);
}

/* The units owing task t a file, and how many of them have sent one. */
static int
task_count(struct store *s, const struct plan *plan, const struct plan_task *t,
    size_t *submitted, size_t *owed)
{
	sqlite3_stmt *st = store_stmt(s, "SELECT 1 FROM submissions "
	    "WHERE task_id = ?1 AND unit_id = ?2 LIMIT 1");

	if (st == NULL)
		return -1;
	for (size_t u = 0; u < plan->nunits; u++) {
		int rc;

		if (!submissions_owed(plan, t, u))
			continue;
		(*owed)++;
		sqlite3_bind_text(st, 1, t->id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, plan->units[u].id);
		rc = sqlite3_step(st);
		sqlite3_reset(st);
		if (rc == SQLITE_ROW)
			(*submitted)++;
		else if (rc != SQLITE_DONE) {
			store_log_error(s, "count submissions");
			return -1;
		}
	}
	return 0;
}

int
submissions_count(struct store *s, const struct plan *plan, size_t *submitted, size_t *owed)
{
	*submitted = *owed = 0;
	for (size_t i = 0; i < plan->ntasks; i++)
		if (task_count(s, plan, &plan->tasks[i], submitted, owed) < 0)
			return -1;
	return 0;
}

void
submissions_summary_json(struct store *s, const struct plan *plan, json_t *summary)
{
	size_t submitted, owed;

	if (submissions_count(s, plan, &submitted, &owed) < 0)
		return;
	json_object_set_new(summary, "submitted", json_integer((json_int_t)submitted));
	json_object_set_new(summary, "submissions_owed", json_integer((json_int_t)owed));
}

void
submissions_task_json(struct store *s, const struct plan *plan, size_t task, json_t *json)
{
	const struct plan_task *t = &plan->tasks[task];
	size_t submitted = 0, owed = 0;

	if (t->deliverable == NULL || task_count(s, plan, t, &submitted, &owed) < 0)
		return;
	json_object_set_new(json, "deliverable", json_string(t->deliverable));
	json_object_set_new(json, "submitted", json_integer((json_int_t)submitted));
	json_object_set_new(json, "submissions_owed", json_integer((json_int_t)owed));
}

char *
submissions_files_dir(struct store *s)
{
	const char *path = store_path(s);
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return xstrdup("files");
	return xasprintf("%.*s/files", (int)(slash - path), path);
}

char *
submissions_file_path(struct store *s, const char *sha256)
{
	char *dir = submissions_files_dir(s);
	char *path = xasprintf("%s/%s", dir, sha256);

	free(dir);
	return path;
}

static void
hex(const unsigned char *d, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[d[i] >> 4];
		out[2 * i + 1] = digits[d[i] & 15];
	}
	out[2 * n] = '\0';
}

/* Writes path atomically (temporary file, fsync, rename). */
static int
write_file(const char *path, const void *data, size_t len, char *err, size_t errlen)
{
	char *tmp = xasprintf("%s.tmp%ld", path, (long)getpid());
	const char *p = data;
	size_t left = len;
	int fd, rc = -1;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create %s: %s", tmp, strerror(errno));
		goto out;
	}
	while (left > 0) {
		ssize_t w = write(fd, p, left);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
			goto out;
		}
		p += w;
		left -= (size_t)w;
	}
	if (fsync(fd) < 0 || rename(tmp, path) < 0) {
		snprintf(err, errlen, "cannot store %s: %s", path, strerror(errno));
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
submissions_put_file(struct store *s, const void *data, size_t len, time_t now,
    char sha256[SUBMISSIONS_SHA_STRLEN], char *err, size_t errlen)
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0;
	char *dir = NULL, *path = NULL;
	sqlite3_stmt *st;
	struct stat sb;
	int rc = -1;

	if (EVP_Digest(data, len, digest, &dlen, EVP_sha256(), NULL) != 1 || dlen != 32) {
		snprintf(err, errlen, "sha256 failed");
		goto out;
	}
	hex(digest, dlen, sha256);
	dir = submissions_files_dir(s);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
		goto out;
	}
	path = xasprintf("%s/%s", dir, sha256);
	if ((stat(path, &sb) < 0 || (size_t)sb.st_size != len) &&
	    write_file(path, data, len, err, errlen) < 0)
		goto out;
	st = store_stmt(s, "INSERT INTO files(sha256, size, stored_at) VALUES(?1, ?2, ?3) "
	    "ON CONFLICT DO NOTHING");
	if (st == NULL)
		goto out;
	sqlite3_bind_text(st, 1, sha256, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (int64_t)len);
	sqlite3_bind_int64(st, 3, (int64_t)now);
	if (store_step_done(s, st, "record file") < 0) {
		snprintf(err, errlen, "store: %s", store_errmsg(s));
		goto out;
	}
	rc = 0;
out:
	free(path);
	free(dir);
	return rc;
}

char *
submissions_pick_task(const struct plan *plan, int64_t unit_id, const char *hint)
{
	ssize_t u = plan_unit_index_id(plan, unit_id);
	const struct plan_task *first = NULL;

	if (u < 0)
		return NULL;
	for (size_t i = 0; i < plan->ntasks; i++) {
		const struct plan_task *t = &plan->tasks[i];

		if (!submissions_owed(plan, t, (size_t)u))
			continue;
		if (hint != NULL && strstr(hint, t->id) != NULL)
			return xstrdup(t->id);
		if (first == NULL)
			first = t;
	}
	return first != NULL ? xstrdup(first->id) : NULL;
}

/* The "submission" event: who, what, when; never the file's contents. */
static int64_t
append_event(struct store *s, const struct plan *plan, const char *task_id, int64_t unit_id,
    const char *name, int64_t size, const char *channel, time_t at, char *err,
    size_t errlen)
{
	const struct plan_task *t = task_id != NULL ? plan_task_get(plan, task_id) : NULL;
	ssize_t u = plan_unit_index_id(plan, unit_id);
	json_t *p = json_object(), *task = json_object(), *unit = json_object();
	json_t *file = json_object();
	char ts[CLOCK_ISO_STRLEN];
	size_t submitted = 0, owed = 0;
	int64_t id;

	clock_format_iso(at, ts);
	json_object_set_new(task, "id", task_id != NULL ? json_string(task_id) : json_null());
	json_object_set_new(task, "title", t != NULL ? json_string(t->title) : json_null());
	json_object_set_new(task, "deliverable", t != NULL && t->deliverable != NULL ?
	    json_string(t->deliverable) : json_null());
	json_object_set_new(unit, "id", json_integer(unit_id));
	json_object_set_new(unit, "name", u >= 0 ? json_string(plan->units[u].name) :
	    json_null());
	json_object_set_new(file, "name", json_string(name));
	json_object_set_new(file, "size", json_integer(size));
	json_object_set_new(p, "task", task);
	json_object_set_new(p, "unit", unit);
	json_object_set_new(p, "file", file);
	json_object_set_new(p, "channel", json_string(channel));
	json_object_set_new(p, "at", json_string(ts));
	if (submissions_count(s, plan, &submitted, &owed) == 0) {
		json_object_set_new(p, "submitted", json_integer((json_int_t)submitted));
		json_object_set_new(p, "owed", json_integer((json_int_t)owed));
	}
	id = events_append(s, "submission", plan->id, p, at, err, errlen);
	json_decref(p);
	return id;
}

static int
set_event(struct store *s, int64_t id, int64_t event_id)
{
	sqlite3_stmt *st = store_stmt(s, "UPDATE submissions SET event_id = ?2 WHERE id = ?1");

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, event_id);
	return store_step_done(s, st, "submission event");
}

bool
submissions_type_allowed(char *const *types, size_t ntypes, const char *name)
{
	const char *dot = name != NULL ? strrchr(name, '.') : NULL;

	for (size_t i = 0; dot != NULL && i < ntypes; i++)
		if (strcasecmp(dot, types[i]) == 0)
			return true;
	return false;
}

void
submissions_types_list(struct buf *b, char *const *types, size_t ntypes)
{
	for (size_t i = 0; i < ntypes; i++)
		buf_printf(b, "%s%s", i > 0 ? " " : "", types[i]);
}

void
submissions_type_refusal(struct buf *b, char *const *types, size_t ntypes, const char *name)
{
	buf_printf(b, "《%s》没有收下：只接受这些格式：", name);
	submissions_types_list(b, types, ntypes);
	buf_puts(b, "。");
}

/*
 * A file name or subject as stored: valid UTF-8, no control characters (a
 * name is printed on terminals and in bulletins), at most max_chars.
 */
static char *
clean_text(const char *text, size_t max_chars)
{
	char *s;

	if (text == NULL)
		return NULL;
	s = utf8_sanitize(text, strlen(text));
	s[utf8_prefix_chars(s, max_chars)] = '\0';
	for (unsigned char *p = (unsigned char *)s; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f)
			*p = '_';
	return s;
}

int64_t
submissions_add(struct store *s, const struct plan *plan, const struct submission_in *in,
    char *err, size_t errlen)
{
	sqlite3_stmt *st;
	char *task_id = NULL;
	char *name = clean_text(in->name, SUBMISSIONS_NAME_MAX_CHARS);
	char *subject = clean_text(in->subject, SUBMISSIONS_NAME_MAX_CHARS);
	int64_t id = -1, ev;

	if (in->task_id != NULL)
		task_id = xstrdup(in->task_id);
	else if (in->unit_id > 0)
		task_id = submissions_pick_task(plan, in->unit_id, in->subject);
	if (task_id == NULL && in->unit_id > 0)
		task_id = submissions_pick_task(plan, in->unit_id, in->name);
	st = store_stmt(s, "INSERT INTO submissions(task_id, unit_id, sha256, name, size, "
	    "type, channel, sender, source_id, subject, received_at) "
	    "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11) ON CONFLICT(source_id) DO NOTHING");
	if (st == NULL)
		goto fail;
	store_bind_text(st, 1, task_id);
	if (in->unit_id > 0)
		sqlite3_bind_int64(st, 2, in->unit_id);
	sqlite3_bind_text(st, 3, in->sha256, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, in->size);
	store_bind_text(st, 6, in->type);
	sqlite3_bind_text(st, 7, in->channel, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, in->sender, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, in->source_id, -1, SQLITE_STATIC);
	store_bind_text(st, 10, subject);
	sqlite3_bind_int64(st, 11, (int64_t)in->at);
	if (store_step_done(s, st, "record submission") < 0)
		goto fail;
	if (sqlite3_changes(store_db(s)) == 0) {
		id = 0;
		goto out;
	}
	id = sqlite3_last_insert_rowid(store_db(s));
	if (in->unit_id > 0) {
		ev = append_event(s, plan, task_id, in->unit_id, name, in->size, in->channel,
		    in->at, err, errlen);
		if (ev < 0 || set_event(s, id, ev) < 0) {
			id = -1;
			goto out;
		}
	}
	goto out;
fail:
	snprintf(err, errlen, "store: %s", store_errmsg(s));
out:
	free(task_id);
	free(name);
	free(subject);
	return id;
}

static void
read_row(sqlite3_stmt *st, struct submission *out)
{
	memset(out, 0, sizeof(*out));
	out->id = sqlite3_column_int64(st, 0);
	out->task_id = store_column_text(st, 1);
	out->unit_id = sqlite3_column_int64(st, 2);
	out->unit_name = store_column_text(st, 3);
	out->sha256 = store_column_text(st, 4);
	out->name = store_column_text(st, 5);
	out->size = sqlite3_column_int64(st, 6);
	out->type = store_column_text(st, 7);
	out->channel = store_column_text(st, 8);
	out->sender = store_column_text(st, 9);
	out->subject = store_column_text(st, 10);
	out->at = (time_t)sqlite3_column_int64(st, 11);
}

#define SELECT_SUBMISSION "SELECT s.id, s.task_id, s.unit_id, u.name, s.sha256, s.name, " \
	"s.size, s.type, s.channel, s.sender, s.subject, s.received_at FROM submissions s " \
	"LEFT JOIN units u ON u.id = s.unit_id "

int
submissions_assign(struct store *s, const struct plan *plan, int64_t id, int64_t unit_id,
    time_t now, char *err, size_t errlen)
{
	sqlite3_stmt *st = store_stmt(s, SELECT_SUBMISSION "WHERE s.id = ?1 AND s.unit_id IS NULL");
	struct submission sub;
	char *task_id = NULL;
	int64_t ev;
	int rc;

	if (errlen > 0)
		err[0] = '\0';
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		if (rc == SQLITE_DONE)
			return 0;
		snprintf(err, errlen, "store: %s", store_errmsg(s));
		return -1;
	}
	read_row(st, &sub);
	sqlite3_reset(st);
	rc = -1;
	if (store_begin(s) < 0)
		goto out;
	task_id = submissions_pick_task(plan, unit_id, sub.subject);
	if (task_id == NULL)
		task_id = submissions_pick_task(plan, unit_id, sub.name);
	st = store_stmt(s, "UPDATE submissions SET unit_id = ?2, task_id = ?3 WHERE id = ?1");
	if (st == NULL)
		goto rollback;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, unit_id);
	store_bind_text(st, 3, task_id);
	if (store_step_done(s, st, "assign submission") < 0)
		goto rollback;
	/* Later mail from the same address goes to the unit without an admin. */
	if (strcmp(sub.channel, "mail") == 0 && users_id_ok(sub.sender) &&
	    users_bind(s, "mail", sub.sender, NULL, unit_id, now) < 0)
		goto rollback;
	ev = append_event(s, plan, task_id, unit_id, sub.name, sub.size, sub.channel, sub.at,
	    err, errlen);
	if (ev < 0 || set_event(s, id, ev) < 0)
		goto rollback;
	if (store_commit(s) < 0)
		goto rollback;
	rc = 1;
	goto out;
rollback:
	if (err[0] == '\0')
		snprintf(err, errlen, "store: %s", store_errmsg(s));
	store_rollback(s);
out:
	free(task_id);
	submission_clear(&sub);
	return rc;
}

int
submissions_latest(struct store *s, const char *task_id, int64_t unit_id,
    struct submission *out)
{
	sqlite3_stmt *st = store_stmt(s, SELECT_SUBMISSION
	    "WHERE s.task_id = ?1 AND s.unit_id = ?2 ORDER BY s.id DESC LIMIT 1");
	int rc;

	memset(out, 0, sizeof(*out));
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, task_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, unit_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		read_row(st, out);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		store_log_error(s, "latest submission");
		return -1;
	}
	return rc == SQLITE_ROW;
}

int
submissions_versions(struct store *s, const char *task_id, int64_t unit_id)
{
	sqlite3_stmt *st = store_stmt(s, "SELECT count(*) FROM submissions "
	    "WHERE task_id = ?1 AND unit_id = ?2");
	int n = -1;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, task_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, unit_id);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_reset(st);
	return n;
}

int
submissions_unassigned(struct store *s, struct submission **out, size_t *n)
{
	sqlite3_stmt *st = store_stmt(s, SELECT_SUBMISSION
	    "WHERE s.unit_id IS NULL ORDER BY s.id");
	size_t cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (st == NULL)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap == 0 ? 8 : cap * 2;
			*out = xreallocarray(*out, cap, sizeof(**out));
		}
		read_row(st, &(*out)[(*n)++]);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		store_log_error(s, "unassigned submissions");
		return -1;
	}
	return 0;
}

void
submission_clear(struct submission *sub)
{
	free(sub->task_id);
	free(sub->unit_name);
	free(sub->sha256);
	free(sub->name);
	free(sub->type);
	free(sub->channel);
	free(sub->sender);
	free(sub->subject);
	memset(sub, 0, sizeof(*sub));
}

void
submissions_free(struct submission *subs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		submission_clear(&subs[i]);
	free(subs);
}
