#!/usr/bin/env python3
"""The importer's caps refuse clearly, never truncate silently (issue 14, defect 4).

usage: check_limits.py CAMPAIGNCTL

- 100,001 non-empty lines (the last one a task): exit 1, the error names the
  limit and the line; no JSON printed.
- exactly 100,000 lines: imported, the last task present.
- a 5 MiB file: exit 1, the error names its real size (5242880 bytes).
"""
import json
import os
import subprocess
import sys
import tempfile

LIMIT_LINES = 100000


def plan_lines(n):
    """n non-empty lines: a heading, filler text, and a task on the last line."""
    lines = ["一、活动内容"] + ["说明。"] * (n - 2)
    lines.append("(一)10月17日前,开展最后一项活动。(责任单位:市扶贫办)")
    return "\n".join(lines) + "\n"


def run(ctl, path, tmp):
    env = dict(os.environ, CAMPAIGN_DB=os.path.join(tmp, "campaign.db"),
               CAMPAIGN_NOW="2027-10-08T09:00:00+08:00")
    env.pop("CAMPAIGN_CONFIG", None)
    return subprocess.run([ctl, "plan", "import", path], env=env, capture_output=True,
                          timeout=280)


def main():
    ctl = sys.argv[1]
    errors = []
    with tempfile.TemporaryDirectory() as tmp:
        over = os.path.join(tmp, "over.txt")
        with open(over, "w", encoding="utf-8") as f:
            f.write(plan_lines(LIMIT_LINES + 1))
        p = run(ctl, over, tmp)
        err = p.stderr.decode("utf-8")
        if p.returncode != 1 or p.stdout.strip():
            errors.append(f"{LIMIT_LINES + 1} lines: exit {p.returncode}, expected a refusal")
        if "more than 100000 non-empty lines" not in err or "line 100001" not in err:
            errors.append(f"{LIMIT_LINES + 1} lines: unclear error: {err.strip()[-200:]}")

        at = os.path.join(tmp, "at.txt")
        with open(at, "w", encoding="utf-8") as f:
            f.write(plan_lines(LIMIT_LINES))
        p = run(ctl, at, tmp)
        if p.returncode != 0:
            errors.append(f"{LIMIT_LINES} lines: exit {p.returncode}: "
                          f"{p.stderr.decode('utf-8').strip()[-200:]}")
        else:
            tasks = json.loads(p.stdout)["tasks"]
            if not tasks or "最后一项" not in tasks[-1]["title"]:
                errors.append(f"{LIMIT_LINES} lines: the last task is missing")

        big = os.path.join(tmp, "big.txt")
        with open(big, "wb") as f:
            f.write(b"a" * (5 << 20))
        p = run(ctl, big, tmp)
        err = p.stderr.decode("utf-8")
        if p.returncode != 1 or "5242880 bytes" not in err:
            errors.append(f"5 MiB file: exit {p.returncode}, error {err.strip()!r}")
    for e in errors:
        print(f"FAIL {e}")
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
