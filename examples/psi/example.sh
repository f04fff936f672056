# Sourced by examples/common/test-example.sh and tests/examples-e2e/run-example.sh.
PARTIES="adco shop"
RESULT=overlap.json
PROGRAM_ARGS=""
TOL=0
make_inputs() {
  mkdir -p "$1/adco" "$1/shop"
  "$GEN" viewers 1 5000 > "$1/adco/viewers.csv"
  "$GEN" purchases 2 3000 > "$1/shop/purchases.csv"
}
reference() { "$REF" "$1"; }
# Roles in policy.template.json, for the end-to-end test (tests/examples-e2e):
PROGRAM=/programs/psi.wasm     # uploaded and run by RUNNER
PROVIDERS="adco shop"   # each uploads the files make_inputs wrote to its folder
READERS="adco shop"     # result readers
RUNNER=vendor
NON_READER=vendor     # a party of the policy who must not be able to read the result
