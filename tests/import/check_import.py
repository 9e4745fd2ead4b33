#!/usr/bin/env python3
"""Data test for `campaignctl plan import`: one case folder = one document.

usage: check_import.py CAMPAIGNCTL CASE_DIR [--input FILE] [--expected FILE]

CASE_DIR holds input.* (the document, any encoding), expected.json and,
optionally, args (extra command-line arguments, one per line). Without
--input/--expected those come from CASE_DIR.

expected.json is compared field by field, after normalization; fields it
does not give are not compared:
  "error": "text"      the import must fail (exit 1) with this on stderr
  "title", "title_alt" the plan title (or one of title_alt when title is null)
  "theme", "year" (or "campaign_year"), "key_date", "id"
  "units": [{"name", "aliases"?}]  the registry, in order; aliases as a set
  "tasks": [{"id", "title", "when" or "when_text", "start", "due", "fuzzy",
             "units", "actors", "report_to", "detail"}]
           the task ids must be exactly these, in this order (nothing extra)
  "report": ["text", ...]  each must appear in the stderr report
The answer-key format of tests/seed (when_text, campaign_year, title_alt)
is accepted as is. "when" is compared without a leading 在/于/自/从 and
trailing punctuation, as the answer key's notes ask.
"""
import json
import os
import subprocess
import sys
import tempfile

PREFIXES = ("在", "于", "自", "从")
TRAILING = "。,,;;:: "


def norm_when(s):
    if s is None:
        return None
    s = s.strip()
    for p in PREFIXES:
        if s.startswith(p):
            s = s[len(p):]
            break
    return s.rstrip(TRAILING)


def fail(errors, where, got, want):
    errors.append(f"{where}: got {json.dumps(got, ensure_ascii=False)}, "
                  f"expected {json.dumps(want, ensure_ascii=False)}")


def compare_task(errors, got, want):
    tid = want["id"]
    for field in ("title", "start", "due", "fuzzy", "units", "detail"):
        if field in want and got.get(field) != want[field]:
            fail(errors, f"task {tid}.{field}", got.get(field), want[field])
    for field in ("actors", "report_to"):
        if field in want and got.get(field, []) != want[field]:
            fail(errors, f"task {tid}.{field}", got.get(field, []), want[field])
    want_when = want.get("when_text", want.get("when", "(not given)"))
    if want_when != "(not given)" and norm_when(got.get("when")) != norm_when(want_when):
        fail(errors, f"task {tid}.when", got.get("when"), want_when)


def compare(plan, expected, stderr):
    errors = []
    if "title" in expected:
        if expected["title"] is None and expected.get("title_alt"):
            if plan["title"] not in expected["title_alt"]:
                fail(errors, "title", plan["title"], expected["title_alt"])
        elif plan["title"] != expected["title"]:
            fail(errors, "title", plan["title"], expected["title"])
    for field in ("theme", "key_date", "id"):
        if field in expected and plan.get(field) != expected[field]:
            fail(errors, field, plan.get(field), expected[field])
    year_key = "year" if "year" in expected else "campaign_year"
    if year_key in expected and plan.get("year") != expected[year_key]:
        fail(errors, "year", plan.get("year"), expected[year_key])
    if "units" in expected:
        got_names = [u["name"] for u in plan["units"]]
        want_names = [u["name"] for u in expected["units"]]
        if got_names != want_names:
            fail(errors, "units", got_names, want_names)
        by_name = {u["name"]: u for u in plan["units"]}
        for u in expected["units"]:
            if "aliases" in u and u["name"] in by_name:
                got_aliases = sorted(by_name[u["name"]]["aliases"])
                if got_aliases != sorted(u["aliases"]):
                    fail(errors, f"units[{u['name']}].aliases", got_aliases,
                         sorted(u["aliases"]))
    if "tasks" in expected:
        got_ids = [t["id"] for t in plan["tasks"]]
        want_ids = [t["id"] for t in expected["tasks"]]
        if got_ids != want_ids:
            fail(errors, "task ids", got_ids, want_ids)
        by_id = {t["id"]: t for t in plan["tasks"]}
        for t in expected["tasks"]:
            if t["id"] in by_id:
                compare_task(errors, by_id[t["id"]], t)
    for text in expected.get("report", []):
        if text not in stderr:
            errors.append(f"report: missing {text!r}")
    return errors


def main():
    args = sys.argv[1:]
    ctl, case = args[0], args[1]
    opts = dict(zip(args[2::2], args[3::2]))
    expected_path = opts.get("--expected", os.path.join(case, "expected.json"))
    doc = opts.get("--input")
    if doc is None:
        inputs = sorted(f for f in os.listdir(case) if f.startswith("input"))
        if len(inputs) != 1:
            sys.exit(f"{case}: expected exactly one input.* file, found {inputs}")
        doc = os.path.join(case, inputs[0])
    extra = []
    if "--input" not in opts and os.path.exists(os.path.join(case, "args")):
        with open(os.path.join(case, "args"), encoding="utf-8") as f:
            extra = [line.strip() for line in f if line.strip()]
    with open(expected_path, encoding="utf-8") as f:
        expected = json.load(f)

    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, CAMPAIGN_DB=os.path.join(tmp, "campaign.db"),
                   CAMPAIGN_NOW="2027-10-08T09:00:00+08:00")
        env.pop("CAMPAIGN_CONFIG", None)
        proc = subprocess.run([ctl, "plan", "import", doc] + extra, env=env,
                              capture_output=True, timeout=50)
    stdout = proc.stdout.decode("utf-8")
    stderr = proc.stderr.decode("utf-8")
    sys.stderr.write(stderr)

    if "error" in expected:
        errors = []
        if proc.returncode != 1:
            errors.append(f"exit status {proc.returncode}, expected 1")
        if expected["error"] not in stderr:
            errors.append(f"stderr lacks {expected['error']!r}")
        if stdout.strip():
            errors.append("a failed import printed JSON")
        for text in expected.get("report", []):
            if text not in stderr:
                errors.append(f"report: missing {text!r}")
    elif proc.returncode != 0:
        errors = [f"exit status {proc.returncode}"]
    else:
        errors = compare(json.loads(stdout), expected, stderr)
    for e in errors:
        print(f"FAIL {os.path.basename(case.rstrip('/'))}: {e}")
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
