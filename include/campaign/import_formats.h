/*
 * The importer's front ends: the files admins have (.docx, a .pdf with a text
 * layer, an .html page saved from a government site) to the plain text
 * import_document() reads; recognized by content, not by the name. A
 * separate library (campaign_formats: libzip, libxml2, poppler-glib), linked
 * only into campaignctl and the importer's tests, never into the daemons.
 */
#ifndef CAMPAIGN_IMPORT_FORMATS_H
#define CAMPAIGN_IMPORT_FORMATS_H

#include <stddef.h>

enum import_format {
	IMPORT_FORMAT_TEXT,     /* anything else: import_document() decides */
	IMPORT_FORMAT_DOCX,     /* a ZIP holding word/document.xml */
	IMPORT_FORMAT_PDF,      /* %PDF- */
	IMPORT_FORMAT_HTML,     /* <!DOCTYPE html>, <html, <head, <body, <meta ... */
	IMPORT_FORMAT_OLE,      /* an old binary .doc/.wps/.xls (OLE2 compound file) */
	IMPORT_FORMAT_ZIP,      /* another ZIP (.xlsx, .pptx, .odt ...) */
};

/* The format of a document's bytes. */
enum import_format import_format_detect(const void *data, size_t len);
const char *import_format_name(enum import_format f);

/*
 * The document as UTF-8 text, one paragraph (or table row, cells separated
 * by spaces) per line; *outlen its length. NULL with a message in err for a
 * broken file, a scanned PDF without text, an old .doc/.wps, or a format
 * this build cannot read. IMPORT_FORMAT_TEXT returns a copy.
 */
char *import_format_text(enum import_format f, const void *data, size_t len, size_t *outlen,
    char *err, size_t errlen);

/* The front ends, for tests and the fuzz target. */
char *import_docx_text(const void *data, size_t len, size_t *outlen, char *err, size_t errlen);
char *import_pdf_text(const void *data, size_t len, size_t *outlen, char *err, size_t errlen);
char *import_html_text(const void *data, size_t len, size_t *outlen, char *err, size_t errlen);

#endif
