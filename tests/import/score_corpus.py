#!/usr/bin/env python3
"""Field accuracy of `campaignctl plan import` on the corpus of real plans.

usage: score_corpus.py CAMPAIGNCTL CORPUS_DIR [--set all|dev|heldout] [--min PERCENT]

Each folder of CORPUS_DIR holds input.* (the document as the page held it),
source (its address) and key.json, the answer key written by reading the
document: {"heldout"?: true, "comment": "...", "tasks": [{"match", "due",
"units"}]}. A key task is found when an imported task not yet matched has
`match` in its title (else in its detail); then its due date (MM-DD, or
null) and its units (as a set) are compared. Imported tasks that match no
key task are extra. Per document and overall:

    accuracy = (found + due right + units right) / (3 * key tasks + extra)

The exit status is 1 when the overall figure is below --min (default 0).
"""
import json
import os
import subprocess
import sys
import tempfile


def run_import(ctl, doc):
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, CAMPAIGN_DB=os.path.join(tmp, "campaign.db"),
                   CAMPAIGN_NOW="2027-10-08T09:00:00+08:00")
        env.pop("CAMPAIGN_CONFIG", None)
        proc = subprocess.run([ctl, "plan", "import", doc], env=env,
                              capture_output=True, timeout=50)
    if proc.returncode != 0:
        return None, proc.stderr.decode("utf-8", "replace").strip().splitlines()[-1:]
    return json.loads(proc.stdout.decode("utf-8")), None


def mmdd(due):
    return None if due is None else due[-5:]


def score(plan, key):
    got = plan["tasks"] if plan else []
    used = [False] * len(got)
    found = due_ok = units_ok = 0
    misses = []
    for want in key["tasks"]:
        hit = None
        for field in ("title", "detail"):
            for i, t in enumerate(got):
                if not used[i] and want["match"] in (t.get(field) or ""):
                    hit = i
                    break
            if hit is not None:
                break
        if hit is None:
            misses.append(f"missing {want['match']}")
            continue
        used[hit] = True
        found += 1
        t = got[hit]
        if mmdd(t.get("due")) == want["due"]:
            due_ok += 1
        else:
            misses.append(f"{want['match']}: due {t.get('due')} != {want['due']}")
        if sorted(t.get("units", [])) == sorted(want["units"]):
            units_ok += 1
        else:
            misses.append(f"{want['match']}: units {t.get('units', [])} != {want['units']}")
    extra = [t["title"] for i, t in enumerate(got) if not used[i]]
    for title in extra:
        misses.append(f"extra {title[:30]}")
    return found, due_ok, units_ok, len(key["tasks"]), len(extra), misses


def main():
    args = sys.argv[1:]
    ctl, corpus = args[0], args[1]
    opts = dict(zip(args[2::2], args[3::2]))
    which = opts.get("--set", "all")
    minimum = float(opts.get("--min", "0"))
    verbose = os.environ.get("CORPUS_VERBOSE") == "1"
    points = total = 0
    sums = [0, 0, 0, 0, 0]
    for name in sorted(os.listdir(corpus)):
        folder = os.path.join(corpus, name)
        if not os.path.isdir(folder):
            continue
        with open(os.path.join(folder, "key.json"), encoding="utf-8") as f:
            key = json.load(f)
        held = key.get("heldout", False)
        if (which == "dev" and held) or (which == "heldout" and not held):
            continue
        inputs = [f for f in os.listdir(folder) if f.startswith("input")]
        plan, err = run_import(ctl, os.path.join(folder, inputs[0]))
        found, due_ok, units_ok, n, extra, misses = score(plan, key)
        if err:
            misses.insert(0, f"import failed: {err}")
        p, d = found + due_ok + units_ok, 3 * n + extra
        points, total = points + p, total + d
        for i, v in enumerate((found, due_ok, units_ok, n, extra)):
            sums[i] += v
        print(f"{name:45s} found {found}/{n} due {due_ok}/{n} units {units_ok}/{n} "
              f"extra {extra}  {100.0 * p / d if d else 100.0:5.1f}%"
              f"{' (held out)' if held else ''}")
        if verbose:
            for m in misses:
                print(f"    {m}")
    overall = 100.0 * points / total if total else 100.0
    print(f"overall ({which}): found {sums[0]}/{sums[3]} due {sums[1]}/{sums[3]} "
          f"units {sums[2]}/{sums[3]} extra {sums[4]}  accuracy {overall:.1f}%")
    if overall < minimum:
        print(f"FAIL: overall field accuracy {overall:.1f}% is below {minimum:.0f}%")
        sys.exit(1)


if __name__ == "__main__":
    main()
