/*
 * Who does a task (docs/plan-text.md §3): labelled lines and
 * parentheticals (责任单位/牵头单位/配合单位/… : A、B), the prose forms (此项工作由A
 * 负责; A牵头,B配合), the doers named as a sentence's subject (各地、各部门要…)
 * and the recipients of a report (…报送市扶贫办). Lists split on 、,,;; 及 以及
 * but never on 和 (人力资源和社会保障局), at parenthesis depth 0 only; a
 * trailing 等 goes; placeholders (xx日报) stay. Also the registry's aliases.
 */
#include <stdlib.h>
#include <string.h>

#include "campaign/buf.h"
#include "campaign/textnorm.h"
#include "campaign/utf8.h"
#include "campaign/xmalloc.h"
#include "import_priv.h"

#define UNIT_MAX_CHARS 40

static const char *const labels[] = {
	"责任单位", "责任部门", "牵头单位", "牵头部门", "配合单位", "配合部门", "落实单位",
	"组织单位", "承办单位", "主办单位", "协办单位", "参与单位", "实施单位", "责任主体",
	"协助单位",
};

/* Role words a name may end with in "A牵头,B配合" (longest first). */
static const char *const role_words[] = {
	"牵头负责", "具体负责", "共同负责", "组织实施", "执行承办", "牵头", "负责", "配合",
	"协助", "参与", "主办", "承办", "协办",
};

static const char *const unit_suffixes[] = {
	"地", "部门", "单位", "局", "委", "办", "室", "部", "厅", "会", "院", "所", "站",
	"中心", "队", "镇", "乡", "街道", "村", "社区", "县", "区", "市", "公司", "学校",
	"组", "团", "联", "处", "科", "股", "社", "台", "报", "馆", "协", "行", "校", "署",
};

void
imp_names_add(struct imp_names *names, const char *name)
{
	if (imp_names_has(names, name))
		return;
	names->v = xreallocarray(names->v, names->n + 1, sizeof(*names->v));
	names->v[names->n++] = xstrdup(name);
}

bool
imp_names_has(const struct imp_names *names, const char *name)
{
	for (size_t i = 0; i < names->n; i++)
		if (strcmp(names->v[i], name) == 0)
			return true;
	return false;
}

void
imp_names_free(struct imp_names *names)
{
	for (size_t i = 0; i < names->n; i++)
		free(names->v[i]);
	free(names->v);
	names->v = NULL;
	names->n = 0;
}

static bool
ends_with(const char *s, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);

	return len >= n && memcmp(s + len - n, suffix, n) == 0;
}

static bool
unit_like(const char *s)
{
	size_t len = strlen(s);

	/* 各县(市、区): the name before its parenthetical. */
	if (len > 0 && s[len - 1] == ')') {
		const char *open = strchr(s, '(');

		if (open != NULL && open > s)
			len = (size_t)(open - s);
	}

	for (size_t i = 0; i < sizeof(unit_suffixes) / sizeof(unit_suffixes[0]); i++)
		if (ends_with(s, len, unit_suffixes[i]))
			return true;
	return false;
}

/* Length of the separator at s (、 , ; 及 以及), or 0. */
static size_t
separator(const char *s)
{
	if (imp_starts(s, "、") || imp_starts(s, "以及"))
		return imp_starts(s, "、") ? strlen("、") : strlen("以及");
	if (*s == ',' || *s == ';')
		return 1;
	if (imp_starts(s, "及") && !imp_starts(s, "及时"))
		return strlen("及");
	return 0;
}

static bool starts_with_label(const char *s, size_t *n);

