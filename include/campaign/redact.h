/*
 * Masking a secret in text that may be logged (an API's error, a URL in a
 * curl message): the exact secret, its URL-encoded forms (%3A or %3a) and,
 * for an "id:secret" token, the secret half on its own, and any piece of
 * these of 12 bytes or more (an echo cut short), each replaced by "<secret>"
 * (docs/ARCHITECTURE.md "Secrets").
 */
#ifndef CAMPAIGN_REDACT_H
#define CAMPAIGN_REDACT_H

/* Rewrites text in place (it only shrinks). A secret half under 8 bytes is not used alone. */
void redact_secret(char *text, const char *secret);

#endif
