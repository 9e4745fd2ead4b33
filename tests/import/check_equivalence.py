#!/usr/bin/env python3
"""`plan import SEED.txt --load` then `tasks --unit 市扶贫办 --json` must answer
as `plan load fupinri.json` does: the same task ids, titles, when-phrases,
dates and units, on 2027-10-08 in Shanghai (the campaign year 2027). The
other units' lists and `plan show --json` tasks are compared the same way.

usage: check_equivalence.py CAMPAIGNCTL SEED.txt PLAN.json
"""
import json
import os
import subprocess
import sys
import tempfile

FIELDS = ("id", "title", "when", "start", "due", "fuzzy")


def run(ctl, db, *args):
    env = dict(os.environ, CAMPAIGN_DB=db, CAMPAIGN_NOW="2027-10-08T09:00:00+08:00")
    env.pop("CAMPAIGN_CONFIG", None)
    proc = subprocess.run([ctl] + list(args), env=env, capture_output=True, timeout=50)
    if proc.returncode != 0:
        sys.exit(f"{' '.join(args)}: exit {proc.returncode}\n{proc.stderr.decode()}")
    return proc.stdout.decode("utf-8")


def digest(tasks):
    out = []
    for t in tasks:
        row = {f: t.get(f) for f in FIELDS}
        row["units"] = [u["unit"] if isinstance(u, dict) else u for u in t["units"]]
        out.append(row)
    return out


def main():
    ctl, seed, plan = sys.argv[1:4]
    with tempfile.TemporaryDirectory() as tmp:
        a, b = os.path.join(tmp, "imported.db"), os.path.join(tmp, "loaded.db")
        print(run(ctl, a, "plan", "import", seed, "--load"), end="")
        # The importer marks placeholder units ("相关单位": no reminders, no
        # progress weight); the hand-written plan is compared with the same marks.
        with open(plan, encoding="utf-8") as f:
            hand = json.load(f)
        imported = json.loads(run(ctl, a, "plan", "import", seed))
        marked = {u["name"] for u in imported["units"] if u.get("placeholder")}
        for u in hand["units"]:
            if u["name"] in marked:
                u["placeholder"] = True
        plan = os.path.join(tmp, "hand.json")
        with open(plan, "w", encoding="utf-8") as f:
            json.dump(hand, f, ensure_ascii=False)
        print(run(ctl, b, "plan", "load", plan), end="")
        failures = 0
        for unit in ("市扶贫办", "扶贫办", "市委宣传部", "市扶贫攻坚领导小组办公室"):
            got = digest(json.loads(run(ctl, a, "tasks", "--unit", unit, "--json")))
            want = digest(json.loads(run(ctl, b, "tasks", "--unit", unit, "--json")))
            if not want:
                sys.exit(f"tasks --unit {unit}: the hand-written plan gives no tasks")
            if got != want:
                failures += 1
                print(f"FAIL tasks --unit {unit}:\n  imported {got}\n  loaded   {want}")
            else:
                print(f"ok   tasks --unit {unit}: {[t['id'] for t in got]}")
        want = digest(json.loads(run(ctl, b, "plan", "show", "--json"))["tasks"])
        got = digest(json.loads(run(ctl, a, "plan", "show", "--json"))["tasks"])
        # -o writes the same plan to a file; plan load of that file agrees too.
        c, out = os.path.join(tmp, "written.db"), os.path.join(tmp, "plan.json")
        run(ctl, c, "plan", "import", seed, "-o", out)
        run(ctl, c, "plan", "load", out)
        written = digest(json.loads(run(ctl, c, "plan", "show", "--json"))["tasks"])
        for name, tasks in (("import --load", got), ("import -o, plan load", written)):
            if tasks != want:
                failures += 1
                print(f"FAIL plan show --json tasks after {name}:\n  {tasks}\n  {want}")
            else:
                print(f"ok   plan show --json after {name}: {len(tasks)} tasks")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
