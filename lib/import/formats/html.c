/*
 * An .html page saved from a government site to text, with libxml2's HTML
 * parser (recovering, no network). What is not the plan goes: scripts,
 * styles, forms, navigation bars and menus, breadcrumbs ("当前位置:首页 >
 * …"), lists that are mostly links ("相关文章"), and the site footer ("主办
 * 单位:… 版权所有 备案号…": a footer's 主办单位 is not a plan's unit). Blocks
 * become lines; a table row becomes one line, its cells separated by spaces.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/HTMLparser.h>
#include <libxml/tree.h>

#include "campaign/buf.h"
#include "campaign/import.h"
#include "campaign/import_formats.h"
#include "campaign/utf8.h"
#include "campaign/xmalloc.h"

#define HTML_MAX_DEPTH 200

static bool
named(const xmlNode *n, const char *const *names)
{
	for (size_t i = 0; names[i] != NULL; i++)
		if (strcasecmp((const char *)n->name, names[i]) == 0)
			return true;
	return false;
}

static const char *
prop(const xmlNode *n, const char *name)
{
	for (const xmlAttr *a = n->properties; a != NULL; a = a->next)
		if (strcasecmp((const char *)a->name, name) == 0 && a->children != NULL &&
		    a->children->type == XML_TEXT_NODE)
			return (const char *)a->children->content;
	return NULL;
}

/* id or class naming page furniture: nav, menu, breadcrumb, footer, share … */
static bool
furniture_name(const char *v)
{
	static const char *const words[] = {
		"nav", "menu", "crumb", "footer", "foot", "copyright", "bottom", "related",
		"relate", "xgwz", "xglj", "share", "sidebar", "topbar", "toolbar", "login",
		"search", "position", "location", "dqwz", "pagination", "pager", NULL,
	};
	char *lower;
	bool hit = false;

	if (v == NULL)
		return false;
	lower = xstrdup(v);
	for (char *p = lower; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	for (size_t i = 0; words[i] != NULL && !hit; i++)
		hit = strstr(lower, words[i]) != NULL;
	free(lower);
	return hit;
}

/* Text of n and how much of it sits inside links. */
static void
text_weight(const xmlNode *n, bool in_link, size_t *all, size_t *linked, size_t *links,
    int depth)
{
	if (depth > HTML_MAX_DEPTH)
		return;
	for (const xmlNode *c = n->children; c != NULL; c = c->next) {
		if (c->type == XML_TEXT_NODE && c->content != NULL) {
			size_t len = 0;

			for (const xmlChar *p = c->content; *p != '\0'; p++)
				len += *p > ' ';
			*all += len;
			if (in_link)
				*linked += len;
		} else if (c->type == XML_ELEMENT_NODE) {
			bool link = strcasecmp((const char *)c->name, "a") == 0;

			*links += link;
			text_weight(c, in_link || link, all, linked, links, depth + 1);
		}
	}
}

/* A block that is mostly links: a menu, a breadcrumb, a "related articles" list. */
static bool
link_list(const xmlNode *n)
{
	size_t all = 0, linked = 0, links = 0;

	text_weight(n, false, &all, &linked, &links, 0);
	return links >= 3 && linked * 10 >= all * 7;
}

static void
newline(struct buf *b)
{
	if (b->len > 0 && b->data[b->len - 1] != '\n')
		buf_puts(b, "\n");
}

static void
put_text(struct buf *b, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		bool space = *p == ' ' || *p == '\t' || *p == '\r' || *p == '\n' ||
		    (p[0] == 0xc2 && p[1] == 0xa0);

		if (space) {
			if (p[0] == 0xc2)
				p++;
			if (b->len > 0 && b->data[b->len - 1] != ' ' && b->data[b->len - 1] != '\n')
				buf_puts(b, " ");
			continue;
		}
		buf_append(b, p, 1);
	}
}

static void
walk(struct buf *b, const xmlNode *n, int depth)
{
	static const char *const skip[] = {
		"script", "style", "noscript", "nav", "footer", "aside", "form", "iframe",
		"select", "option", "button", "input", "textarea", "svg", "canvas", "template",
		"head", "object", "embed", NULL,
	};
	static const char *const blocks[] = {
		"p", "div", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "table",
		"section", "article", "dd", "dt", "dl", "blockquote", "pre", "hr", "center",
		"tbody", "thead", "header", "main", NULL,
	};

	if (depth > HTML_MAX_DEPTH)
		return;
	for (const xmlNode *c = n->children; c != NULL; c = c->next) {
		if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) {
			if (c->content != NULL)
				put_text(b, (const char *)c->content);
			continue;
		}
		if (c->type != XML_ELEMENT_NODE || named(c, skip))
			continue;
		if (furniture_name(prop(c, "id")) || furniture_name(prop(c, "class")))
			continue;
		if (strcasecmp((const char *)c->name, "br") == 0) {
			newline(b);
			continue;
		}
		if (strcasecmp((const char *)c->name, "tr") == 0) {
			newline(b);
			for (const xmlNode *td = c->children; td != NULL; td = td->next) {
				struct buf cell;
				bool any = false;

				if (td->type != XML_ELEMENT_NODE)
					continue;
				buf_init(&cell, IMPORT_MAX_BYTES);
				walk(&cell, td, depth + 1);
				/* one cell: its own spaces and lines go */
				for (const char *q = buf_str(&cell); *q != '\0'; q++)
					if (*q != ' ' && *q != '\n') {
						if (!any && b->len > 0 && b->data[b->len - 1] != '\n')
							buf_puts(b, " ");
						any = true;
						buf_append(b, q, 1);
					}
				buf_free(&cell);
			}
			newline(b);
			continue;
		}
		if (named(c, blocks)) {
			if ((strcasecmp((const char *)c->name, "ul") == 0 ||
			    strcasecmp((const char *)c->name, "ol") == 0 ||
			    strcasecmp((const char *)c->name, "div") == 0) && link_list(c))
				continue;
			newline(b);
			walk(b, c, depth + 1);
			newline(b);
			continue;
		}
		walk(b, c, depth + 1);
	}
}

