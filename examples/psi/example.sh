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
