PARTIES="clinic-a clinic-b clinic-c"
RESULT=summary.json
PROGRAM_ARGS="--min-group 5"
TOL=1e-6
make_inputs() {
  i=0
  for p in $PARTIES; do i=$((i+1)); mkdir -p "$1/$p"; "$GEN" $i 60 5 > "$1/$p/answers.csv"; done
}
reference() { "$REF" 5 "$1"; }
