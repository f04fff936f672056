# The worked examples (examples/<name>/): each has program.c (the computation, built for
# wasm32-wasi and natively), gen.c (data generator), reference.c (independent native reference,
# tests only) and example.sh (how the tests make inputs and check the result).
#
#   sb_add_example(NAME)
function(sb_add_example name)
  set(dir ${CMAKE_CURRENT_SOURCE_DIR})
  # Built with -msimd128 like the numeric programs parties bring: the examples run SIMD code in the
  # isolate (clang vectorises only where the result is unchanged: no -ffast-math).
  sb_add_wasm_program(program SOURCES ${dir}/program.c CFLAGS -msimd128 LDFLAGS -lm
                      TARGET example-${name}-wasm)
  # The module also depends on the header every program includes.
  add_custom_command(OUTPUT ${CMAKE_CURRENT_BINARY_DIR}/program.wasm APPEND
                     DEPENDS ${CMAKE_SOURCE_DIR}/examples/common/exio.h)
  add_executable(example-${name}-program program.c)
  set_target_properties(example-${name}-program PROPERTIES OUTPUT_NAME program-native)
  add_executable(example-${name}-gen gen.c)
  set_target_properties(example-${name}-gen PROPERTIES OUTPUT_NAME gen)
  add_executable(example-${name}-reference reference.c)
  set_target_properties(example-${name}-reference PROPERTIES OUTPUT_NAME reference)
  foreach(t program gen reference)
    target_link_libraries(example-${name}-${t} PRIVATE m)
    # Example code is written for clarity over the project's stricter prototype rules.
    target_compile_options(example-${name}-${t} PRIVATE -Wno-missing-prototypes)
  endforeach()
  # `cmake --build BUILD --target examples`: every example's programs and the CLI that runs them
  # (what the examples' README walkthroughs use).
  if(NOT TARGET examples)
    add_custom_target(examples)
  endif()
  add_dependencies(examples example-${name}-wasm example-${name}-gen example-${name}-program strongbox)
  set(runner ${CMAKE_SOURCE_DIR}/examples/common/test-example.sh)
  add_test(NAME example.${name}.native
           COMMAND ${runner} native ${dir} ${CMAKE_CURRENT_BINARY_DIR})
  set_tests_properties(example.${name}.native PROPERTIES LABELS examples)
  if(EXISTS ${CMAKE_SOURCE_DIR}/src/cli/cmd_run.c)
    add_test(NAME example.${name}.local
             COMMAND ${runner} local ${dir} ${CMAKE_CURRENT_BINARY_DIR} $<TARGET_FILE:strongbox>)
    set_tests_properties(example.${name}.local PROPERTIES LABELS examples)
  endif()
endfunction()
