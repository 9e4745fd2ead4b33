/*
 * Secrets from a configured file or, under systemd, from the service's
 * credentials ($CREDENTIALS_DIRECTORY/<name>, set by LoadCredential=): the
 * file named in the config wins; without one, the credential of that name.
 * Names: telegram-token, dingtalk-secret, wecom-secret, mqtt-password,
 * mail-password (docs/REFERENCE.md "Environment"). Secrets never reach a
 * message.
 */
#ifndef CAMPAIGN_CREDENTIALS_H
#define CAMPAIGN_CREDENTIALS_H

#include <stddef.h>

#define CREDENTIAL_TELEGRAM_TOKEN "telegram-token"
#define CREDENTIAL_DINGTALK_SECRET "dingtalk-secret"
#define CREDENTIAL_WECOM_SECRET "wecom-secret"
#define CREDENTIAL_MQTT_PASSWORD "mqtt-password"
#define CREDENTIAL_MAIL_PASSWORD "mail-password"

/*
 * The secret (owned; free with credentials_free) from file when it is not
 * NULL, else from the credential name. NULL with err set when the file or the
 * credential exists and cannot be read; NULL with err "" when neither is
 * there (the caller decides whether that is an error).
 */
char *credentials_secret(const char *file, const char *name, char *err, size_t errlen);
/* $CREDENTIALS_DIRECTORY/name (owned) when that file exists, else NULL. */
char *credentials_path(const char *name);
struct cfg;
/*
 * The Telegram bot token: $TELEGRAM_BOT_TOKEN, else [telegram] token_file, else
 * the credential telegram-token; checked for a token's shape. NULL with err.
 */
char *credentials_telegram_token(const struct cfg *cfg, char *err, size_t errlen);
/* Wipes and frees a secret. */
void credentials_free(char *secret);

#endif