/* One name of a list: trimmed, without 由/label/role words/等; NULL if empty. */
static char *
clean_name(const char *s, size_t len)
{
	static const char *const tails[] = {
		"等相关单位", "等有关单位", "等单位", "等部门", "等", "。", ".", " ",
	};
	const char *p;
	bool again = true;

	size_t label;

	while (len > 0 && (*s == ' ' || *s == ':'))
		s++, len--;
	if (starts_with_label(s, &label) && label < len)
		s += label, len -= label;
	while (len > 0 && *s == ' ')
		s++, len--;
	p = s;
	if (len > strlen("由") && imp_eat(&p, "由"))
		len -= (size_t)(p - s), s = p;
	while (again) {
		again = false;
		for (size_t i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
			size_t n = strlen(tails[i]);

			if (len > n && ends_with(s, len, tails[i])) {
				len -= n;
				again = true;
			}
		}
		for (size_t i = 0; i < sizeof(role_words) / sizeof(role_words[0]); i++) {
			size_t n = strlen(role_words[i]);

			if (len > n && ends_with(s, len, role_words[i])) {
				len -= n;
				again = true;
				break;
			}
		}
	}
	if (len >= 2 && imp_starts(s, "“") && ends_with(s, len, "”"))
		s += strlen("“"), len -= strlen("“") + strlen("”");
	return len == 0 ? NULL : xstrndup(s, len);
}

void
imp_units_split(const char *list, struct imp_names *units, struct imp_names *rejected)
{
	size_t start = 0, i = 0;
	int depth = 0;

	for (;;) {
		size_t sep = list[i] == '\0' ? 0 : depth == 0 ? separator(list + i) : 0;

		if (list[i] == '\0' || sep > 0) {
			char *name = clean_name(list + start, i - start);

			if (name != NULL) {
				if (utf8_chars(name) > UNIT_MAX_CHARS)
					imp_names_add(rejected, name);
				else
					imp_names_add(units, name);
			}
			free(name);
			if (list[i] == '\0')
				break;
			i += sep;
			start = i;
			continue;
		}
		if (list[i] == '(')
			depth++;
		else if (list[i] == ')' && depth > 0)
			depth--;
		i += imp_cplen(list + i);
	}
}

static bool
starts_with_label(const char *s, size_t *n)
{
	const char *p = s;

	imp_eat(&p, "【");
	imp_eat(&p, "[");
	for (size_t i = 0; i < sizeof(labels) / sizeof(labels[0]); i++) {
		const char *q = p;

		if (!imp_eat(&q, labels[i]))
			continue;
		imp_eat(&q, "】");
		imp_eat(&q, "]");
		if (*q == ':' || q > p + strlen(labels[i])) {
			*n = (size_t)(q - s) + (*q == ':');
			return true;
		}
	}
	return false;
}

/* "(A牵头,B配合)": every part a short name, at least one with a role word. */
static bool
role_list(const char *s, size_t len)
{
	char *copy = xstrndup(s, len);
	bool role = false, ok = true;
	size_t start = 0, i = 0;

	for (;; i++) {
		if (copy[i] == '\0' || separator(copy + i) > 0) {
			size_t part = i - start;

			if (part == 0 || part > UNIT_MAX_CHARS * 3 || memchr(copy + start, '(', part))
				ok = false;
			for (size_t r = 0; r < sizeof(role_words) / sizeof(role_words[0]); r++)
				if (ends_with(copy + start, part, role_words[r]))
					role = true;
			if (copy[i] == '\0')
				break;
			i += separator(copy + i) - 1;
			start = i + 1;
		}
	}
	free(copy);
	return ok && role;
}

/* A field label at s: 1 to 6 characters, no punctuation, then ':'. */
static bool
next_field(const char *s)
{
	size_t chars = 0;

	while (*s != '\0' && *s != ':' && chars <= 6) {
		if (*s == ' ' || *s == ',' || *s == ';' || imp_starts(s, "、") ||
		    imp_starts(s, "。"))
			return false;
		s += imp_cplen(s);
		chars++;
	}
	return *s == ':' && chars >= 1;
}

/* Offset of the ')' closing the '(' at open (depth-aware), or 0. */
static size_t
closing(const char *s, size_t open)
{
	int depth = 0;

	for (size_t i = open; s[i] != '\0'; i++) {
		if (s[i] == '(')
			depth++;
		else if (s[i] == ')' && --depth == 0)
			return i;
	}
	return 0;
}

enum role { ROLE_NONE, ROLE_LEAD, ROLE_SUPPORT, ROLE_RESPONSIBLE };

