#!/usr/bin/env python3
"""Run one suite both ways, in-process (the virtual bench) and through the hardware path on a lab
(`rig lab up`, HardwareDut: probe-rs, the serial transport, the PPK2), and compare them.

Both runs use the same --seed, so iteration k of a sub-case gets the same seed and the same planned
fault point either way. Iterations whose fault is not at a random point (or that have none) are
deterministic: their outcomes must be equal iteration by iteration. For the others each outcome's
rate must agree within the two runs' Wilson 95 % intervals (the intervals overlap). Exit 1 on any
disagreement, with a table of where.

  scripts/lab-compare.py --suite SUITE.yaml [--iterations N] [--seed S] [--rig target/debug/rig]
                         [--lab-dir DIR] [--keep]

The lab serves UART DUTs, so SUITE must be a UART suite (the UART twins scripts/lab-check.sh makes).
"""
import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict

Z = 1.959963984540054  # 95 %


def wilson(k, n):
    if n == 0:
        return (0.0, 1.0)
    p = k / n
    d = 1 + Z * Z / n
    c = (p + Z * Z / (2 * n)) / d
    h = Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n)) / d
    return (max(0.0, c - h), min(1.0, c + h))


def iterations(journal):
    out = []
    with open(journal) as f:
        for line in f:
            r = json.loads(line)
            if r.get("record") == "iteration":
                out.append(r)
    return out


def is_random(it):
    f = it.get("planned_fault")
    return bool(f) and "random" in json.dumps(f.get("at", {}))


def run(rig, args, what):
    p = subprocess.run([rig] + args, capture_output=True, text=True)
    if p.returncode not in (0, 1):  # 1: some iterations failed, still a comparison
        sys.exit(f"lab-compare: {what} exited {p.returncode}:\n{p.stderr[-3000:]}")
    return p


def compare(a, b):
    """a, b: iteration records (in-process, lab). Returns (lines, ok)."""
    by = lambda its: {(r["sub_case"], r["iteration"]): r for r in its}
    A, B = by(a), by(b)
    lines, ok = [], True
    missing = sorted(set(A) ^ set(B))
    if missing:
        ok = False
        lines.append(f"iterations in one run only: {missing[:10]}")
    groups = defaultdict(lambda: ([], []))
    for key in sorted(set(A) & set(B)):
        ra, rb = A[key], B[key]
        if not is_random(ra):
            same = (ra["outcome"], ra["verdict"]) == (rb["outcome"], rb["verdict"])
            ok &= same
            if not same:
                lines.append(
                    f"DIFFER {key[0]} #{key[1]} (deterministic): in-process {ra['outcome']}/{ra['verdict']}, lab {rb['outcome']}/{rb['verdict']}"
                )
        groups[key[0]][0].append(ra)
        groups[key[0]][1].append(rb)
    lines.append(f"{'sub-case':46} {'outcome':16} {'in-process':>22} {'lab':>22}  agree")
    for sub, (ga, gb) in sorted(groups.items()):
        ca = Counter(r["outcome"] for r in ga)
        cb = Counter(r["outcome"] for r in gb)
        pa = Counter(r["verdict"] for r in ga)
        pb = Counter(r["verdict"] for r in gb)
        rows = [(f"outcome {o}", ca[o], cb[o]) for o in sorted(set(ca) | set(cb))]
        rows.append(("verdict pass", pa["pass"], pb["pass"]))
        for name, ka, kb in rows:
            wa, wb = wilson(ka, len(ga)), wilson(kb, len(gb))
            agree = wa[0] <= wb[1] and wb[0] <= wa[1]
            ok &= agree
            lines.append(
                f"{sub[:46]:46} {name[:16]:16} {ka:3}/{len(ga):<3} [{wa[0]:.2f},{wa[1]:.2f}] {kb:3}/{len(gb):<3} [{wb[0]:.2f},{wb[1]:.2f}]  {'yes' if agree else 'NO'}"
            )
    return lines, ok


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--suite", required=True)
    ap.add_argument("--iterations", type=int, default=3)
    ap.add_argument("--seed", default="1")
    ap.add_argument("--rig", default=os.path.join(os.path.dirname(__file__), "..", "target", "debug", "rig"))
    ap.add_argument("--lab-dir", help="an already running lab (else one is started and stopped)")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    ap.add_argument("--speed", default="1", help="the lab's speed (rig lab up --speed), when this script starts it")
    ap.add_argument("--require-pass", action="store_true", help="fail unless every lab iteration passes")
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="rig-lab-compare.")
    lab = a.lab_dir or os.path.join(work, "lab")
    started = False
    try:
        common = ["run", a.suite, "--seed", a.seed, "--iterations", str(a.iterations), "--json"]
        run(a.rig, common + ["--out", os.path.join(work, "inproc")], "the in-process run")
        if not a.lab_dir:
            p = subprocess.run([a.rig, "lab", "up", "--dir", lab, "--duts", "1", "--fresh", "uart-bootloader",
                                "--speed", a.speed],
                               capture_output=True, text=True)
            if p.returncode != 0:
                sys.exit(f"lab-compare: rig lab up: {p.stderr}")
            started = True
        labrun = run(a.rig, common + ["--bench", os.path.join(lab, "bench.yaml"), "--dut", "dut-0",
                                      "--out", os.path.join(work, "lab-run")], "the lab run")
        lines, ok = compare(iterations(os.path.join(work, "inproc", "journal.jsonl")),
                            iterations(os.path.join(work, "lab-run", "journal.jsonl")))
        print("\n".join(lines))
        print("lab-compare: " + ("the lab and the in-process bench agree" if ok else "they DISAGREE"))
        if a.require_pass and labrun.returncode != 0:
            print("lab-compare: the lab run has failed iterations:\n" + labrun.stderr[-2000:])
            ok = False
        return 0 if ok else 1
    finally:
        if started:
            subprocess.run([a.rig, "lab", "down", "--dir", lab], capture_output=True)
        if a.keep:
            print(f"lab-compare: work directory {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
