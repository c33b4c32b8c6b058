#!/usr/bin/env bash
# Offline lint of the nightly-CI templates in ci/: actionlint (with shellcheck on `run:` blocks),
# JSON Schema validation of the GitHub workflow, the Dependabot config and the GitLab template
# (schemas vendored in check-jsonschema), yamllint, shellcheck of the scripts, and every
# third-party action pinned to a commit SHA. Then the same checks on copies with seeded mistakes,
# each of which must fail, so a linter that silently stopped checking is caught.
#
#   scripts/lint-ci.sh [VENV]     (default VENV: target/ci-lint-venv)
#
# The linters come from PyPI (ci/lint-requirements.txt, binary wheels only) and run with the
# network cut off where the system allows it (unshare -n), so none of them downloads anything.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${1:-$PWD/target/ci-lint-venv}
REQS=ci/lint-requirements.txt

if ! cmp -s "$REQS" "$VENV/lint-requirements.txt" 2>/dev/null; then
  echo "lint-ci: installing $(grep -c '==' "$REQS") linters into $VENV"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --only-binary :all: -r "$REQS"
  cp "$REQS" "$VENV/lint-requirements.txt"
fi
# actionlint finds shellcheck on PATH and runs it on every `run:` block.
export PATH="$VENV/bin:$PATH"

# Without network when possible (root, or user namespaces allowed).
offline() {
  if unshare -n true 2>/dev/null; then
    unshare -n "$@"
  else
    "$@"
  fi
}

GH_WORKFLOWS=(ci/github/rig-nightly.yml)
GH_DEPENDABOT=ci/github/dependabot.yml
GITLAB=(ci/gitlab/rig-nightly.gitlab-ci.yml)
SCRIPTS=(ci/nightly.sh ci/tests/nightly-test.sh scripts/lint-ci.sh)

# lint DIR [ONLY]: the checks (those whose name contains ONLY, if given) on the templates under
# DIR (the repository, or a copy with a mistake); prints each result unless $quiet, returns the
# number of failed checks.
lint() {
  local root=$1 only=${2:-} bad=0 f
  run() {
    local name=$1 out
    shift
    [[ $name == *"$only"* ]] || return 0
    if out=$(cd "$root" && offline "$@" 2>&1); then
      [ -n "$quiet" ] || echo "ok   $name"
    else
      bad=$((bad + 1))
      [ -n "$quiet" ] || { echo "FAIL $name"; printf '%s\n' "$out" | sed 's/^/     | /'; }
    fi
  }
  run "actionlint (with shellcheck of run: blocks)" \
    actionlint -config-file ci/github/actionlint.yaml "${GH_WORKFLOWS[@]}"
  run "GitHub workflow schema" \
    check-jsonschema --builtin-schema vendor.github-workflows "${GH_WORKFLOWS[@]}"
  run "GitHub jobs have timeouts" \
    check-jsonschema --builtin-schema custom.github-workflows-require-timeout "${GH_WORKFLOWS[@]}"
  run "Dependabot config schema" \
    check-jsonschema --builtin-schema vendor.dependabot "$GH_DEPENDABOT"
  run "GitLab CI schema" \
    check-jsonschema --builtin-schema vendor.gitlab-ci "${GITLAB[@]}"
  # Hidden jobs (.rig-bench) may hold anything in the schema: validate the jobs resolved.
  # shellcheck disable=SC2016 # expanded by the inner bash
  run "GitLab CI schema, extends resolved" bash -c 'for f; do
      python3 scripts/gitlab-extends.py "$f" >"$f.resolved.json" &&
        check-jsonschema --builtin-schema vendor.gitlab-ci "$f.resolved.json" || exit 1
      rm -f "$f.resolved.json"
    done' - "${GITLAB[@]}"
  run "yamllint" yamllint -c ci/yamllint.yaml --strict ci/
  run "shellcheck" shellcheck "${SCRIPTS[@]}"
  for f in "${SCRIPTS[@]}"; do
    run "bash -n $f" bash -n "$f"
  done
  run "actions pinned to commit SHAs" python3 scripts/check-action-pins.py "${GH_WORKFLOWS[@]}"
  return "$bad"
}