void
imp_roles_free(struct imp_roles *r)
{
	imp_names_free(&r->lead);
	imp_names_free(&r->support);
	imp_names_free(&r->responsible);
}

static void
role_add(struct imp_roles *roles, enum role role, const struct imp_names *names)
{
	struct imp_names *to = NULL;

	if (roles == NULL)
		return;
	if (role == ROLE_LEAD)
		to = &roles->lead;
	else if (role == ROLE_SUPPORT)
		to = &roles->support;
	else if (role == ROLE_RESPONSIBLE)
		to = &roles->responsible;
	for (size_t i = 0; to != NULL && i < names->n; i++)
		imp_names_add(to, names->v[i]);
}

/* The role a label or verb states. */
static enum role
role_of(const char *word)
{
	static const char *const lead[] = { "牵头", "主办" };
	static const char *const support[] = { "配合", "协办", "协助", "承办", "会同", "落实" };
	static const char *const responsible[] = { "负责", "部署", "具体负责", "共同负责" };

	for (size_t i = 0; i < sizeof(lead) / sizeof(lead[0]); i++)
		if (imp_starts(word, lead[i]))
			return ROLE_LEAD;
	for (size_t i = 0; i < sizeof(support) / sizeof(support[0]); i++)
		if (imp_starts(word, support[i]) || imp_starts(word, "执行承办"))
			return ROLE_SUPPORT;
	for (size_t i = 0; i < sizeof(responsible) / sizeof(responsible[0]); i++)
		if (imp_starts(word, responsible[i]))
			return ROLE_RESPONSIBLE;
	return ROLE_NONE;
}

bool
imp_units_placeholder(const char *name)
{
	static const char *const exact[] = {
		"各地", "各部门", "各单位", "各地各部门", "其他单位", "有关方面", "各成员单位",
	};
	static const char *const tails[] = {
		"相关单位", "有关单位", "相关部门", "有关部门",
	};
	size_t len = strlen(name);

	for (size_t i = 0; i < sizeof(exact) / sizeof(exact[0]); i++)
		if (strcmp(name, exact[i]) == 0)
			return true;
	for (size_t i = 0; i < sizeof(tails) / sizeof(tails[0]); i++)
		if (ends_with(name, len, tails[i]))
			return true;
	return false;
}

/* Verbs that follow a list of units in prose, longest first. */
static const char *const prose_verbs[] = {
	"牵头负责", "具体负责", "共同负责", "负责协调", "负责组织", "组织实施", "执行承办",
	"牵头", "负责", "承办", "主办", "协办", "配合", "协助", "部署", "落实", "会同",
};

/* The prose verb at s, its length, or 0. */
static size_t
prose_verb(const char *s)
{
	for (size_t v = 0; v < sizeof(prose_verbs) / sizeof(prose_verbs[0]); v++) {
		size_t n = strlen(prose_verbs[v]);

		if (imp_starts(s, prose_verbs[v]))
			return imp_starts(s + n, "人") ? 0 : n; /* 负责人: a person */
	}
	return 0;
}

/* Adds the names of list[0, len) if every one reads as a unit; true if it did. */
/* "陈善强同志", "雷先佑", "xx": a person a school's plan puts in charge (由X负责). */
static bool
person_like(const char *s)
{
	size_t chars = utf8_chars(s), len = strlen(s);

	if (strcmp(s, "xx") == 0 || strcmp(s, "XX") == 0 || ends_with(s, len, "同志") ||
	    ends_with(s, len, "老师"))
		return true;
	if (chars < 2 || chars > 3)
		return false;
	for (const char *p = s; *p != '\0'; p += imp_cplen(p))
		if (!utf8_is_cjk(imp_cp(p)))
			return false;
	return true;
}

static bool
take_list(const char *list, size_t len, struct imp_names *units, struct imp_names *rejected,
    struct imp_roles *roles, enum role role, bool person)
{
	char *copy = xstrndup(list, len);
	struct imp_names found = { 0 };
	bool all = true;

