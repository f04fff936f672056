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
