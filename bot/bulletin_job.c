/*
 * The scheduled bulletin: see bulletin_job.h.
 */
#include "bulletin_job.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "campaign/caldate.h"
#include "campaign/chats.h"
#include "campaign/clock.h"
#include "campaign/log.h"
#include "campaign/outbox.h"
#include "campaign/users.h"
#include "campaign/xmalloc.h"
#include "mailintake.h"

#define CHECK_MS 30000
#define CHILD_POLL_MS 200
#define KV_DAY "bulletin.day"

extern char **environ;

struct bulletinjob {
	struct store *store;
	struct loop *loop;
	const struct cfg *cfg;          /* borrowed: the bot's, replaced only on SIGHUP */
	char **mail_to;
	size_t nmail_to;
	char **admins;                  /* [chat] admins at start */
	size_t nadmins;
	int weekday, at;
	void (*kick)(void *);
	void *arg;
	struct loop_timer *timer;
	pid_t child;
	int out_fd;                     /* the child's stdout */
	int32_t day;                    /* the day being made */
};

static char *
state_dir(struct store *s)
{
	const char *path = store_path(s), *slash = strrchr(path, '/');

	return slash != NULL ? xasprintf("%.*s/bulletins", (int)(slash - path), path) :
	    xstrdup("bulletins");
}

char *
bulletinjob_file(struct store *s, int32_t day, const char *ext)
{
	char date[CALDATE_STRLEN], *dir = state_dir(s), *path;

	caldate_format(day, date);
	path = xasprintf("%s/通报-%s.%s", dir, date, ext);
	free(dir);
	return path;
}

/* campaignctl next to the bot (installed), or in the build tree's cli/. */
static char *
campaignctl_path(void)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash, *p;

	if (n <= 0)
		return xstrdup("campaignctl");
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (slash == NULL)
		return xstrdup("campaignctl");
	*slash = '\0';
	p = xasprintf("%s/campaignctl", exe);
	if (access(p, X_OK) == 0)
		return p;
	free(p);
	return xasprintf("%s/../cli/campaignctl", exe);
}

static void
spawn(struct bulletinjob *j, int32_t day)
{
	char date[CALDATE_STRLEN], *ctl = campaignctl_path(), *dir = state_dir(j->store);
	char *docx = bulletinjob_file(j->store, day, "docx");
	char *pdf = bulletinjob_file(j->store, day, "pdf");
	const char *const args[] = { ctl, "--db", store_path(j->store), "bulletin", "--date",
		date, "-o", docx, "--pdf", pdf, "--text" };
	char *argv[sizeof(args) / sizeof(args[0]) + 1];
	posix_spawn_file_actions_t fa;
	int pipefd[2] = { -1, -1 }, rc;

	caldate_format(day, date);
	for (size_t i = 0; i < sizeof(args) / sizeof(args[0]); i++)
		argv[i] = xstrdup(args[i]);
	argv[sizeof(args) / sizeof(args[0])] = NULL;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		log_warn("bulletin", "%s", dir);
		goto out;
	}
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		log_warn("bulletin", "pipe");
		goto out;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], STDOUT_FILENO);
	rc = posix_spawn(&j->child, ctl, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(pipefd[1]);
	if (rc != 0) {
		log_warnx("bulletin", "cannot run %s: %s", ctl, strerror(rc));
		close(pipefd[0]);
		j->child = 0;
		goto out;
	}
	j->out_fd = pipefd[0];
	j->day = day;
	log_info("bulletin", "making the bulletin of %s", date);
out:
	for (size_t i = 0; argv[i] != NULL; i++)
		free(argv[i]);
	free(ctl);
	free(dir);
	free(docx);
	free(pdf);
}

static char *
read_all(int fd)
{
	char block[4096], *text = xstrdup("");
	ssize_t n;

	while ((n = read(fd, block, sizeof(block))) > 0) {
		char *more = xasprintf("%s%.*s", text, (int)n, block);

		free(text);
		text = more;
		if (strlen(text) > 64 * 1024)
			break;
	}
	return text;
}

static int
queue(struct store *s, const char *platform, const char *chat, int32_t day, const char *text,
    time_t now)
{
	char *dedupe = xasprintf("bulletin:%d:%s:%s", (int)day, platform, chat);
	struct outbox_item it = {
		.platform = platform, .chat_id = chat, .kind = "bulletin", .ref = day,
		.text = text, .plain = true, .dedupe_key = dedupe,
	};
	int64_t id = outbox_enqueue(s, &it, now);

	free(dedupe);
	return id < 0 ? -1 : 0;
}

static int
admin_chats(struct bulletinjob *j, struct chat_ref **out, size_t *n)
{
	char **ids = NULL;
	size_t nids = 0;
	int rc;

	if (admins_list(j->store, &ids, &nids) < 0)
		return -1;
	for (size_t i = 0; i < j->nadmins; i++) {
		ids = xreallocarray(ids, nids + 1, sizeof(*ids));
		ids[nids++] = xstrdup(j->admins[i]);
	}
	rc = chats_of_users(j->store, ids, nids, out, n);
	for (size_t i = 0; i < nids; i++)
		free(ids[i]);
	free(ids);
	return rc;
}

