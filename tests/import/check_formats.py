#!/usr/bin/env python3
"""The front ends: each fixture imports to the same plan as its text form.

usage: check_formats.py CAMPAIGNCTL FORMATS_DIR CASES_DIR

formats/make_fixtures.py made the fixtures from our own documents:
labels.* from cases/simplified-labels/input.txt, table.* from
formats/table-plan.txt. For .docx, .html and .pdf: the same title, year,
units and tasks (id, title, when, start, due, units, lead, support) as the
text; the page's footer (主办单位:xx县人民政府办公室) is no unit. A scanned
PDF and an old .doc are refused with a message saying what to do.
"""
import json
import os
import subprocess
import sys
import tempfile


def run(ctl, path):
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, CAMPAIGN_DB=os.path.join(tmp, "c.db"),
                   CAMPAIGN_NOW="2027-10-08T09:00:00+08:00")
        env.pop("CAMPAIGN_CONFIG", None)
        return subprocess.run([ctl, "plan", "import", path], env=env,
                              capture_output=True, timeout=60)


def digest(plan):
    keys = ("id", "title", "when", "start", "due", "units", "lead", "support")
    return {
        "title": plan["title"], "year": plan["year"],
        "units": [u["name"] for u in plan["units"]],
        "tasks": [{k: t.get(k) for k in keys} for t in plan["tasks"]],
    }


def main():
    ctl, formats, cases = sys.argv[1:4]
    texts = {"labels": os.path.join(cases, "simplified-labels", "input.txt"),
             "table": os.path.join(formats, "table-plan.txt")}
    errors = []
    for name, text in texts.items():
        p = run(ctl, text)
        want = digest(json.loads(p.stdout))
        for ext in ("docx", "html", "pdf"):
            path = os.path.join(formats, f"{name}.{ext}")
            p = run(ctl, path)
            if p.returncode != 0:
                errors.append(f"{name}.{ext}: exit {p.returncode}: "
                              f"{p.stderr.decode().strip()[-300:]}")
                continue
            got = digest(json.loads(p.stdout))
            for field in ("title", "year", "units"):
                if got[field] != want[field]:
                    errors.append(f"{name}.{ext}: {field} {got[field]} != {want[field]}")
            if len(got["tasks"]) != len(want["tasks"]):
                errors.append(f"{name}.{ext}: {len(got['tasks'])} tasks, "
                              f"the text has {len(want['tasks'])}")
            for g, w in zip(got["tasks"], want["tasks"]):
                if g != w:
                    errors.append(f"{name}.{ext}: task {w['id']}: {g} != {w}")
            if any("人民政府办公室" in u for u in got["units"]):
                errors.append(f"{name}.{ext}: the site footer's 主办单位 became a unit")
        print(f"ok   {name}: .docx .html .pdf against the text ({len(want['tasks'])} tasks)"
              if not errors else f"checked {name}")
    for path, needle in (("scan.pdf", "no text layer"), ("old.doc", "save it as .docx")):
        p = run(ctl, os.path.join(formats, path))
        err = p.stderr.decode()
        if p.returncode != 1 or needle not in err or p.stdout.strip():
            errors.append(f"{path}: exit {p.returncode}, expected a refusal with "
                          f"{needle!r}: {err.strip()}")
    for e in errors:
        print(f"FAIL {e}")
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