	imp_units_split(copy, &found, rejected);
	for (size_t k = 0; k < found.n; k++)
		all = all && (unit_like(found.v[k]) || (person && person_like(found.v[k]))) &&
		    utf8_chars(found.v[k]) <= 20 && strchr(found.v[k], ' ') == NULL;
	all = all && found.n > 0;
	for (size_t k = 0; all && k < found.n; k++)
		imp_names_add(units, found.v[k]);
	if (all)
		role_add(roles, role, &found);
	imp_names_free(&found);
	free(copy);
	return all;
}

/*
 * The names before the first prose verb of s (within a unit list's length):
 * "县科委、县科协配合" -> 县科委, 县科协. Returns the bytes up to and with
 * the verb, or 0.
 */
static size_t
list_before_verb(const char *s, struct imp_names *units, struct imp_names *rejected,
    struct imp_roles *roles)
{
	const char *q = s, *from = s;
	size_t chars = 0, v;
	bool you = false;

	while (*q != '\0' && chars <= UNIT_MAX_CHARS * 2 && *q != ',' && *q != ';' &&
	    !imp_starts(q, "。")) {
		/* "…开幕式由县科委牵头", "以城区残联牵头": the list starts after 由/以 */
		if (imp_starts(q, "由"))
			from = q + strlen("由"), you = true;
		else if (imp_starts(q, "以") && q > s)
			from = q + strlen("以");
		if (q > from && (v = prose_verb(q)) > 0)
			return take_list(from, (size_t)(q - from), units, rejected, roles,
			    role_of(q), you && imp_starts(q, "负责")) ? (size_t)(q - s) + v : 0;
		q += imp_cplen(q);
		chars++;
	}
	return 0;
}

/*
 * The prose forms; names added, text kept:
 *   由A负责 / 由A、B牵头 / 以A牵头 (anywhere in a clause, also after a heading
 *   that runs into its text: "…开幕式由县科委牵头")
 *   A牵头,B配合 / 由A部署,B落实,C负责协调 (a list at a clause's start)
 *   A牵头,会同B / A会同B (the names after 会同, to the clause's end or verb)
 */
static void
prose_forms(const char *text, struct imp_names *units, struct imp_names *rejected,
    struct imp_roles *roles)
{
	const char *clause = text;

	while (*clause != '\0') {
		const char *end = clause, *p;
		size_t n;

		while (*end != '\0' && *end != ',' && *end != ';' && !imp_starts(end, "。"))
			end += imp_cplen(end);
		p = clause;
		imp_eat(&p, "此项工作");
		imp_eat(&p, "该项工作");
		imp_eat(&p, "具体工作");
		imp_eat(&p, "同时");
		if (imp_eat(&p, "会同")) {
			const char *q = p;

			while (q < end && prose_verb(q) == 0 && !imp_starts(q, "开展") &&
			    !imp_starts(q, "组织") && !imp_starts(q, "在"))
				q += imp_cplen(q);
			if (q > p)
				take_list(p, (size_t)(q - p), units, rejected, roles, ROLE_SUPPORT,
				    false);
		} else if ((n = list_before_verb(p, units, rejected, roles)) > 0) {
			/* "A会同B…": B as well */
			if (imp_starts(p + n - strlen("会同"), "会同")) {
				const char *q = p + n;

				while (q < end && prose_verb(q) == 0 && !imp_starts(q, "开展") &&
				    !imp_starts(q, "组织") && !imp_starts(q, "在"))
					q += imp_cplen(q);
				if (q > p + n)
					take_list(p + n, (size_t)(q - p - n), units, rejected, roles,
					    ROLE_SUPPORT, false);
			}
		} else {
			/* 由/以 inside the clause */
			for (const char *q = p; q < end; q += imp_cplen(q)) {
				const char *after = q;

				if (imp_eat(&after, "由") || (imp_eat(&after, "以") &&
				    strstr(after, "牵头") != NULL && strstr(after, "牵头") < end)) {
					if (list_before_verb(after, units, rejected, roles) > 0)
						break;
				}
			}
		}
		clause = end;
		if (*clause != '\0')
			clause += imp_cplen(clause);
	}
}

