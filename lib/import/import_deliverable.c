/*
 * import_deliverable: items that ask every unit for a written document
 * ("…情况总结,于10月底前…报送…"). A sentence with 总结 and, after it, 报送 names
 * a deliverable; its name is the clause up to 总结 (or 总结报告/总结材料),
 * without a leading placeholder subject ("各地、各部门开展"). Self-contained: the
 * rest of the importer only copies the result into the task's "deliverable".
 */
#include <stdbool.h>
#include <string.h>

#include "campaign/xmalloc.h"
#include "import_priv.h"

static bool
at_any(const char *p, const char *const *set, size_t *len)
{
	for (size_t i = 0; set[i] != NULL; i++) {
		size_t n = strlen(set[i]);

		if (strncmp(p, set[i], n) == 0) {
			*len = n;
			return true;
		}
	}
	return false;
}

static const char *const sentence_ends[] = { "。", ";", "；", "!", "！", "?", "？", "\n",
	NULL };
static const char *const clause_ends[] = { ",", "，", "、", ":", "：", NULL };

/* The end of the sentence starting at p. */
static const char *
sentence_end(const char *p)
{
	size_t n;

	while (*p != '\0' && !at_any(p, sentence_ends, &n))
		p += imp_cplen(p);
	return p;
}

/* Finds needle in [p, end). */
static const char *
find_in(const char *p, const char *end, const char *needle)
{
	size_t n = strlen(needle);

	for (; p + n <= end; p += imp_cplen(p))
		if (strncmp(p, needle, n) == 0)
			return p;
	return NULL;
}

/* The clause around at (no list commas: 各地、各部门 stays whole). */
static char *
clause_name(const char *sent, const char *at)
{
	static const char *const tails[] = { "总结报告", "总结材料", "总结", NULL };
	const char *start = sent, *p, *end, *verb;
	size_t n;

	for (p = sent; p < at; p += n)
		if (!at_any(p, clause_ends, &n) || strncmp(p, "、", n) == 0)
			n = imp_cplen(p);
		else
			start = p + n;
	if (!at_any(at, tails, &n))
		return NULL;
	end = at + n;
	/* "各地、各部门开展X总结" names X总结; a subject that is a unit stays. */
	if (strncmp(start, "各", strlen("各")) == 0 &&
	    (verb = find_in(start, at, "开展")) != NULL)
		start = verb + strlen("开展");
	/* "…要在11月5日前将工作总结报告报送…": the object of 将/把 */
	for (p = start; p < at; p += imp_cplen(p))
		if (strncmp(p, "将", strlen("将")) == 0 || strncmp(p, "把", strlen("把")) == 0)
			start = p + imp_cplen(p);
	while (start < end && (*start == ' ' || strncmp(start, "要", strlen("要")) == 0))
		start += imp_cplen(start);
	if (end - start < (ptrdiff_t)strlen("总结"))
		return NULL;
	return xstrndup(start, (size_t)(end - start));
}

char *
imp_deliverable(const char *text)
{
	const char *p = text;

	while (p != NULL && *p != '\0') {
		const char *end = sentence_end(p), *sum, *last = NULL;
		size_t n;

		for (sum = p; (sum = find_in(sum, end, "总结")) != NULL; sum += strlen("总结"))
			if (find_in(sum, end, "报送") != NULL)
				last = sum;
		if (last != NULL) {
			/* the last 总结 before 报送: "…要认真总结…,…的初步情况总结,…报送" */
			char *name = clause_name(p, last);

			if (name != NULL)
				return name;
		}
		p = *end != '\0' && at_any(end, sentence_ends, &n) ? end + n : end;
	}
	return NULL;
}
