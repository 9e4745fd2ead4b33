/* Configuration: defaults, every section, and errors that name file and line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "campaign/caldate.h"
#include "campaign/cfg.h"

static char path[64];

static void
write_config(const char *text)
{
	FILE *fp;
	int fd;

	snprintf(path, sizeof(path), "/tmp/campaign-cfg-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	fp = fdopen(fd, "w");
	fputs(text, fp);
	fclose(fp);
}

static struct cfg *
load(const char *text, char *err, size_t errlen)
{
	struct cfg *cfg;

	write_config(text);
	cfg = cfg_load(path, err, errlen);
	unlink(path);
	return cfg;
}

static void
test_defaults(void **state)
{
	char err[256];
	struct cfg *cfg = cfg_load(NULL, err, sizeof(err));

	(void)state;
	assert_non_null(cfg);
	assert_int_equal(cfg->chat.ndrivers, 1);
	assert_string_equal(cfg->chat.drivers[0], "console");
	assert_int_equal(cfg->telegram.poll_timeout, 30);
	assert_string_equal(cfg->dingtalk.api_url, "https://api.dingtalk.com");
	assert_string_equal(cfg->mqtt.host, "127.0.0.1");
	assert_int_equal(cfg->mqtt.port, 1883);
	assert_int_equal(cfg->mqtt.qos, 1);
	assert_int_equal(cfg->mqtt.protocol, CFG_MQTT_V5);
	assert_int_equal(cfg->reminders.at, 9 * 60);
	assert_int_equal(cfg->reminders.ndays_before, 4);
	assert_int_equal(cfg->reminders.days_before[0], 7);
	assert_int_equal(cfg->reminders.days_before[3], 0);
	cfg_free(cfg);
}

static void
test_full_file(void **state)
{
	char err[256];
	struct cfg *cfg = load(
	    "; campaign config\n"
	    "[store]\ndb = /var/lib/campaign/campaign.db\n"
	    "[chat]\ndrivers = telegram, dingtalk\n"
	    "admins = telegram:111, dingtalk:manager01 ,telegram:333\n"
	    "[telegram]\napi_url = http://127.0.0.1:8081/\n"
	    "token_file = /etc/campaign/token\npoll_timeout = 50\n"
	    "[dingtalk]\nclient_id = dingabc123\nclient_secret_file = /etc/campaign/dt\n"
	    "api_url = http://127.0.0.1:9000//\n"
	    "[mqtt]\nhost = broker\nport = 8883\nusername = bridge\npassword_file = /etc/pw\n"
	    "tls_ca = /etc/ca.pem\ntopic_prefix = city/fupinri\nqos = 2\nprotocol = 3.1.1\n"
	    "[reminders]\nat = 08:30\ndays_before = 1, 7, 3\nescalate_after = 2\n"
	    "quiet_hours = 21:00-07:30\nholidays = 2027-10-01, 2027-10-02\n"
	    "workdays = 2027-10-09\n"
	    "[log]\nlevel = debug\n", err, sizeof(err));

	(void)state;
	if (cfg == NULL)
		fail_msg("%s", err);
	assert_string_equal(cfg->store.db, "/var/lib/campaign/campaign.db");
	assert_true(cfg_has_driver(cfg, "telegram"));
	assert_true(cfg_has_driver(cfg, "dingtalk"));
	assert_false(cfg_has_driver(cfg, "console"));
	assert_string_equal(cfg->telegram.api_url, "http://127.0.0.1:8081");
	assert_string_equal(cfg->dingtalk.api_url, "http://127.0.0.1:9000");
	assert_string_equal(cfg->dingtalk.client_id, "dingabc123");
	assert_null(cfg->dingtalk.robot_code);
	assert_int_equal(cfg->chat.nadmins, 3);
	assert_string_equal(cfg->chat.admins[1], "dingtalk:manager01");
	assert_true(cfg_is_admin(cfg, "telegram", "333"));
	assert_false(cfg_is_admin(cfg, "telegram", "33"));
	/* An admin on one platform is not an admin on another. */
	assert_true(cfg_is_admin(cfg, "dingtalk", "manager01"));
	assert_false(cfg_is_admin(cfg, "telegram", "manager01"));
	assert_false(cfg_is_admin(cfg, "dingtalk", "111"));
	assert_int_equal(cfg->mqtt.port, 8883);
	assert_int_equal(cfg->mqtt.protocol, CFG_MQTT_V311);
	assert_string_equal(cfg->mqtt.topic_prefix, "city/fupinri");
	assert_int_equal(cfg->reminders.at, 8 * 60 + 30);
	assert_int_equal(cfg->reminders.days_before[0], 7);
	assert_int_equal(cfg->reminders.days_before[2], 1);
	assert_int_equal(cfg->reminders.quiet_start, 21 * 60);
	assert_int_equal(cfg->reminders.quiet_end, 7 * 60 + 30);
	assert_int_equal(cfg->reminders.nholidays, 2);
	assert_int_equal(cfg->reminders.workdays[0], caldate_from_ymd(2027, 10, 9));
	assert_int_equal(cfg->log_level, LOG_LEVEL_DEBUG);
	cfg_free(cfg);
}

