#!/usr/bin/env python3
"""Every `uses:` of a GitHub action or reusable workflow from another repository is pinned to a
full 40-hex commit SHA with its version in a comment (`owner/repo@<sha> # v1.2.3`), the form
Dependabot and Renovate update; docker:// images are pinned by digest. actionlint does not check
this. Local actions (./path) need no pin.

    check-action-pins.py WORKFLOW...     exit 1 and one FILE:LINE: error per unpinned use
"""
import re
import sys

import yaml  # PyYAML, installed with yamllint

USES = re.compile(r"""^\s*(?:-\s+)?uses:\s*(?P<q>["']?)(?P<ref>[^"'\s#]+)(?P=q)\s*(?:#\s*(?P<comment>.*))?$""")
PINNED = re.compile(r"^[\w.-]+/[\w.-]+(?:/[^@]+)?@[0-9a-f]{40}$")
VERSION = re.compile(r"^v?\d+(?:\.\d+)*")


def yaml_uses(node):
    """Every value of a `uses` key, however the YAML is written (flow style too)."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "uses" and isinstance(v, str):
                yield v
            else:
                yield from yaml_uses(v)
    elif isinstance(node, list):
        for v in node:
            yield from yaml_uses(v)


def check(path):
    errors = []
    with open(path, encoding="utf-8") as f:
        text = f.read()
    seen = []
    for n, line in enumerate(text.splitlines(), 1):
        m = USES.match(line)
        if not m:
            continue
        ref, comment = m["ref"], (m["comment"] or "").strip()
        seen.append(ref)
        if ref.startswith("./"):
            continue
        if ref.startswith("docker://"):
            if "@sha256:" not in ref:
                errors.append(f"{path}:{n}: error: {ref} is not pinned by digest (docker://IMAGE@sha256:...)")
            continue
        if not PINNED.match(ref):
            errors.append(f"{path}:{n}: error: {ref} is not pinned to a full 40-hex commit SHA "
                          "(owner/repo@<sha> # vX.Y.Z)")
        elif not VERSION.match(comment):
            errors.append(f"{path}:{n}: error: {ref} has no version comment (# vX.Y.Z) for "
                          "Dependabot/Renovate and readers")
    parsed = sorted(yaml_uses(yaml.safe_load(text)))
    if parsed != sorted(seen):
        missed = sorted(set(parsed) - set(seen)) or parsed
        errors.append(f"{path}: error: `uses:` written in a form this check cannot read line by "
                      f"line (write one `uses: ref # version` per line): {', '.join(missed)}")
    return errors


def main(paths):
    if not paths:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    errors = [e for p in paths for e in check(p)]
    for e in errors:
        print(e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
