# Sourced by examples/common/test-example.sh and tests/examples-e2e/run-example.sh.
PARTIES="clinic-a clinic-b clinic-c"
RESULT=summary.json
PROGRAM_ARGS="--min-group 5"
TOL=1e-6
make_inputs() {
  i=0
  for p in $PARTIES; do i=$((i+1)); mkdir -p "$1/$p"; "$GEN" $i 60 5 > "$1/$p/answers.csv"; done
}
reference() { "$REF" 5 "$1"; }
# Roles in policy.template.json, for the end-to-end test (tests/examples-e2e):
PROGRAM=/programs/survey.wasm     # uploaded and run by RUNNER
PROVIDERS="clinic-a clinic-b clinic-c"   # each uploads the files make_inputs wrote to its folder
READERS="pollster"     # result readers
RUNNER=pollster
NON_READER=clinic-a     # a party of the policy who must not be able to read the result
FIXED_ARGS_DIFFERENT="--min-group 1"   # the policy fixes --min-group 5: a run asking for 1 is refused
