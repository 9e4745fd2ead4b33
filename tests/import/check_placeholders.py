#!/usr/bin/env python3
"""Placeholder units and unit roles, end to end (issue 13, classes 3 and 5).

usage: check_placeholders.py CAMPAIGNCTL SEED.txt CORPUS_DIR

- The seed imported and loaded: 相关单位 (task 2.6) is marked a placeholder in
  the plan; `task 2.6` names it without a "no report" row, `status` counts 20
  unit responsibilities (not 21), an invite for it is refused, and `plan show
  --json` still lists it among the task's units.
- A plan naming roles (corpus 08: 由县教委牵头,县科委、县科协配合) keeps them
  through `plan import --load` and `plan show --json`.
"""
import json
import os
import subprocess
import sys
import tempfile


def run(ctl, db, *args, ok=True):
    env = dict(os.environ, CAMPAIGN_DB=db, CAMPAIGN_NOW="2027-10-08T09:00:00+08:00")
    env.pop("CAMPAIGN_CONFIG", None)
    p = subprocess.run([ctl] + list(args), env=env, capture_output=True, timeout=50)
    if ok and p.returncode != 0:
        sys.exit(f"{' '.join(args)}: exit {p.returncode}\n{p.stderr.decode()}")
    return p


def main():
    ctl, seed, corpus = sys.argv[1:4]
    errors = []
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "seed.db")
        plan = json.loads(run(ctl, db, "plan", "import", seed).stdout)
        marked = [u["name"] for u in plan["units"] if u.get("placeholder")]
        if marked != ["相关单位"]:
            errors.append(f"placeholders in the imported plan: {marked}")
        run(ctl, db, "plan", "import", seed, "--load")
        task = run(ctl, db, "task", "2.6").stdout.decode()
        rows = [line for line in task.splitlines() if line.startswith("相关单位")]
        if rows or "also named 相关单位 (placeholder" not in task:
            errors.append(f"task 2.6 waits for 相关单位 or hides it:\n{task}")
        status = run(ctl, db, "status").stdout.decode()
        if "of 20 unit responsibilities" not in status:
            errors.append(f"status does not count 20 responsibilities:\n{status}")
        invite = run(ctl, db, "unit", "invite", "相关单位", ok=False)
        if invite.returncode != 1 or "placeholder" not in invite.stderr.decode():
            errors.append(f"invite for 相关单位: exit {invite.returncode} "
                          f"{invite.stderr.decode().strip()}")
        shown = json.loads(run(ctl, db, "plan", "show", "--json").stdout)
        t26 = next(t for t in shown["tasks"] if t["id"] == "2.6")
        if t26["units"] != ["市扶贫攻坚领导小组办公室", "相关单位"]:
            errors.append(f"plan show 2.6 units: {t26['units']}")

        db2 = os.path.join(tmp, "roles.db")
        doc = os.path.join(corpus, "08-county-science-week", "input.txt")
        run(ctl, db2, "plan", "import", doc, "--load")
        shown = json.loads(run(ctl, db2, "plan", "show", "--json").stdout)
        t = next(t for t in shown["tasks"] if "社会科学进校园" in t["title"])
        if t.get("lead") != ["县教委"] or t.get("support") != ["县科委", "县科协"]:
            errors.append(f"roles of {t['title']}: lead {t.get('lead')} "
                          f"support {t.get('support')}")
    for e in errors:
        print(f"FAIL {e}")
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
