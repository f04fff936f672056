# Sourced by examples/common/test-example.sh: how to make inputs, what the result is, how to check it.
PARTIES="alice bob"
RESULT=model.json
PROGRAM_ARGS=""
TOL=1e-6
make_inputs() {   # DIR
  mkdir -p "$1/alice" "$1/bob"
  "$GEN" 1 500 > "$1/alice/rows.csv"
  "$GEN" 2 700 > "$1/bob/rows.csv"
}
reference() { "$REF" "$1"; }   # INPUT_DIR -> expected result on stdout
# Roles in policy.template.json, for the end-to-end test (tests/examples-e2e):
PROGRAM=/programs/regression.wasm     # uploaded and run by RUNNER
PROVIDERS="alice bob"   # each uploads the files make_inputs wrote to its folder
READERS="alice bob"     # result readers
RUNNER=carol
NON_READER=carol     # a party of the policy who must not be able to read the result