static void
expect_error(const char *text, const char *line, const char *words)
{
	char err[256];
	struct cfg *cfg = load(text, err, sizeof(err));

	assert_null(cfg);
	if (strstr(err, line) == NULL || strstr(err, words) == NULL)
		fail_msg("error \"%s\" lacks \"%s\" or \"%s\"", err, line, words);
	assert_non_null(strstr(err, "/tmp/campaign-cfg-"));
}

static void
test_errors_name_file_and_line(void **state)
{
	(void)state;
	expect_error("[chat]\n\ntokn_file = x\n", ":3:", "unknown key");
	expect_error("[mqtt]\nport = 99999\n", ":2:", "port");
	expect_error("[mqtt]\nport = 12ab\n", ":2:", "port");
	expect_error("[telegram]\npoll_timeout = 90\n", ":2:", "poll_timeout");
	/* The keys of before several platforms say what to write instead. */
	expect_error("[chat]\ndriver = telegram\n", ":2:", "drivers = telegram");
	expect_error("[chat]\ntoken_file = /x\n", ":2:", "under [telegram]");
	expect_error("[chat]\napi_url = http://x\n", ":2:", "under [telegram]");
	expect_error("[chat]\nadmins = 123\n", ":2:", "telegram:123");
	expect_error("[chat]\nadmins = matrix:1\n", ":2:", "unknown platform");
	expect_error("[chat]\ndrivers = telegram, telegram\n", ":2:", "each once");
	expect_error("[chat]\ndrivers = irc\n", ":2:", "drivers");
	expect_error("[chat]\ndrivers = dingtalk\n", "", "client_id");
	expect_error("[reminders]\nat = 9am\n", ":2:", "HH:MM");
	expect_error("[reminders]\nholidays = 2027-02-30\n", ":2:", "holidays");
	expect_error("[mqtt]\ntopic_prefix = a/#\n", ":2:", "topic_prefix");
	expect_error("[nosuch]\nkey = 1\n", ":2:", "unknown section");
	expect_error("[chat]\nthis line has no equals sign\n", ":2:", "syntax");
	expect_error("[mqtt]\ntls_cert = c.pem\n", "", "tls_key");
}

static void
test_missing_file_and_secret(void **state)
{
	char err[256];
	char *secret;
	FILE *fp;

	(void)state;
	assert_null(cfg_load("/nonexistent/campaign.ini", err, sizeof(err)));
	assert_non_null(strstr(err, "/nonexistent/campaign.ini"));
	write_config("123456:ABC-secret\n");
	secret = cfg_read_secret(path, err, sizeof(err));
	assert_non_null(secret);
	assert_string_equal(secret, "123456:ABC-secret");
	free(secret);
	fp = fopen(path, "w");
	fclose(fp);
	assert_null(cfg_read_secret(path, err, sizeof(err)));
	assert_null(strstr(err, "ABC"));
	unlink(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_full_file),
		cmocka_unit_test(test_errors_name_file_and_line),
		cmocka_unit_test(test_missing_file_and_secret),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
