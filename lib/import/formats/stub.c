/*
 * The front ends when this build lacks libzip, libxml2 or poppler-glib
 * (scripts/lib.sh installs them): a clear refusal instead of a link error.
 */
#include <stdio.h>

#include "campaign/import_formats.h"

static char *
missing(const char *what, char *err, size_t errlen)
{
	snprintf(err, errlen, "this campaignctl was built without %s support (libzip, "
	    "libxml2 and poppler-glib were missing at build time); save the plan as text, "
	    "or rebuild after scripts/test has installed them", what);
	return NULL;
}

char *
import_docx_text(const void *data, size_t len, size_t *outlen, char *err, size_t errlen)
{
	(void)data, (void)len, (void)outlen;
	return missing(".docx", err, errlen);
}

char *
import_pdf_text(const void *data, size_t len, size_t *outlen, char *err, size_t errlen)
{
	(void)data, (void)len, (void)outlen;
	return missing(".pdf", err, errlen);
}

char *
import_html_text(const void *data, size_t len, size_t *outlen, char *err, size_t errlen)
{
	(void)data, (void)len, (void)outlen;
	return missing(".html", err, errlen);
}