/* The files exist: record the day and queue the mail and the chat texts, at once. */
static void
deliver(struct bulletinjob *j, const char *plain)
{
	char date[CALDATE_STRLEN], *mail = NULL, *chat = NULL, *docx;
	struct chat_ref *admins = NULL;
	size_t nadmins = 0;
	time_t now = clock_now();
	const char *eol = strchr(plain, '\n');
	char *line = eol != NULL ? xstrndup(plain, (size_t)(eol - plain)) : xstrdup(plain);

	caldate_format(j->day, date);
	docx = bulletinjob_file(j->store, j->day, "docx");
	mail = xasprintf("通报（%s）\n\n%s\n\n附件：通报 .docx（可编辑）和 .pdf（预览）。", date, line);
	chat = xasprintf("📄 本期通报（%s）已生成：%s\n文件：%s%s", date, line, docx,
	    j->nmail_to > 0 ? "（已发送到办公室邮箱）" : "");
	if (store_begin(j->store) < 0)
		goto out;
	if (store_kv_set_i64(j->store, KV_DAY, j->day) < 0 ||
	    admin_chats(j, &admins, &nadmins) < 0)
		goto rollback;
	for (size_t i = 0; i < j->nmail_to; i++)
		if (queue(j->store, MAIL_PLATFORM, j->mail_to[i], j->day, mail, now) < 0)
			goto rollback;
	for (size_t i = 0; i < nadmins; i++)
		if (queue(j->store, admins[i].platform, admins[i].chat_id, j->day, chat, now) < 0)
			goto rollback;
	if (store_commit(j->store) < 0)
		goto rollback;
	log_info("bulletin", "bulletin of %s: %zu mail(s), %zu admin chat(s)", date, j->nmail_to,
	    nadmins);
	if (j->kick != NULL)
		j->kick(j->arg);
	goto out;
rollback:
	store_rollback(j->store);
out:
	chat_refs_free(admins, nadmins);
	free(line);
	free(docx);
	free(mail);
	free(chat);
}

static void
tick(void *arg)
{
	struct bulletinjob *j = arg;
	time_t now = clock_now();
	int32_t today = clock_local_day(now);
	int64_t done = 0;

	if (j->child > 0) {
		int status;
		pid_t r = waitpid(j->child, &status, WNOHANG);

		if (r == 0) {
			loop_timer_after(j->timer, CHILD_POLL_MS);
			return;
		}
		j->child = 0;
		if (r > 0) {
			char *text = read_all(j->out_fd);

			if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
				deliver(j, text);
			else
				log_warnx("bulletin", "campaignctl bulletin failed (status %d); "
				    "trying again later", status);
			free(text);
		}
		close(j->out_fd);
		j->out_fd = -1;
	}
	loop_timer_after(j->timer, CHECK_MS);
	if (j->weekday != 0 && caldate_weekday(today) != j->weekday)
		return;
	if (clock_local_minutes(now) < j->at)
		return;
	if (store_kv_get_i64(j->store, KV_DAY, &done) < 0 || done == today)
		return;
	spawn(j, today);
	if (j->child > 0)
		loop_timer_after(j->timer, CHILD_POLL_MS);
}

static char **
copy_list(char **items, size_t n)
{
	char **out = xcalloc(n + 1, sizeof(*out));

	for (size_t i = 0; i < n; i++)
		out[i] = xstrdup(items[i]);
	return out;
}

struct bulletinjob *
bulletinjob_new(struct store *s, struct loop *l, const struct cfg *cfg, void (*kick)(void *),
    void *arg)
{
	struct bulletinjob *j;

	if (cfg->bulletin.weekday < 0)
		return NULL;
	j = xcalloc(1, sizeof(*j));
	j->store = s;
	j->loop = l;
	j->cfg = cfg;
	j->weekday = cfg->bulletin.weekday;
	j->at = cfg->bulletin.at;
	j->mail_to = copy_list(cfg->bulletin.mail_to, cfg->bulletin.nmail_to);
	j->nmail_to = cfg->bulletin.nmail_to;
	j->admins = copy_list(cfg->chat.admins, cfg->chat.nadmins);
	j->nadmins = cfg->chat.nadmins;
	j->kick = kick;
	j->arg = arg;
	j->out_fd = -1;
	j->timer = loop_timer_new(l, tick, j);
	loop_timer_after(j->timer, 0);
	return j;
}

void
bulletinjob_free(struct bulletinjob *j)
{
	if (j == NULL)
		return;
	if (j->child > 0) {
		kill(j->child, SIGTERM);
		waitpid(j->child, NULL, 0);
	}
	if (j->out_fd >= 0)
		close(j->out_fd);
	loop_timer_free(j->timer);
	for (size_t i = 0; i < j->nmail_to; i++)
		free(j->mail_to[i]);
	free(j->mail_to);
	for (size_t i = 0; i < j->nadmins; i++)
		free(j->admins[i]);
	free(j->admins);
	free(j);
}
