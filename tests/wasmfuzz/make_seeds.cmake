# Converts spec-testsuite .wast files into a directory of .wasm seed inputs.
#   cmake -DWAST2JSON=... -DSRC=dir-of-wast -DOUT=seed-dir -DSTAMP=file -P make_seeds.cmake
# wast2json writes NAME.json and NAME.N.wasm/.wat per script; only the .wasm files are kept
# (valid modules, and the malformed/invalid ones the suite asserts on: both make good seeds).
file(GLOB wasts ${SRC}/*.wast)
file(REMOVE_RECURSE ${OUT})
file(MAKE_DIRECTORY ${OUT})
foreach(w ${wasts})
  get_filename_component(stem ${w} NAME_WE)
  execute_process(COMMAND ${WAST2JSON} ${w} -o ${OUT}/${stem}.json
                  RESULT_VARIABLE rc OUTPUT_QUIET ERROR_QUIET)
  if(NOT rc EQUAL 0)
    message(WARNING "wast2json failed on ${w}; its modules are not seeds")
  endif()
endforeach()
file(GLOB leftovers ${OUT}/*.json ${OUT}/*.wat)
if(leftovers)
  file(REMOVE ${leftovers})
endif()
file(GLOB seeds ${OUT}/*.wasm)
list(LENGTH seeds n)
message(STATUS "${n} seed modules in ${OUT}")
file(TOUCH ${STAMP})
