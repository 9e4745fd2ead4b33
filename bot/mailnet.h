/*
 * What the IMAP poller (mailbox.c) and the SMTP sender (mailsend.c) share:
 * URL parts and a libcurl handle with the TLS rule of [mail]: imaps:// and
 * smtps:// as given, imap:// and smtp:// must upgrade with STARTTLS, plain
 * text only to a server on loopback.
 */
#ifndef CAMPAIGN_BOT_MAILNET_H
#define CAMPAIGN_BOT_MAILNET_H

#include <curl/curl.h>
#include <stdbool.h>

/*
 * base: "scheme://host:port/" without credentials; path (may be NULL): the
 * URL's path without its leading '/'; loopback: the host is local. 0 or -1.
 */
int mailnet_split_url(const char *url, char **base, char **path, bool *loopback);
/* A handle for protocols ("imap,imaps"), errors into errbuf (CURL_ERROR_SIZE). */
CURL *mailnet_easy(char *errbuf, bool loopback, const char *protocols);

#endif