char *
imp_units_extract(const char *text, struct imp_names *units, struct imp_names *rejected)
{
	struct imp_names prose = { 0 };
	char *left = imp_units_extract_prose(text, units, &prose, rejected, NULL);

	if (units->n == 0)
		for (size_t i = 0; i < prose.n; i++)
			imp_names_add(units, prose.v[i]);
	imp_names_free(&prose);
	return left;
}

/*
 * Splits a labelled list into units, noting each part's role by its label
 * ("牵头单位:A;配合单位:B").
 */
static void
labelled_list(const char *list, struct imp_names *units, struct imp_names *rejected,
    struct imp_roles *roles)
{
	size_t start = 0, i = 0;
	int depth = 0;

	for (;; i++) {
		if (list[i] == '(')
			depth++;
		else if (list[i] == ')' && depth > 0)
			depth--;
		if (list[i] == '\0' || (list[i] == ';' && depth == 0)) {
			char *part = xstrndup(list + start, i - start);
			struct imp_names found = { 0 };
			const char *p = part;

			imp_units_split(part, &found, rejected);
			for (size_t k = 0; k < found.n; k++)
				imp_names_add(units, found.v[k]);
			while (*p == ' ' || imp_starts(p, "【") || *p == '[')
				p += imp_cplen(p);
			role_add(roles, role_of(p), &found);
			imp_names_free(&found);
			free(part);
			if (list[i] == '\0')
				break;
			start = i + 1;
		}
	}
}

char *
imp_units_extract_prose(const char *text, struct imp_names *units, struct imp_names *prose,
    struct imp_names *rejected, struct imp_roles *roles)
{
	struct buf out;
	size_t i = 0, n;

	buf_init(&out, strlen(text) + 1);
	while (text[i] != '\0') {
		bool boundary = i == 0 || text[i - 1] == ' ' || text[i - 1] == ',' ||
		    text[i - 1] == ';' || imp_starts(text + imp_prev(text, i), "。");

		if (text[i] == '(' || imp_starts(text + i, "【")) {
			bool paren = text[i] == '(';
			size_t close = paren ? closing(text, i) : 0;
			size_t inner = i + (paren ? 1 : 0);

			if (paren && close > 0) {
				const char *content = text + inner;
				size_t clen = close - inner;

				if (starts_with_label(content, &n)) {
					char *list = xstrndup(content, clen);

					labelled_list(list, units, rejected, roles);
					free(list);
					i = close + 1;
					continue;
				}
				if (role_list(content, clen)) {
					char *list = xstrndup(content, clen);
					struct imp_names ignored = { 0 };

					imp_units_split(list, units, rejected);
					prose_forms(list, &ignored, rejected, roles);
					imp_names_free(&ignored);
					free(list);
					i = close + 1;
					continue;
				}
			}
		}
		if (boundary && starts_with_label(text + i, &n)) {
			/*
			 * A field: the label's list runs to the end of the sentence, or
			 * to the next field ("责任单位:A、B 时间:5月15日上午 地点:…").
			 */
			const char *end = strstr(text + i, "。");
			size_t stop = end != NULL ? (size_t)(end - text) : strlen(text);

			for (size_t k = i + n; k < stop; k++)
				if (text[k] == ' ' && next_field(text + k + 1)) {
					stop = k;
					end = NULL;
					break;
				}
			char *list = xstrndup(text + i, stop - i);

			labelled_list(list, units, rejected, roles);
			free(list);
			i = stop + (end != NULL && imp_starts(text + stop, "。") ? strlen("。") : 0);
			continue;
		}
		buf_append(&out, text + i, 1);
		i++;
	}
	prose_forms(buf_str(&out), prose, rejected, roles);
	return buf_steal(&out);
}

