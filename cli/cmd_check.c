/*
 * campaignctl check: the database's health (docs/REFERENCE.md): integrity,
 * foreign keys, schema version, and the outboxes (the oldest event not yet
 * on MQTT, events the broker refused, chat messages pending per platform).
 * Exit 1 when the database itself is damaged; a backlog is reported, not failed.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "campaign/dbadmin.h"
#include "cli.h"

static void
print_json(const struct dbadmin_health *h, bool healthy)
{
	json_t *o = json_object(), *plats = json_object();

	json_object_set_new(o, "ok", json_boolean(healthy));
	json_object_set_new(o, "integrity", json_string(h->integrity));
	json_object_set_new(o, "foreign_key_violations", json_integer(h->fk_violations));
	json_object_set_new(o, "schema", json_integer(h->schema));
	json_object_set_new(o, "schema_latest", json_integer(h->schema_latest));
	json_object_set_new(o, "events_pending", json_integer(h->events_pending));
	json_object_set_new(o, "events_failed", json_integer(h->events_failed));
	json_object_set_new(o, "oldest_pending_event", h->oldest_pending_id > 0 ?
	    json_integer(h->oldest_pending_id) : json_null());
	for (size_t i = 0; i < h->nplatforms; i++)
		json_object_set_new(plats, h->platforms[i].platform, json_pack("{sI sI}",
		    "pending", (json_int_t)h->platforms[i].pending,
		    "failed", (json_int_t)h->platforms[i].failed));
	json_object_set_new(o, "deliveries", plats);
	cli_print_json(o);
}

static void
print_text(const struct dbadmin_health *h, time_t now)
{
	printf("integrity: %s\n", h->integrity);
	printf("foreign keys: %s\n", h->fk_violations == 0 ? "ok" : "rows point to missing rows");
	printf("schema: %d (this program: %d)\n", h->schema, h->schema_latest);
	if (h->oldest_pending_id > 0) {
		long long age = (long long)(now - h->oldest_pending_at);

		printf("events: %lld pending (oldest #%lld, %lld min old), %lld failed\n",
		    (long long)h->events_pending, (long long)h->oldest_pending_id,
		    age > 0 ? age / 60 : 0, (long long)h->events_failed);
	} else {
		printf("events: none pending, %lld failed\n", (long long)h->events_failed);
	}
	if (h->events_failed > 0)
		printf("  the broker refused some: campaign-bridge --failed\n");
	if (h->nplatforms == 0)
		printf("deliveries: none\n");
	for (size_t i = 0; i < h->nplatforms; i++)
		printf("deliveries %s: %lld pending, %lld failed\n", h->platforms[i].platform,
		    (long long)h->platforms[i].pending, (long long)h->platforms[i].failed);
}

int
cmd_check(struct cli *cli, int argc, char **argv)
{
	const struct cli_command *cmd = cli_command_get("check");
	struct dbadmin_health h;
	bool json = argc == 2 && strcmp(argv[1], "--json") == 0, healthy;
	char err[1024];
	int rc;

	if (argc > 2 || (argc == 2 && !json))
		return cli_usage_error(cmd, "check: only --json");
	if (cli_open_store(cli) != 0)
		return CLI_FAILED;
	if (dbadmin_health(cli->store, &h, err, sizeof(err)) < 0) {
		dbadmin_health_free(&h);
		return cli_fail("%s", err);
	}
	healthy = strcmp(h.integrity, "ok") == 0 && h.fk_violations == 0 &&
	    h.schema == h.schema_latest;
	if (json)
		print_json(&h, healthy);
	else
		print_text(&h, cli->now);
	dbadmin_health_free(&h);
	rc = healthy ? CLI_OK : CLI_FAILED;
	if (!healthy && !json)
		fprintf(stderr, "campaignctl: the database is damaged: restore a backup "
		    "(campaignctl restore FILE)\n");
	return rc;
}
