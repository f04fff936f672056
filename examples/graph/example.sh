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
