# Self-test of strongbox-spectest: it must pass a correct script, count every deliberately wrong
# assertion as a failure, and reject bad scripts and bad arguments with clear errors.
#   cmake -DDRIVER=... -DSRC=tests/spectest -DWORK=dir -P run_selftest.cmake
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})
set(errors 0)

function(expect name want_rc)
  # ARGN: regular expressions the combined output must match.
  execute_process(COMMAND ${DRIVER} ${CMD} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  set(all "${out}${err}")
  if(NOT rc STREQUAL "${want_rc}")
    message(SEND_ERROR "${name}: exit status ${rc}, expected ${want_rc}\n${all}")
  endif()
  foreach(re ${ARGN})
    if(NOT all MATCHES "${re}")
      message(SEND_ERROR "${name}: output lacks /${re}/\n${all}")
    endif()
  endforeach()
  message(STATUS "${name}: done")
endfunction()

set(CMD --work-dir ${WORK}/pass ${SRC}/selftest_pass.wast)
expect(pass 0 "selftest_pass.wast: 23 passed, 0 failed, 1 skipped\\(text\\)" "\n23 passed, 0 failed, 1 skipped\n")

set(CMD --work-dir ${WORK}/fail ${SRC}/selftest_fail.wast)
expect(fail 1 "selftest_fail.wast: 1 passed, 13 failed"
  "selftest_fail.wast:11: assert_return: add\\(i32:1 i32:1\\): expected \\[i32:3\\], got \\[i32:2\\]"
  "selftest_fail.wast:12: assert_return: two\\(\\): expected \\[i32:1 i32:3\\], got \\[i32:1 i32:2\\]"
  "selftest_fail.wast:13: assert_return: one_f32\\(\\): expected \\[f32:nan:arithmetic\\]"
  "selftest_fail.wast:14: assert_return: arith_f32\\(\\): expected \\[f32:nan:canonical\\], got .f32:2145386497"
  "selftest_fail.wast:15: .*expected \\[externref:2\\], got \\[externref:1\\]"
  "selftest_fail.wast:16: .*expected \\[externref:null\\], got \\[externref:0\\]"
  "selftest_fail.wast:17: assert_trap: ok\\(\\): expected trap \"unreachable\", got \\[i32:1\\]"
  "selftest_fail.wast:18: assert_trap: trap\\(\\): expected trap \"integer divide by zero\", got trap \"unreachable\""
  "selftest_fail.wast:19: assert_exhaustion: "
  "selftest_fail.wast:20: assert_invalid: module loaded"
  "selftest_fail.wast:21: assert_malformed: module loaded"
  "selftest_fail.wast:22: assert_unlinkable: instantiated"
  "selftest_fail.wast:23: assert_uninstantiable: instantiated"
  "\n1 passed, 13 failed\n")

# Hand-written script (wast2json would refuse to write these mistakes) beside the module above.
file(COPY ${SRC}/bad_script.json ${SRC}/not_json.json DESTINATION ${WORK}/fail)
set(CMD ${WORK}/fail/bad_script.json)
expect(bad_script 1 "bad_script.json: 1 passed, 10 failed, 1 skipped\\(text\\)"
  ":2: assert_return: two\\(\\): expected \\[i32:1\\], got \\[i32:1 i32:2\\]"
  ":3: assert_return: one_f32\\(\\): expected \\[i32:1065353216\\], got .f32:1065353216"
  ":4: assert_return: no exported function \"missing\""
  ":5: assert_return: i32 argument \"abc\" is not an unsigned 32-bit number"
  ":6: assert_return: i32 argument \"4294967296\" is not an unsigned 32-bit number"
  ":7: assert_return: no module instance to act on"
  ":8: assert_return: v128 value needs a lane_type and the right number of lanes"
  ":9: assert_frobnicate: unknown command type"
  ":10: module: load failed: driver error: command has no usable \"filename\""
  ":11: module: load failed: driver error: .*does_not_exist.wasm")

set(CMD ${WORK}/fail/not_json.json)
expect(not_json 2 "not_json.json: cannot read command script")
set(CMD ${WORK}/no_such_file.wast)
expect(missing_wast 2 "no_such_file.wast: cannot read .*no_such_file.wast: No such file")
set(CMD ${SRC}/run_selftest.cmake)
expect(wrong_suffix 2 "expected a .wast or .json file")
set(CMD --max-reports x ${SRC}/selftest_pass.wast)
expect(bad_option 2 "--max-reports: expected a number")
set(CMD)
expect(no_args 2 "usage:")
