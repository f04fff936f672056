#!/usr/bin/env bash
# Pipelines end to end (docs/policy.md "pipelines", examples/pipeline): the survey as three
# programs of the policy, clean -> aggregate -> suppress small groups, run by one request; its
# receipt covers every step. A pipeline whose middle step fails stops there with a clear report
# and no later step runs. Rights as for single runs.
#
# usage: pipelines-e2e.sh BUILD_DIR SOURCE_DIR
set -u
B=$1 SRC=$2
. "$SRC/tests/examples-e2e/lib.sh"
sbx_init "$B" sb-pipelines
sbx_start_services
sbx_keygen pollster clinic-a clinic-b
for s in clean aggregate suppress; do cp "$B/examples/pipeline/$s.wasm" "$T/"; done
ln -s "$RUNTIME" "$T/strongbox-runtime"
cp "$SRC/examples/pipeline/policy.template.json" "$T/"
cat >"$T/a.csv" <<CSV
group,q1,q2
north,4,5
north,3,4
north,5,5
south,1,2
north,9,1
CSV
cat >"$T/b.csv" <<CSV
group,q1,q2
north,2,3
south,2,2
east,5,5
north,x,1
CSV

sbx_sb "policy with pipelines" 0 "" policy new --from policy.template.json --host "127.0.0.1:$HP" \
  --attestation-url "http://127.0.0.1:$AP" -o policy.json
sbx_sb "deploy" 0 "" deploy policy.json
for s in clean aggregate suppress; do
  sbx_sb "pollster uploads $s.wasm" 0 "" put policy.json --as pollster -q $s.wasm /programs/$s.wasm
done
sbx_sb "clinic-a provides its answers" 0 "" put policy.json --as clinic-a -q a.csv /inputs/clinic-a/answers.csv
sbx_sb "refused: a party without the right to run the programs" 4 "does not let clinic-a run it" \
  run policy.json --as clinic-a --pipeline survey
sbx_sb "refused: a pipeline the policy does not name" 4 "names no pipeline 'nope'" \
  run policy.json --as pollster --pipeline nope
sbx_sb "usage: a pipeline takes no arguments" 2 "fixed by the policy" \
  run policy.json --as pollster --pipeline survey -- --min-group 1
sbx_sb "clinic-b provides its answers" 0 "" put policy.json --as clinic-b -q b.csv /inputs/clinic-b/answers.csv

# ---- a middle step fails: the pipeline stops there and no later step runs
sbx_sb "survey-few-groups stops at its middle step" 1 \
  "pipeline survey-few-groups stopped at step 2 of 3 (/programs/aggregate.wasm): exited with code 2" \
  run policy.json --as pollster --receipt few.receipt --pipeline survey-few-groups
sbx_check "  ... and says why (the program's own message)" "grep -q 'more than 1 groups' <<<\"\$OUT\"" "$OUT"
sbx_check "  ... the first step ran" "grep -q 'clean: kept 7 rows, dropped 2' <<<\"\$OUT\"" "$OUT"
sbx_sb "  ... the third step did not run: no summary exists" 4 "not-found" \
  get policy.json --as pollster -q /outputs/summary.csv -
sbx_sb "  ... its receipt verifies" 0 "requested by pollster as pipeline \"survey-few-groups\"" \
  receipt verify --policy policy.json few.receipt
sbx_check "  ... and covers exactly the two steps that ran" \
  "grep -q '^step 2: /programs/aggregate.wasm' <<<\"\$OUT\" && ! grep -q '^step 3' <<<\"\$OUT\" && grep -q 'ended: exited, exit code 2' <<<\"\$OUT\"" "$OUT"

# ---- the whole pipeline
sbx_sb "the survey pipeline runs as one request" 0 "pipeline survey: all 3 steps ran" \
  run policy.json --as pollster --receipt survey.receipt --pipeline survey
sbx_check "  ... every step's output, in order" \
  "grep -q 'clean: kept 7 rows' <<<\"\$OUT\" && grep -q 'aggregate: 3 groups, 2 questions' <<<\"\$OUT\" && grep -q 'suppress: 1 groups shown, 2 suppressed' <<<\"\$OUT\"" "$OUT"
sbx_sb "the pollster reads the summary" 0 "" get policy.json --as pollster -q /outputs/summary.csv summary.csv
printf 'north,4,3.50,4.25\nsouth,suppressed\neast,suppressed\n' >"$T/want.csv"
sbx_check "  ... small groups are suppressed, the rest is right" "cmp -s '$T/want.csv' '$T/summary.csv'" \
  "$(cat "$T/summary.csv" 2>/dev/null)"
sbx_sb "the pipeline's receipt verifies" 0 "as pipeline \"survey\"" \
  receipt verify --policy policy.json --output /outputs/summary.csv=summary.csv \
  --input /inputs/clinic-a/answers.csv=a.csv survey.receipt
sbx_check "  ... it covers the three steps, each with its program, arguments and files" \
  "grep -q '^step 1: /programs/clean.wasm' <<<\"\$OUT\" && grep -q '^step 3: /programs/suppress.wasm' <<<\"\$OUT\" && grep -q 'argument 2: 3' <<<\"\$OUT\" && grep -q 'could read /work/groups.csv .* provided by /programs/aggregate.wasm' <<<\"\$OUT\"" "$OUT"
sbx_sb "refused: clinic-b's answers given as clinic-a's" 3 "not the file the computation read" \
  receipt verify --policy policy.json --input /inputs/clinic-a/answers.csv=b.csv survey.receipt
sbx_sb "a single program of the pipeline still runs on its own" 0 "" \
  run policy.json --as pollster -q /programs/clean.wasm
sbx_summary "pipelines"