quiet=""
failed=0
lint "$PWD" || failed=$?

# Seeded mistakes: a copy of the tree with one mistake each, which the named check (clean on the
# real tree above) must report.
seed_dir=$(mktemp -d)
trap 'rm -rf "$seed_dir"' EXIT
mistake() {
  local name=$1 check=$2 file=$3 from=$4 to=$5 copy="$seed_dir/$RANDOM$RANDOM" n
  mkdir -p "$copy"
  cp -r ci scripts "$copy/"
  if ! grep -qF -- "$from" "$copy/$file"; then
    echo "FAIL seeded mistake '$name': '$from' not in $file"
    failed=$((failed + 1))
    return
  fi
  FROM=$from TO=$to python3 -c 'import os, sys
p = sys.argv[1]; s = open(p).read()
open(p, "w").write(s.replace(os.environ["FROM"], os.environ["TO"], 1))' "$copy/$file"
  n=0
  quiet=1 lint "$copy" "$check" || n=$?
  if [ "$n" -gt 0 ]; then
    echo "ok   seeded mistake caught by $check: $name"
  else
    echo "FAIL seeded mistake not caught by $check: $name"
    failed=$((failed + 1))
  fi
}
W=ci/github/rig-nightly.yml
G=ci/gitlab/rig-nightly.gitlab-ci.yml
PINS="actions pinned"
mistake "unpinned action" "$PINS" $W "checkout@8e8c483db84b4bee98b60c0593521ed34d9990e8 # v6.0.1" "checkout@v6"
mistake "short SHA" "$PINS" $W "@b7c566a772e6b6bfb58ed0dc250532a479d7789f" "@b7c566a"
mistake "pin without version comment" "$PINS" $W \
  "9255dc7a253b0ccc959486e2bca901246202afeb # v5.0.1" "9255dc7a253b0ccc959486e2bca901246202afeb"
mistake "typo'd job key (runs-onn)" actionlint $W "    runs-on: [self-hosted" "    runs-onn: [self-hosted"
mistake "typo'd job key (runs-onn)" "GitHub workflow schema" $W "    runs-on: [self-hosted" "    runs-onn: [self-hosted"
mistake "typo'd concurrency key" actionlint $W "cancel-in-progress: false" "cancel-in-progres: false"
# Not seeded: a misspelt input of a SHA-pinned action. actionlint knows popular actions' inputs
# by version tag only, so it cannot see that one.
mistake "undefined job output" actionlint $W "needs.build.outputs.seed" "needs.build.outputs.sed"
# shellcheck disable=SC2016 # shell code as text
mistake "unquoted variables in a run: block" actionlint $W \
  'echo "seed=$seed" >>"$GITHUB_OUTPUT"' 'echo seed=$seed >>$GITHUB_OUTPUT'
mistake "job without timeout" "GitHub jobs have timeouts" $W "    timeout-minutes: 30" "    # no timeout"
mistake "typo'd GitLab key (scirpt) in a hidden job" "extends resolved" $G "  script:
    - chmod +x \"\$RIG\"
    - ci/nightly.sh" "  scirpt:
    - chmod +x \"\$RIG\"
    - ci/nightly.sh"
mistake "invalid GitLab artifacts:when in a hidden job" "extends resolved" $G "    when: always
    name: rig-bench" "    when: sometimes
    name: rig-bench"
mistake "unknown Dependabot ecosystem" "Dependabot" $GH_DEPENDABOT "github-actions" "github-action"
mistake "duplicate YAML key" yamllint $G "  stage: test" "  stage: test
  stage: build"
# shellcheck disable=SC2016 # shell code as text
mistake "unquoted variable in nightly.sh" shellcheck ci/nightly.sh 'mkdir -p "$out"' 'mkdir -p $out'
mistake "syntax error in nightly.sh" "bash -n ci/nightly.sh" ci/nightly.sh "esac" "esca"

echo "lint-ci: $failed failed"
[ "$failed" = 0 ]
