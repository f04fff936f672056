PARTIES="bidder1 bidder2 bidder3 bidder4 bidder5"
RESULT=result.json
PROGRAM_ARGS=""
TOL=0
make_inputs() {
  for i in 1 2 3 4 5; do mkdir -p "$1/bidder$i"; "$GEN" $i > "$1/bidder$i/bid.txt"; done
}
reference() { "$REF" "$1"; }
