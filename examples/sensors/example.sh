# Sourced by examples/common/test-example.sh and tests/examples-e2e/run-example.sh.
PARTIES="city port rail"
RESULT=estimate.json
PROGRAM_ARGS=""
TOL=1e-4
make_inputs() {
  mkdir -p "$1/city" "$1/port" "$1/rail"
  "$GEN" 1 4 > "$1/city/readings.csv"
  "$GEN" 2 3 > "$1/port/readings.csv"
  "$GEN" 3 5 > "$1/rail/readings.csv"
}
reference() { "$REF" "$1"; }
# Roles in policy.template.json, for the end-to-end test (tests/examples-e2e):
PROGRAM=/programs/sensors.wasm     # uploaded and run by RUNNER
PROVIDERS="city port rail"   # each uploads the files make_inputs wrote to its folder
READERS="coastguard"     # result readers
RUNNER=coastguard
NON_READER=city     # a party of the policy who must not be able to read the result
# Bad inputs for the native/local tests: bad_input CASE DIR spoils DIR and prints the expected error.
BAD_CASES="infinite too-few"
bad_input() {
  case $1 in
    infinite) echo "10,20,inf" >> "$2/port/readings.csv"; echo "port/readings.csv:5: expected three finite numbers x,y,toa" ;;
    too-few) rm "$2/rail/readings.csv" "$2/city/readings.csv"; echo "need at least 4 sensors to fix a position and a time, got 3" ;;
  esac
}