void
imp_units_actors(const char *sentence, struct imp_names *actors)
{
	static const char *const stops[] = {
		"要", "应", "须", "必须", "开展", "负责", "于", "将", "在", "对", "把", "可",
		"积极", "认真", "按照", "根据", "结合", "组织", "做好", "加强", "务必", ",",
		"。", "的",
	};
	const char *end = NULL;
	struct imp_names found = { 0 }, rejected = { 0 };
	char *prefix;
	bool ok = true;

	for (size_t i = 0; i < sizeof(stops) / sizeof(stops[0]); i++) {
		const char *hit = strstr(sentence, stops[i]);

		if (hit != NULL && (end == NULL || hit < end))
			end = hit;
	}
	if (end == NULL || end == sentence || utf8_chars(sentence) < 2)
		return;
	prefix = xstrndup(sentence, (size_t)(end - sentence));
	imp_units_split(prefix, &found, &rejected);
	for (size_t i = 0; i < found.n; i++)
		ok = ok && utf8_chars(found.v[i]) >= 2 && utf8_chars(found.v[i]) <= 15 &&
		    unit_like(found.v[i]);
	for (size_t i = 0; ok && rejected.n == 0 && i < found.n; i++)
		imp_names_add(actors, found.v[i]);
	imp_names_free(&found);
	imp_names_free(&rejected);
	free(prefix);
}

void
imp_units_report_to(const char *text, struct imp_names *report_to)
{
	static const char *const verbs[] = {
		"报送至", "报送", "上报至", "上报", "报至", "报给", "提交至", "提交", "送至",
		"送交", "交至",
	};

	for (size_t v = 0; v < sizeof(verbs) / sizeof(verbs[0]); v++) {
		const char *hit = strstr(text, verbs[v]);
		const char *start, *p;
		struct imp_names found = { 0 }, rejected = { 0 };
		bool ok = true;
		char *list;

		if (hit == NULL)
			continue;
		start = p = hit + strlen(verbs[v]);
		imp_eat(&start, "给");
		imp_eat(&start, "到");
		p = start;
		while (*p != '\0' && *p != ',' && *p != ';' && *p != '(' &&
		    !imp_starts(p, "。"))
			p += imp_cplen(p);
		list = xstrndup(start, (size_t)(p - start));
		imp_units_split(list, &found, &rejected);
		for (size_t i = 0; i < found.n; i++)
			ok = ok && utf8_chars(found.v[i]) <= 30 && unit_like(found.v[i]);
		for (size_t i = 0; ok && rejected.n == 0 && i < found.n; i++)
			imp_names_add(report_to, found.v[i]);
		imp_names_free(&found);
		imp_names_free(&rejected);
		free(list);
		if (report_to->n > 0)
			return;
	}
}

/* Candidate short names of one unit, strongest first. */
static void
alias_candidates(const char *name, struct imp_names *out)
{
	static const char *const party_prefixes[] = {
		"省委", "市委", "县委", "区委", "省直", "市直", "县直", "区直",
	};
	static const char *const level_prefixes[] = { "省", "市", "县", "区", "镇", "乡" };
	size_t len = strlen(name);
	bool party = false;

	for (size_t i = 0; i < sizeof(party_prefixes) / sizeof(party_prefixes[0]); i++) {
		if (imp_starts(name, party_prefixes[i])) {
			const char *rest = name + strlen(party_prefixes[i]);

			party = true;
			if (utf8_chars(rest) >= 2 && strcmp(rest, "办公室") != 0)
				imp_names_add(out, rest); /* 市委宣传部 -> 宣传部 */
		}
	}
	for (size_t i = 0; !party && i < sizeof(level_prefixes) / sizeof(level_prefixes[0]); i++) {
		const char *rest = name + strlen(level_prefixes[i]);

		if (imp_starts(name, level_prefixes[i]) && utf8_chars(rest) >= 2)
			imp_names_add(out, rest); /* 市扶贫办 -> 扶贫办 */
	}
	if (ends_with(name, len, "办公室") && utf8_chars(name) > 3) {
		char *abbrev = xasprintf("%.*s办", (int)(len - strlen("办公室")), name);

		imp_names_add(out, abbrev); /* 市委办公室 -> 市委办 */
		free(abbrev);
		if (ends_with(name, len, "领导小组办公室") && utf8_chars(name) > 7)
			imp_names_add(out, "领导小组办公室");
	}
}

