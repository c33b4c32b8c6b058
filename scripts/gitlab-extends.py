#!/usr/bin/env python3
"""Print (as JSON) a GitLab CI file with every job's `extends:` resolved, as GitLab does it (parents first,
hashes merged key by key, everything else replaced by the child), and the hidden `.templates`
dropped. The GitLab CI schema lets hidden jobs hold anything, so the jobs are validated only once
resolved: `gitlab-extends.py FILE > resolved.json`, then check-jsonschema on that.
"""
import json
import sys

import yaml  # PyYAML, installed with yamllint


def merge(base, over):
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for k, v in over.items():
            out[k] = merge(base[k], v) if k in base else v
        return out
    return over


def resolve(doc, name, seen=()):
    job = doc[name]
    if name in seen:
        sys.exit(f"error: `extends` loop through {' -> '.join(seen + (name,))}")
    if not isinstance(job, dict) or "extends" not in job:
        return job
    parents = job["extends"] if isinstance(job["extends"], list) else [job["extends"]]
    out = {}
    for p in parents:
        if p not in doc:
            sys.exit(f"error: job {name} extends {p}, which is not defined in this file")
        out = merge(out, resolve(doc, p, seen + (name,)))
    own = {k: v for k, v in job.items() if k != "extends"}
    return merge(out, own)


def main(path):
    with open(path, encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    out = {k: resolve(doc, k) for k in doc if not str(k).startswith(".")}
    json.dump(out, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__.strip())
    main(sys.argv[1])
