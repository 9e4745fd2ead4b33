#!/usr/bin/python3
"""Plan size benchmark: for plans of N tasks (the seed's task 2.2 repeated,
four units each, up to the limit of 5000), the wall time of
`campaignctl plan load`, of `campaignctl tasks` (reads the whole plan back,
as every bot command and reminder tick does) and of `campaignctl task ID`.

usage: bench.py CAMPAIGNCTL SEED_PLAN [N ...]
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time


def timed(argv, env):
    t = time.monotonic()
    r = subprocess.run(argv, env=env, capture_output=True)
    if r.returncode != 0:
        sys.exit("%s: %s" % (" ".join(argv), r.stderr.decode(errors="replace")))
    return time.monotonic() - t


def main():
    ctl, seed = sys.argv[1], sys.argv[2]
    sizes = [int(n) for n in sys.argv[3:]] or [100, 1000, 2500, 5000]
    with open(seed, encoding="utf-8") as f:
        base = json.load(f)
    template = next(t for t in base["tasks"] if t["id"] == "2.2")
    tmp = tempfile.mkdtemp(prefix="bench-plan-")
    try:
        print("%8s %12s %12s %12s" % ("tasks", "load s", "tasks s", "task s"))
        for n in sizes:
            env = dict(os.environ, CAMPAIGN_DB=os.path.join(tmp, "%d.db" % n),
                       CAMPAIGN_NOW="2027-10-08T09:00:00+08:00")
            plan = dict(base, tasks=[dict(template, id="9.%d" % i) for i in range(n)])
            path = os.path.join(tmp, "%d.json" % n)
            with open(path, "w", encoding="utf-8") as f:
                json.dump(plan, f, ensure_ascii=False)
            load = timed([ctl, "plan", "load", path], env)
            tasks = timed([ctl, "tasks"], env)
            task = timed([ctl, "task", "9.%d" % (n - 1)], env)
            print("%8d %12.3f %12.3f %12.3f" % (n, load, tasks, task))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
