#!/usr/bin/env python3
"""Write a campaign journal (journal.jsonl, the shape of rig's campaign::journal::record) with
known counts, for testing ci/nightly.sh against what `rig report` derives from it.

    make_journal.py OUT_DIR BENCH SEED DUT:SUB_CASE:VERDICTS [...]

VERDICTS is one letter per iteration: p pass, f fail, k flaky, e infrastructure error,
b fail that bricked the device.
"""
import json
import os
import sys

OUTCOME = {"p": "completed", "f": "dfu-mode", "k": "resumed", "e": "old-app-running",
           "b": "bricked"}
VERDICT = {"p": "pass", "f": "fail", "k": "flaky", "e": "error", "b": "fail"}
CLASS = {"f": "dut.protocol.create.operation-failed", "e": "infra.adapter", "b": "dut.brick"}


def iteration(dut, sub_case, i, seed, v):
    rec = {
        "record": "iteration",
        "case": sub_case.split("[")[0],
        "sub_case": sub_case,
        "dut": dut,
        "iteration": i,
        "seed": seed * 1000 + i,
        "outcome": OUTCOME[v],
        "verdict": VERDICT[v],
        "duration_ms": 2000 + i,
        "update_ms": 1000 + 10 * i,
        "bytes": 6144,
        "wall_ms": 3,
    }
    if v in CLASS:
        rec["failure_class"] = CLASS[v]
        rec["message"] = f"iteration {i} went wrong"
    if v == "k":
        rec["retries"] = [{"outcome": "stuck", "failure_class": "dut.timeout.create",
                           "message": "no response to CREATE", "duration_ms": 30000}]
    return rec


def main():
    out, bench, seed, *specs = sys.argv[1:]
    seed = int(seed)
    runs = [spec.split(":", 2) for spec in specs]
    duts = sorted({dut for dut, _, _ in runs})
    header = {
        "record": "header", "format": 1, "tool": "rig", "tool_version": "0.1.0",
        "suite": {"name": "nightly-soak", "path": "suites/nightly-soak.yaml",
                  "sha256": "ab" * 32},
        "seed": seed,
        "bench": {"name": bench, "kind": "hardware", "file": f"benches/{bench}.yaml",
                  "host": f"{bench}-host"},
        "duts": [{"name": d, "chip": "nRF52832_xxAA", "bootloader": "SDK 17.1 ble"}
                 for d in duts],
        "wall_start": "2026-09-01T02:00:00+00:00",
    }
    lines = [header]
    for dut, sub_case, verdicts in runs:
        lines += [iteration(dut, sub_case, i, seed, v) for i, v in enumerate(verdicts)]
    n = len(lines) - 1
    lines.append({"record": "footer", "iterations": n, "stopped": "completed",
                  "duration_ms": 1, "wall_ms": 1, "wall_end": "2026-09-01T03:00:00+00:00"})
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "journal.jsonl"), "w", encoding="utf-8") as f:
        for line in lines:
            f.write(json.dumps(line) + "\n")


if __name__ == "__main__":
    main()
