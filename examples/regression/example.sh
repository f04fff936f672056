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
# Bad inputs for the native/local tests: bad_input CASE DIR spoils DIR and prints the expected error.
BAD_CASES="nan label header"
bad_input() {
  case $1 in
    nan) echo "0.1,0.2,0.3,nan,1" >> "$2/bob/rows.csv"; echo "bob/rows.csv:702: expected four finite numbers" ;;
    label) echo "0.1,0.2,0.3,4.5,2" >> "$2/alice/rows.csv"; echo "alice/rows.csv:502: expected four finite numbers and a 0/1 label" ;;
    header) sed -i '1s/.*/x1,x2,y,label/' "$2/alice/rows.csv"; echo "alice/rows.csv: first line must be the header" ;;
  esac
}
