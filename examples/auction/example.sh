# Sourced by examples/common/test-example.sh and tests/examples-e2e/run-example.sh.
PARTIES="bidder1 bidder2 bidder3 bidder4 bidder5"
RESULT=result.json
PROGRAM_ARGS=""
TOL=0
make_inputs() {
  for i in 1 2 3 4 5; do mkdir -p "$1/bidder$i"; "$GEN" $i > "$1/bidder$i/bid.txt"; done
}
reference() { "$REF" "$1"; }
# Roles in policy.template.json, for the end-to-end test (tests/examples-e2e):
PROGRAM=/programs/auction.wasm     # uploaded and run by RUNNER
PROVIDERS="bidder1 bidder2 bidder3 bidder4 bidder5"   # each uploads the files make_inputs wrote to its folder
READERS="auctioneer"     # result readers
RUNNER=auctioneer
NON_READER=bidder1     # a party of the policy who must not be able to read the result
# Bad inputs for the native/local tests: bad_input CASE DIR spoils DIR and prints the expected error.
BAD_CASES="decimal negative no-bids"
bad_input() {
  case $1 in
    decimal) echo "1234.50" > "$2/bidder3/bid.txt"; echo "bidder3/bid.txt: expected one amount in cents" ;;
    negative) echo "-5" > "$2/bidder1/bid.txt"; echo "bidder1/bid.txt: expected one amount in cents" ;;
    no-bids) rm "$2"/*/bid.txt; echo "no bids" ;;
  esac
}
