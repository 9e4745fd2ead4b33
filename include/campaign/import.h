/*
 * The plan importer: an official plan document (a 活动方案 as published,
 * scrape noise and all; UTF-8, GB18030/GBK, Big5 or UTF-16; traditional or
 * simplified) to campaign-plan/1 JSON, with a report of every line it could
 * not resolve. Nothing in the document is dropped silently: what does not
 * become a task, a unit, the title, the theme or the year is in the notes.
 *
 * The when-phrase parser (docs/plan-text.md §4.2) is public too:
 * it reads "10月底前", "在“10·17”当天", "9月至10月" in any normalized text.
 */
#ifndef CAMPAIGN_IMPORT_H
#define CAMPAIGN_IMPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define IMPORT_MAX_BYTES (4u << 20) /* a plan is ~10 KB; refuse anything absurd */

struct import_opts {
	int year;               /* --year: used when the document states none; 0 = none */
	const char *id;         /* --id; NULL: a slug of the file name */
	const char *name;       /* the file name: id slug, "source" and messages */
};

enum import_level { IMPORT_NOTE, IMPORT_WARNING };

struct import_note {
	int line;               /* 1-based; 0 = the whole document */
	int last_line;          /* last line of a range, else == line */
	enum import_level level;
	char *text;
};

struct import_result {
	char *json;             /* campaign-plan/1 (pretty, UTF-8); NULL on failure */
	char *error;            /* why there is no JSON; NULL on success */
	const char *encoding;   /* "UTF-8", "GB18030", "BIG5", "UTF-16LE", ... */
	int nlines;
	size_t ntasks, nunits;
	size_t ndates;          /* tasks with a date phrase */
	size_t ndates_resolved; /* ... of which with a start or a due date */
	int year;               /* the campaign year, 0 when left to plan load */
	const char *year_source; /* "document", "title", "ordinal", "doc number", "--year" */
	struct import_note *notes; /* sorted by line */
	size_t nnotes;
};

/*
 * Imports a document. Always returns a result: json on success, error (and
 * whatever notes were made) when the input is empty, binary, too large or
 * holds no task.
 */
struct import_result *import_document(const void *data, size_t len,
    const struct import_opts *opts);
void import_result_free(struct import_result *r);
/* The report: a summary line, then "name:line: message" per note. */
void import_report_print(const struct import_result *r, const char *name, FILE *fp);

/* ---- when-phrases ------------------------------------------------------- */

enum import_when_kind {
	IMPORT_WHEN_NONE,
	IMPORT_WHEN_ON,         /* a day: 10月17日, 在“10·17”当天 */
	IMPORT_WHEN_BY,         /* a deadline: 10月17前, 10月底前, 国庆节前 */
	IMPORT_WHEN_AROUND,     /* 10月10日左右, 9月底, “扶贫日”期间 */
	IMPORT_WHEN_PERIOD,     /* 10月上旬, 10月份, 年内 */
	IMPORT_WHEN_RANGE,      /* 9月至10月, 10月11—17日, 自9月30日-10月31日 */
	IMPORT_WHEN_RECURRING,  /* 每月20日: no single date */
	IMPORT_WHEN_CAMPAIGN,   /* 活动期间: the plan's own period or key date */
	IMPORT_WHEN_TBD,        /* 另行通知, 待定 */
	IMPORT_WHEN_UNRESOLVED, /* xx月xx日前, 2023月11—17日, 10日18日前 */
};

/* One end of a when-phrase. month 0: open (no such end). */
struct import_day {
	int year;               /* as written; 0 = the campaign year */
	int year_offset;        /* +1: 次年/翌年 or a range past December; -1: "1月前" */
	int month, day;
};

struct import_when {
	enum import_when_kind kind;
	size_t at, len;         /* byte span of the phrase in the text */
	struct import_day start, due;
	bool fuzzy;             /* approximate: 左右, 底, 旬, a month, 期间 ... */
	bool year_placeholder;  /* 20xx年 and the like */
	const char *why;        /* UNRESOLVED: a short reason */
};

/*
 * Finds the date phrase of a (normalized) text: the first one that names a
 * day, month or named day; TBD, 活动期间 and year-wide phrases only when
 * nothing better is there. year is the campaign year if known (month ends,
 * lunar holidays, nth weekdays), else 0. False when the text has none.
 */
bool import_when_find(const char *text, int year, struct import_when *out);
/* True when the kind carries real dates (not NONE/TBD/RECURRING/UNRESOLVED). */
bool import_when_dated(const struct import_when *w);
const char *import_when_kind_name(enum import_when_kind kind);

#endif
