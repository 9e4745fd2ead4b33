/*
 * The importer's modules and what they share (not installed; the public API
 * is include/campaign/import.h). The pipeline, one module per stage:
 *   import_text    bytes -> decoded, glitch-repaired, normalized lines
 *   import_lex     numbers (Arabic, Chinese, placeholders), named days, lunar table
 *   import_date    when-phrases (docs/plan-text.md §4.2)
 *   import_outline headings, link-list rejection, sections and items
 *   import_units   responsibility lines, actors, recipients, unit aliases
 *   import_plan    the assembler: title, theme, year, tasks, JSON, report
 */
#ifndef CAMPAIGN_IMPORT_PRIV_H
#define CAMPAIGN_IMPORT_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "campaign/import.h"

#define IMP_MAX_DEPTH 4
#define IMP_MAX_LINES 100000

/* ---- notes (import_plan.c) ---------------------------------------------- */

struct imp_notes {
	struct import_note *v;
	size_t n, cap;
};

void imp_note(struct imp_notes *notes, int line, int last_line, enum import_level level,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* A short quotable excerpt of text (at most max_chars characters, "…" if cut). */
void imp_excerpt(const char *text, size_t max_chars, char *out, size_t outlen);

/* ---- text (import_text.c) ----------------------------------------------- */

struct imp_line {
	char *text;             /* normalized: repaired, no pinyin, simplified, folded */
	int no;                 /* 1-based line number in the document */
};

struct imp_doc {
	struct imp_line *lines; /* non-blank lines only, trimmed */
	size_t nlines;
	int total_lines;
	const char *encoding;
};

/* Decodes and normalizes; -1 with err for empty, binary or oversized input. */
int imp_text_load(const void *data, size_t len, struct imp_doc *doc,
    struct imp_notes *notes, char *err, size_t errlen);
void imp_doc_free(struct imp_doc *doc);
/* Repairs the known scrape glitches of one raw line (before textnorm). */
char *imp_glitch_repair(const char *line, int *repaired, int *lost);

/* ---- lexical helpers (import_lex.c) ------------------------------------- */

/* Byte length of the code point at s (1 for an invalid byte, 0 at NUL). */
size_t imp_cplen(const char *s);
uint32_t imp_cp(const char *s);
/* True if s starts with lit; advances *p past it when it does. */
bool imp_eat(const char **p, const char *lit);
bool imp_starts(const char *s, const char *lit);
/* Byte offset of the code point before offset off in s (0 if none). */
size_t imp_prev(const char *s, size_t off);

enum imp_num_kind { IMP_NUM_NONE, IMP_NUM_ARABIC, IMP_NUM_CHINESE, IMP_NUM_PLACEHOLDER };

/*
 * Reads a number at s: Arabic digits (up to 4), Chinese numerals (十七,
 * 二〇二四, 两), or a placeholder (xx, XX, ××, 20xx, __). Returns the bytes
 * read and sets *value (-1 for a placeholder) and *kind, or 0.
 */
size_t imp_number(const char *s, int *value, enum imp_num_kind *kind);
/* Chinese numeral 一..九十九 only (for headings); bytes read or 0. */
size_t imp_cn_numeral(const char *s, int *value);

struct imp_named_day {
	const char *name;       /* as it appears: "扶贫日", "国庆" */
	int month, day;         /* fixed date; month 0 = computed (lunar, nth weekday) */
	int lunar;              /* index into the lunar festival table, or -1 */
	int nth_week, weekday;  /* e.g. third (3) Sunday (7) of month */
	int span_days;          /* a period (国庆 7, 安全生产月 30); 1 = one day */
	int ordinal_base;       /* the N-th occurrence falls in base+N; 0 = none */
	bool key;               /* a campaign day a plan is about (not 国庆, 元旦 ...) */
};

/* The named day at s (longest name first); bytes read or 0. */
size_t imp_named_day(const char *s, const struct imp_named_day **out);
/* Solar date of a named day in year y; false if unknown (lunar year outside the table). */
bool imp_named_day_date(const struct imp_named_day *nd, int y, int *month, int *day);
int imp_days_in_month(int year, int month);

/* ---- outline (import_outline.c) ----------------------------------------- */

enum imp_class {
	IMP_CLASS_OTHER,        /* unknown heading: items are tasks when dated or assigned */
	IMP_CLASS_ACTIVITY,     /* 活动内容, 工作安排 ...: every item is a task */
	IMP_CLASS_REQUIREMENT,  /* 有关要求, 保障措施 ...: tasks when dated or assigned */
	IMP_CLASS_INFO,         /* 指导思想, 活动主题, 目标, 活动时间 ...: never tasks */
};

struct imp_seg {
	char *text;
	int line;
};

struct imp_item {
	int path[IMP_MAX_DEPTH];
	int depth;              /* 0 = a section (一、) */
	int line, last_line;
	char *head;             /* text after the marker */
	struct imp_seg *body;
	size_t nbody;
	bool leaf;
	enum imp_class cls;     /* of its section */
	bool period;            /* the campaign-period section or field (活动时间) */
	bool activities;        /* a section made from a table or from dated lines:
	                           its items are activities whatever its heading */
};

struct imp_outline {
	struct imp_seg *preamble; /* before the first heading (title, preamble) */
	size_t npreamble;
	struct imp_item *items;
	size_t nitems;
	int signature_year;     /* the year of the signature date (落款), 0 if none */
	int signature_line;
};

void imp_outline_build(const struct imp_doc *doc, struct imp_outline *out,
    struct imp_notes *notes);
void imp_outline_free(struct imp_outline *o);
enum imp_class imp_classify(const char *heading);

/* ---- units (import_units.c) ---------------------------------------------- */

struct imp_names {
	char **v;
	size_t n;
};

void imp_names_add(struct imp_names *names, const char *name);
bool imp_names_has(const struct imp_names *names, const char *name);
void imp_names_free(struct imp_names *names);

/*
 * Takes the responsibility lines out of text: "(责任单位:A、B)", "牵头单位:A;
 * 配合单位:B", "此项工作由A负责", "(A牵头,B配合)". Adds the units found to
 * *units and returns text without the labelled parts (prose forms stay).
 * Names too long to be units are added to *rejected.
 */
char *imp_units_extract(const char *text, struct imp_names *units,
    struct imp_names *rejected);
/*
 * Units' parts as the document states them: 牵头/主办 (lead), 配合/协办/承办/
 * 会同 (support), 负责 (responsible: the lead when someone supports).
 */
struct imp_roles {
	struct imp_names lead, support, responsible;
};

void imp_roles_free(struct imp_roles *r);
/* The same, with the prose forms' names (由A负责, A牵头) apart in *prose and
   the roles stated added to *roles (may be NULL). */
char *imp_units_extract_prose(const char *text, struct imp_names *units,
    struct imp_names *prose, struct imp_names *rejected, struct imp_roles *roles);
/* "相关单位", "各有关部门", "各地": a unit named by a plan that names nobody. */
bool imp_units_placeholder(const char *name);
/* Splits a list of names on 、,,;; 及 以及 (never 和), depth-aware. */
void imp_units_split(const char *list, struct imp_names *units, struct imp_names *rejected);
/* "各地、各部门要…", "…于10月底前…报送市扶贫办": the doers and the recipients. */
void imp_units_actors(const char *sentence, struct imp_names *actors);
void imp_units_report_to(const char *text, struct imp_names *report_to);
/* The document a "…总结…报送…" item asks for (import_deliverable.c); owned, or NULL. */
char *imp_deliverable(const char *text);
/*
 * Short aliases for each unit (市委宣传部 -> 宣传部, 市委办公室 -> 市委办),
 * kept only where unambiguous across the registry; extra names (the
 * recipients) that are a unit written more fully become its aliases.
 */
void imp_units_aliases(const struct imp_names *units, const struct imp_names *extra,
    struct imp_names *aliases_out /* one list per unit */);

/* ---- the assembled plan (import_plan.c builds it, import_json.c writes it) */

struct imp_task {
	char *id;
	char *title;
	char *detail;
	char *when;             /* the phrase as written; NULL if none */
	struct import_when w;
	int line;               /* the item's heading */
	struct imp_names units, actors, report_to;
	struct imp_names lead, support; /* among units */
};

struct imp_plan {
	char *id, *title, *theme, *source;
	int year;               /* 0: unknown */
	const char *year_source;
	int key_month, key_day; /* 0: none */
	struct imp_task *tasks;
	size_t ntasks;
	struct imp_names units; /* the registry, in order of first appearance */
	struct imp_names *aliases; /* one list per unit */
	struct imp_names report_to; /* every recipient (alias candidates) */
};

/* ---- document-wide facts (import_meta.c) --------------------------------- */

/* The first preamble line if it reads as a title (…活动方案), else NULL. */
char *imp_meta_title(const struct imp_outline *ol);
/* A title when the document has none: "“扶贫日”活动方案" from 开展好“扶贫日”活动. */
char *imp_meta_title_infer(const struct imp_outline *ol, const struct imp_named_day *key,
    const char *stem);
/* 活动主题: "…" as a section, an item or a field; NULL if none. */
char *imp_meta_theme(const struct imp_outline *ol);
/*
 * The campaign year: the first explicit year of a task date (dates_year),
 * the title or preamble, an ordinal (第四个扶贫日), a document number
 * (〔2019〕), else opt_year; 0 if none. *source says which.
 */
int imp_meta_year(const struct imp_doc *doc, const struct imp_outline *ol, int dates_year,
    int opt_year, const char **source, struct imp_notes *notes);
/* The named day the plan is about (most mentioned, the title counting most). */
const struct imp_named_day *imp_meta_key_day(const struct imp_doc *doc,
    const struct imp_outline *ol);
/* A plan id from a file name: "fupinri-plan.txt" -> "fupinri-plan". */
char *imp_meta_slug(const char *name);

/* The campaign-plan/1 text; notes for dates that cannot be written. */
char *imp_json_write(const struct imp_plan *plan, struct imp_notes *notes);
void imp_plan_free(struct imp_plan *plan);

#endif
