# Sourced by examples/common/test-example.sh and tests/examples-e2e/run-example.sh.
PARTIES="clinic-a clinic-b clinic-c"
RESULT=summary.json
PROGRAM_ARGS="--min-group 5"
TOL=1e-6
make_inputs() {
  i=0
  for p in $PARTIES; do i=$((i+1)); mkdir -p "$1/$p"; "$GEN" $i 60 5 > "$1/$p/answers.csv"; done
}
reference() { "$REF" 5 "$1"; }
# Roles in policy.template.json, for the end-to-end test (tests/examples-e2e):
PROGRAM=/programs/survey.wasm     # uploaded and run by RUNNER
PROVIDERS="clinic-a clinic-b clinic-c"   # each uploads the files make_inputs wrote to its folder
READERS="pollster"     # result readers
RUNNER=pollster
NON_READER=clinic-a     # a party of the policy who must not be able to read the result
FIXED_ARGS_DIFFERENT="--min-group 1"   # the policy fixes --min-group 5: a run asking for 1 is refused
# Bad inputs for the native/local tests: bad_input CASE DIR spoils DIR and prints the expected error.
BAD_CASES="empty-answer quote-label questions args"
BAD_ARGS="--min-group"
bad_input() {
  case $1 in
    empty-answer) echo "north,4,,2,5,1" >> "$2/clinic-b/answers.csv"; echo "clinic-b/answers.csv:62: answer 2 must be a number from 1 to 5" ;;
    quote-label) echo 'no"rth,4,3,2,5,1' >> "$2/clinic-a/answers.csv"; echo "clinic-a/answers.csv:62: the group label must be 1 to 31 plain characters" ;;
    questions) sed -i '1s/,q5$//; 2,$s/,[1-5]$//' "$2/clinic-c/answers.csv"; echo "clinic-c/answers.csv: the questions differ from the other parties'" ;;
    args) echo "--min-group takes a whole number from 1 to 9999999" ;;
  esac
}