/* b is a written with extra characters: a's characters in order, at most 4 more. */
static bool
fuller_form(const char *a, const char *b)
{
	size_t na = utf8_chars(a), nb = utf8_chars(b);
	const char *p = a, *q = b;

	if (nb <= na || nb > na + 4 || na < 4)
		return false;
	while (*p != '\0' && *q != '\0') {
		size_t n = imp_cplen(p);

		if (strncmp(p, q, n) == 0)
			p += n;
		q += imp_cplen(q);
	}
	return *p == '\0' && strncmp(a, b, imp_cplen(a)) == 0;
}

/* Normalized forms of a list, computed once (textnorm costs an OpenCC call). */
static char **
norm_all(const struct imp_names *names)
{
	char **norms = xcalloc(names->n + 1, sizeof(*norms));

	for (size_t i = 0; i < names->n; i++)
		norms[i] = textnorm_name(names->v[i]);
	return norms;
}

static void
free_all(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* How many units have this normalized name or candidate alias. */
static size_t
holders(const char *norm, char **unit_norms, char ***alias_norms,
    const struct imp_names *aliases, size_t n, size_t *name_hits)
{
	size_t count = 0;

	*name_hits = 0;
	for (size_t j = 0; j < n; j++) {
		bool hit = strcmp(unit_norms[j], norm) == 0;

		*name_hits += hit;
		for (size_t b = 0; !hit && b < aliases[j].n; b++)
			hit = strcmp(alias_norms[j][b], norm) == 0;
		count += hit;
	}
	return count;
}

void
imp_units_aliases(const struct imp_names *units, const struct imp_names *extra,
    struct imp_names *aliases)
{
	static const char *const generic[] = {
		"办公室", "领导小组", "工作组", "单位", "部门", "相关单位", "有关单位",
	};
	size_t n = units->n;
	char **norms = norm_all(units), **extra_norms = norm_all(extra), ***alias_norms;
	struct imp_names *kept;

	for (size_t i = 0; i < n; i++)
		alias_candidates(units->v[i], &aliases[i]);
	for (size_t e = 0; e < extra->n; e++) {
		ssize_t owner = -1;
		int owners = 0;

		for (size_t i = 0; i < n; i++) {
			if (strcmp(norms[i], extra_norms[e]) == 0)
				owners = 99; /* already a unit */
			else if (fuller_form(units->v[i], extra->v[e]))
				owner = (ssize_t)i, owners++;
		}
		if (owners == 1)
			imp_names_add(&aliases[owner], extra->v[e]);
	}
	alias_norms = xcalloc(n + 1, sizeof(*alias_norms));
	for (size_t i = 0; i < n; i++)
		alias_norms[i] = norm_all(&aliases[i]);
	/* Keep an alias only if it names exactly one unit and no unit's name. */
	kept = xcalloc(n + 1, sizeof(*kept));
	for (size_t i = 0; i < n; i++) {
		struct imp_names seen = { 0 };

		for (size_t a = 0; a < aliases[i].n; a++) {
			const char *norm = alias_norms[i][a];
			size_t name_hits;
			bool ok = !imp_names_has(&seen, norm);

			for (size_t g = 0; ok && g < sizeof(generic) / sizeof(generic[0]); g++)
				ok = strcmp(aliases[i].v[a], generic[g]) != 0;
			ok = ok && holders(norm, norms, alias_norms, aliases, n, &name_hits) == 1 &&
			    name_hits == 0;
			if (ok) {
				imp_names_add(&kept[i], aliases[i].v[a]);
				imp_names_add(&seen, norm);
			}
		}
		imp_names_free(&seen);
	}
	for (size_t i = 0; i < n; i++) {
		free_all(alias_norms[i], aliases[i].n);
		imp_names_free(&aliases[i]);
		aliases[i] = kept[i];
	}
	free(alias_norms);
	free(kept);
	free_all(norms, n);
	free_all(extra_norms, extra->n);
}