/* A line that belongs to the site, not the plan. */
static bool
furniture_line(const char *s)
{
	static const char *const starts[] = {
		"当前位置", "您的位置", "您现在的位置", "您当前的位置", "首页 >", "首页>",
		"网站首页", "分享到", "【打印", "【关闭", "打印本页", "关闭窗口", "返回顶部",
		"扫一扫", NULL,
	};

	while (*s == ' ')
		s++;
	for (size_t i = 0; starts[i] != NULL; i++)
		if (strncmp(s, starts[i], strlen(starts[i])) == 0)
			return true;
	return false;
}

/* The site footer: a line with 版权所有 / 备案 / ICP, and the 主办/地址 lines before it. */
static bool
footer_mark(const char *s)
{
	return strstr(s, "版权所有") != NULL || strstr(s, "备案") != NULL ||
	    strstr(s, "ICP") != NULL || strstr(s, "Copyright") != NULL ||
	    strstr(s, "网站标识码") != NULL || strstr(s, "©") != NULL;
}

static bool
footer_like(const char *s)
{
	static const char *const words[] = {
		"主办", "承办", "协办", "地址", "电话", "邮编", "联系我们", "网站地图", "技术支持",
		"网站标识码", "政府网站", "纠错", "建议使用", "分辨率", "浏览器", NULL,
	};

	for (size_t i = 0; words[i] != NULL; i++)
		if (strstr(s, words[i]) != NULL)
			return true;
	return footer_mark(s);
}

/* Drops furniture lines and the footer block (from its first footer line on). */
static char *
clean_lines(const char *text, size_t *outlen)
{
	struct buf out;
	char *copy = xstrdup(text);
	char **lines = NULL;
	size_t n = 0, end;

	for (char *p = copy, *nl; p != NULL && *p != '\0'; p = nl) {
		nl = strchr(p, '\n');
		if (nl != NULL)
			*nl++ = '\0';
		lines = xreallocarray(lines, n + 1, sizeof(*lines));
		lines[n++] = p;
	}
	end = n;
	for (size_t i = 0; i < n; i++)
		if (footer_mark(lines[i])) {
			end = i;
			while (end > 0 && footer_like(lines[end - 1]) && utf8_chars(lines[end - 1]) <= 80)
				end--;
			break;
		}
	buf_init(&out, IMPORT_MAX_BYTES * 4);
	for (size_t i = 0; i < end; i++) {
		if (furniture_line(lines[i]))
			continue;
		buf_puts(&out, lines[i]);
		buf_puts(&out, "\n");
	}
	free(lines);
	free(copy);
	*outlen = out.len;
	return buf_steal(&out);
}

/* True if the n bytes at v start with lit (ASCII, any case). */
static bool
starts_ci(const char *v, size_t n, const char *lit)
{
	size_t k = strlen(lit);

	return n >= k && strncasecmp(v, lit, k) == 0;
}

/*
 * The charset a page declares (<meta charset=gbk>, http-equiv); NULL if none.
 * The page's bytes are not NUL-terminated: every look stays inside them.
 */
static const char *
declared_charset(const char *d, size_t len)
{
	size_t n = len < 4096 ? len : 4096;

	for (size_t i = 0; i + 8 < n; i++) {
		if (strncasecmp(d + i, "charset=", 8) == 0) {
			const char *v = d + i + 8;
			size_t left = len - (i + 8);

			if (*v == '"' || *v == '\'')
				v++, left--;
			if (starts_ci(v, left, "gb2312") || starts_ci(v, left, "gbk") ||
			    starts_ci(v, left, "gb18030"))
				return "GB18030";
			if (starts_ci(v, left, "big5"))
				return "BIG5";
			if (starts_ci(v, left, "utf-8") || starts_ci(v, left, "utf8"))
				return "UTF-8";
			return NULL;
		}
	}
	return NULL;
}

char *
import_html_text(const void *data, size_t len, size_t *outlen, char *err, size_t errlen)
{
	htmlDocPtr doc;
	const xmlNode *root;
	struct buf b;
	char *out;

	if (len > (size_t)INT32_MAX) {
		snprintf(err, errlen, "the page is too large");
		return NULL;
	}
	doc = htmlReadMemory(data, (int)len, NULL, declared_charset(data, len),
	    HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET);
	if (doc == NULL || (root = xmlDocGetRootElement(doc)) == NULL) {
		if (doc != NULL)
			xmlFreeDoc(doc);
		snprintf(err, errlen, "this HTML page could not be read; save the page's text "
		    "(select all, copy, paste into a .txt file) and import that");
		return NULL;
	}
	buf_init(&b, IMPORT_MAX_BYTES * 4);
	walk(&b, root, 0);
	xmlFreeDoc(doc);
	out = clean_lines(buf_str(&b), outlen);
	buf_free(&b);
	return out;
}
