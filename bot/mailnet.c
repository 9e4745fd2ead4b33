/*
 * URL parts and libcurl handles for the office mailbox: see mailnet.h.
 */
#include "mailnet.h"

#include <string.h>

#include "campaign/xmalloc.h"

#define CONNECT_TIMEOUT_MS 15000L

static bool
host_loopback(const char *host)
{
	return strcmp(host, "localhost") == 0 || strncmp(host, "127.", 4) == 0 ||
	    strcmp(host, "[::1]") == 0 || strcmp(host, "::1") == 0;
}

/* Splits url into base ("scheme://host:port/") and path; loopback tells plain text is allowed. */
int
mailnet_split_url(const char *url, char **base, char **path, bool *loopback)
{
	CURLU *u = curl_url();
	char *host = NULL, *p = NULL, *b = NULL;
	int rc = -1;

	if (u == NULL || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PATH, &p, 0) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_PATH, "/", 0) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_USER, NULL, 0) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_PASSWORD, NULL, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_URL, &b, 0) != CURLUE_OK)
		goto out;
	*loopback = host_loopback(host);
	*base = xstrdup(b);
	if (path != NULL)
		*path = xstrdup(p[0] == '/' ? p + 1 : p);
	rc = 0;
out:
	curl_free(host);
	curl_free(p);
	curl_free(b);
	curl_url_cleanup(u);
	return rc;
}

CURL *
mailnet_easy(char *errbuf, bool loopback, const char *protocols)
{
	CURL *e = curl_easy_init();

	if (e == NULL)
		return NULL;
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, protocols);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	/* imap:// and smtp:// upgrade with STARTTLS, or fail; plain text only on loopback. */
	curl_easy_setopt(e, CURLOPT_USE_SSL, loopback ? (long)CURLUSESSL_TRY :
	    (long)CURLUSESSL_ALL);
	return e;
}

