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
# Bad inputs for the native/local tests: bad_input CASE DIR spoils DIR and prints the expected error.
BAD_CASES="negative-spend long-id no-shop"
bad_input() {
  case $1 in
    negative-spend) echo "user7,-500" >> "$2/shop/purchases.csv"; echo "shop/purchases.csv:3002: expected user_id,spend_cents" ;;
    long-id) printf 'u%070d\n' 1 >> "$2/adco/viewers.csv"; echo "adco/viewers.csv:5002: user ids are 1 to 63 bytes" ;;
    no-shop) rm "$2/shop/purchases.csv"; echo "need viewers.csv from an advertiser and purchases.csv from a shop" ;;
  esac
}
