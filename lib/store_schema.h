/* Internal: the migration list (lib/store_schema.c), applied by store.c. */
#ifndef CAMPAIGN_STORE_SCHEMA_H
#define CAMPAIGN_STORE_SCHEMA_H

extern const char *const store_migrations[];
extern const int store_nmigrations;

#endif
