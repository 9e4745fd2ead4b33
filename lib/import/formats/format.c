/*
 * Which front end a document needs, by its first bytes (an admin's
 * "plan.txt" may well be a Word file), and the dispatch to it.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "campaign/import_formats.h"
#include "campaign/xmalloc.h"

/* True if the bytes hold s, ignoring ASCII case, within the first n bytes. */
static bool
has_early(const unsigned char *d, size_t len, size_t n, const char *s)
{
	size_t sl = strlen(s);

	if (len < n)
		n = len;
	for (size_t i = 0; i + sl <= n; i++)
		if (strncasecmp((const char *)d + i, s, sl) == 0)
			return true;
	return false;
}

enum import_format
import_format_detect(const void *data, size_t len)
{
	const unsigned char *d = data;
	size_t i = 0;

	if (len >= 4 && memcmp(d, "PK\x03\x04", 4) == 0) {
		/* The member names are in the local headers: look for word/. */
		return has_early(d, len, len < (1u << 20) ? len : (1u << 20), "word/document.xml") ||
		    has_early(d, len, 4096, "word/") ? IMPORT_FORMAT_DOCX : IMPORT_FORMAT_ZIP;
	}
	if (len >= 8 && memcmp(d, "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 8) == 0)
		return IMPORT_FORMAT_OLE;
	if (has_early(d, len, 1024, "%PDF-"))
		return IMPORT_FORMAT_PDF;
	/* HTML: after a BOM and whitespace, a tag that only HTML starts with. */
	if (len >= 3 && d[0] == 0xef && d[1] == 0xbb && d[2] == 0xbf)
		i = 3;
	while (i < len && (d[i] == ' ' || d[i] == '\t' || d[i] == '\r' || d[i] == '\n'))
		i++;
	if (i < len && d[i] == '<' && (has_early(d + i, len - i, 16, "<!doctype html") ||
	    has_early(d + i, len - i, 8, "<html") || has_early(d + i, len - i, 8, "<head") ||
	    has_early(d + i, len - i, 8, "<meta") || has_early(d + i, len - i, 8, "<body") ||
	    (has_early(d + i, len - i, 8, "<!--") && has_early(d, len, 4096, "<html"))))
		return IMPORT_FORMAT_HTML;
	return IMPORT_FORMAT_TEXT;
}

const char *
import_format_name(enum import_format f)
{
	switch (f) {
	case IMPORT_FORMAT_DOCX: return "Word (.docx)";
	case IMPORT_FORMAT_PDF: return "PDF";
	case IMPORT_FORMAT_HTML: return "HTML";
	case IMPORT_FORMAT_OLE: return "old Word/WPS (.doc/.wps)";
	case IMPORT_FORMAT_ZIP: return "ZIP";
	case IMPORT_FORMAT_TEXT: break;
	}
	return "text";
}

char *
import_format_text(enum import_format f, const void *data, size_t len, size_t *outlen,
    char *err, size_t errlen)
{
	char *out;

	switch (f) {
	case IMPORT_FORMAT_DOCX:
		return import_docx_text(data, len, outlen, err, errlen);
	case IMPORT_FORMAT_PDF:
		return import_pdf_text(data, len, outlen, err, errlen);
	case IMPORT_FORMAT_HTML:
		return import_html_text(data, len, outlen, err, errlen);
	case IMPORT_FORMAT_OLE:
		snprintf(err, errlen, "this is an old binary Word or WPS file (.doc/.wps), "
		    "which the importer cannot read: open it in Word or WPS and save it as "
		    ".docx (文件 > 另存为 > Word 文档 *.docx), then import that file");
		return NULL;
	case IMPORT_FORMAT_ZIP:
		snprintf(err, errlen, "this is a ZIP archive but not a Word document (.docx): "
		    "save the plan as .docx, .pdf or text");
		return NULL;
	case IMPORT_FORMAT_TEXT:
		break;
	}
	out = xmalloc(len + 1);
	memcpy(out, data, len);
	out[len] = '\0';
	*outlen = len;
	return out;
}
