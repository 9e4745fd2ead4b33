/*
 * GMime 3 behind mailparse.h, built as a loadable module
 * (campaign-mailparse.so): the bot dlopens it only when [mail] is set, so
 * GLib, GObject and GMime cost a bot without mail nothing (its RSS goal is
 * 16 MiB). Self-contained: no symbol of the bot is used here.
 */
#include "mailparse.h"

#include <ctype.h>
#include <gmime/gmime.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Module-local allocation helpers (the bot's xmalloc is not linked in). */
static void *
xmalloc(size_t n)
{
	void *p = malloc(n != 0 ? n : 1);

	if (p == NULL)
		abort();
	return p;
}

static void *
xreallocarray(void *ptr, size_t n, size_t size)
{
	void *p = reallocarray(ptr, n != 0 ? n : 1, size != 0 ? size : 1);

	if (p == NULL)
		abort();
	return p;
}

static char *
xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);

	if (p == NULL)
		abort();
	return p;
}

static char *
xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

static bool initialized;
static GMimeParserOptions *options;

static void
init_once(void)
{
	static const char *fallback[] = { "UTF-8", "GB18030", NULL };

	if (initialized)
		return;
	g_mime_init();
	options = g_mime_parser_options_new();
	g_mime_parser_options_set_fallback_charsets(options, fallback);
	g_mime_parser_options_set_rfc2047_compliance_mode(options, GMIME_RFC_COMPLIANCE_LOOSE);
	g_mime_parser_options_set_parameter_compliance_mode(options, GMIME_RFC_COMPLIANCE_LOOSE);
	initialized = true;
}

void
mailparse_gmime_shutdown(void)
{
	if (!initialized)
		return;
	g_mime_parser_options_free(options);
	options = NULL;
	g_mime_shutdown();
	initialized = false;
}

static char *
trimmed(const char *s)
{
	size_t len;

	if (s == NULL)
		return NULL;
	while (isspace((unsigned char)*s))
		s++;
	len = strlen(s);
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		len--;
	return len > 0 ? xstrndup(s, len) : NULL;
}

static void
sender(GMimeMessage *msg, struct mail_msg *out)
{
	InternetAddressList *list = g_mime_message_get_from(msg);
	InternetAddress *ia;
	const char *addr;

	if (list == NULL || internet_address_list_length(list) < 1)
		return;
	ia = internet_address_list_get_address(list, 0);
	if (!INTERNET_ADDRESS_IS_MAILBOX(ia))
		return;
	addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
	if (addr == NULL || *addr == '\0')
		return;
	out->from = xstrdup(addr);
	for (char *p = out->from; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	out->from_name = trimmed(internet_address_get_name(ia));
}

static bool
automatic(GMimeMessage *msg, const char *from)
{
	const char *auto_submitted = g_mime_object_get_header(GMIME_OBJECT(msg),
	    "Auto-Submitted");
	const char *precedence = g_mime_object_get_header(GMIME_OBJECT(msg), "Precedence");

	if (auto_submitted != NULL && g_ascii_strncasecmp(auto_submitted, "no", 2) != 0)
		return true;
	if (precedence != NULL && (g_ascii_strcasecmp(precedence, "bulk") == 0 ||
	    g_ascii_strcasecmp(precedence, "list") == 0 ||
	    g_ascii_strcasecmp(precedence, "junk") == 0))
		return true;
	return from == NULL || g_ascii_strncasecmp(from, "mailer-daemon@", 14) == 0 ||
	    g_ascii_strncasecmp(from, "postmaster@", 11) == 0;
}

static void
add_part(GMimeObject *parent, GMimeObject *part, gpointer data)
{
	struct mail_msg *out = data;
	GMimeDataWrapper *content;
	GMimeStream *stream;
	GByteArray *bytes;
	const char *name;
	struct mail_part *p;

	(void)parent;
	if (!GMIME_IS_PART(part))
		return;
	name = g_mime_part_get_filename(GMIME_PART(part));
	if (name == NULL || *name == '\0')
		return;
	content = g_mime_part_get_content(GMIME_PART(part));
	if (content == NULL)
		return;
	stream = g_mime_stream_mem_new();
	g_mime_data_wrapper_write_to_stream(content, stream);
	bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(stream));
	out->parts = xreallocarray(out->parts, out->nparts + 1, sizeof(*out->parts));
	p = &out->parts[out->nparts++];
	p->name = xstrdup(name);
	p->type = g_mime_content_type_get_mime_type(g_mime_object_get_content_type(part));
	p->len = bytes->len;
	p->data = xmalloc(bytes->len + 1);
	memcpy(p->data, bytes->data, bytes->len);
	g_object_unref(stream);
}

int
mailparse_gmime_message(const void *raw, size_t len, struct mail_msg *out, char *err,
    size_t errlen)
{
	GMimeStream *stream;
	GMimeParser *parser;
	GMimeMessage *msg;

	memset(out, 0, sizeof(*out));
	init_once();
	stream = g_mime_stream_mem_new_with_buffer(raw, len);
	parser = g_mime_parser_new_with_stream(stream);
	msg = g_mime_parser_construct_message(parser, options);
	g_object_unref(parser);
	g_object_unref(stream);
	if (msg == NULL) {
		snprintf(err, errlen, "not a mail message");
		return -1;
	}
	sender(msg, out);
	out->subject = trimmed(g_mime_message_get_subject(msg));
	out->message_id = trimmed(g_mime_message_get_message_id(msg));
	out->automatic = automatic(msg, out->from);
	g_mime_message_foreach(msg, add_part, out);
	g_object_unref(msg);
	return 0;
}

void
mailparse_gmime_clear(struct mail_msg *m)
{
	for (size_t i = 0; i < m->nparts; i++) {
		free(m->parts[i].name);
		g_free(m->parts[i].type);
		free(m->parts[i].data);
	}
	free(m->parts);
	free(m->from);
	free(m->from_name);
	free(m->subject);
	free(m->message_id);
	memset(m, 0, sizeof(*m));
}
