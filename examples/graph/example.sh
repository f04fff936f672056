# Sourced by examples/common/test-example.sh and tests/examples-e2e/run-example.sh.
PARTIES="telco bank"
RESULT=graph.json
PROGRAM_ARGS=""
TOL=0
make_inputs() {
  mkdir -p "$1/telco" "$1/bank"
  "$GEN" edges 1 2000 1200 > "$1/telco/edges.csv"
  "$GEN" edges 2 2000 1100 > "$1/bank/edges.csv"
  "$GEN" queries 3 2000 20 > "$1/bank/queries.csv"
}
reference() { "$REF" "$1"; }
# Roles in policy.template.json, for the end-to-end test (tests/examples-e2e):
PROGRAM=/programs/graph.wasm     # uploaded and run by RUNNER
PROVIDERS="telco bank"   # each uploads the files make_inputs wrote to its folder
READERS="telco bank"     # result readers
RUNNER=analyst
NON_READER=analyst     # a party of the policy who must not be able to read the result
# Bad inputs for the native/local tests: bad_input CASE DIR spoils DIR and prints the expected error.
BAD_CASES="quote three-columns"
bad_input() {
  case $1 in
    quote) echo 'n1,n"2' >> "$2/telco/edges.csv"; echo "node names are 1 to 47 bytes without quotes" ;;
    three-columns) echo "n1,n2,n3" >> "$2/bank/queries.csv"; echo "bank/queries.csv:22: expected from,to" ;;
  esac
}
