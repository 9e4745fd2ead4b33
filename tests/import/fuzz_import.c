/*
 * libFuzzer target for the plan importer (built with -DCAMPAIGN_FUZZ=ON and
 * CC=clang). Any bytes: the importer must not crash, leak or misbehave under
 * ASan/UBSan; it must either refuse with a reason or write JSON that
 * `plan load` accepts; and the when-phrase parser must keep its spans and
 * dates inside the text and the calendar.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "campaign/caldate.h"
#include "campaign/import.h"
#include "campaign/plan.h"
#include "campaign/textnorm.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static FILE *devnull;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	free(textnorm_text("")); /* the process's one OpenCC converter, up front */
	devnull = fopen("/dev/null", "w");
	return 0;
}

static void
check_day(const struct import_day *d)
{
	if (d->month == 0)
		return;
	if (d->month < 1 || d->month > 12 || d->day < 1 || d->day > 31)
		abort();
}

static void
check_when(const char *text, int year)
{
	struct import_when w;

	if (!import_when_find(text, year, &w))
		return;
	if (w.at > strlen(text) || w.len == 0 || w.at + w.len > strlen(text))
		abort();
	if (import_when_dated(&w)) {
		check_day(&w.start);
		check_day(&w.due);
	} else if (w.start.month != 0 || w.due.month != 0) {
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct import_opts opts = { .name = "fuzz.txt" };
	struct import_result *r;
	char *text;

	if (size > 64 * 1024)
		return 0;
	r = import_document(data, size, &opts);
	if (r->json != NULL) {
		struct plan_load_opts lo = { .today = caldate_from_ymd(2027, 10, 8) };
		char err[1024];
		struct plan *plan = plan_load_string(r->json, "fuzz", &lo, err, sizeof(err));

		if (plan == NULL || r->error != NULL || r->ntasks == 0) {
			fprintf(stderr, "imported plan does not load: %s\n%s\n", err, r->json);
			abort();
		}
		plan_free(plan);
	} else if (r->error == NULL) {
		abort();
	}
	import_report_print(r, "fuzz.txt", devnull);
	import_result_free(r);
	/* The parser alone, on the raw text. */
	text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	check_when(text, 0);
	check_when(text, 2024);
	free(text);
	return 0;
}
