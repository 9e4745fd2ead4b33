/*
 * Test-only entry to ws.c: the same client over a connected stream socket
 * the caller made (a socketpair), with no libcurl, so the fuzzer and unit
 * tests feed the handshake answer and frames byte for byte. Not for
 * production: no TLS, no proxy.
 */
#ifndef CAMPAIGN_WS_TEST_H
#define CAMPAIGN_WS_TEST_H

#include "campaign/ws.h"

/* Like ws_new + ws_connected(CURLE_OK) on fd, which the ws then owns (it
 * sets O_NONBLOCK and closes it in ws_free). The URL only names the host
 * and path of the request. */
struct ws *ws_new_on_fd(const struct ws_config *c, const struct ws_handler *h, int fd,
    char *err, size_t errlen);

#endif
