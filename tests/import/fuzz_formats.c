/*
 * libFuzzer targets for the importer's front ends, one binary per format
 * (built with -DCAMPAIGN_FUZZ=ON, CC=clang): fuzz_import_docx,
 * fuzz_import_pdf, fuzz_import_html. Any bytes: the front end must refuse
 * with a reason or return text of the length it says, without crashing,
 * leaking or misbehaving under ASan/UBSan; its text then goes through the
 * importer, which must refuse with a reason or write a plan that loads.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "campaign/caldate.h"
#include "campaign/import.h"
#include "campaign/import_formats.h"
#include "campaign/plan.h"
#include "campaign/textnorm.h"

#if defined(FUZZ_FORMAT_DOCX)
#define FRONT_END import_docx_text
#elif defined(FUZZ_FORMAT_PDF)
#define FRONT_END import_pdf_text
#elif defined(FUZZ_FORMAT_HTML)
#define FRONT_END import_html_text
#else
#error "define FUZZ_FORMAT_DOCX, FUZZ_FORMAT_PDF or FUZZ_FORMAT_HTML"
#endif

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	free(textnorm_text("")); /* the process's one OpenCC converter, up front */
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct import_opts opts = { .name = "fuzz" };
	struct import_result *r;
	size_t len = 0;
	char err[1024] = "";
	char *text;

	if (size > 256 * 1024)
		return 0;
	text = FRONT_END(data, size, &len, err, sizeof(err));
	if (text == NULL) {
		if (err[0] == '\0')
			abort(); /* a refusal always says why */
		return 0;
	}
	if (strlen(text) != len)
		abort();
	if (len > IMPORT_MAX_BYTES) {
		free(text);
		return 0;
	}
	r = import_document(text, len, &opts);
	if (r->json != NULL) {
		struct plan_load_opts lo = { .today = caldate_from_ymd(2027, 10, 8) };
		struct plan *plan = plan_load_string(r->json, "fuzz", &lo, err, sizeof(err));

		if (plan == NULL) {
			fprintf(stderr, "imported plan does not load: %s\n%s\n", err, r->json);
			abort();
		}
		plan_free(plan);
	} else if (r->error == NULL) {
		abort();
	}
	import_result_free(r);
	free(text);
	return 0;
}
