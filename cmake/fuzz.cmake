# libFuzzer targets (opt-in): configure with
#   CC=clang cmake -S . -B build/fuzz -DSB_FUZZ=ON
# then `cmake --build build/fuzz --target fuzz` runs every fuzzer for FUZZ_SECONDS (default 60)
# each, or `--target fuzz-NAME` runs one. Corpora live in build/fuzz/fuzz-corpus/NAME; seed files
# given with SEEDS are copied in first. Crashes stop the run with libFuzzer's report.
#
#   sb_add_fuzzer(NAME SOURCES f.c LIBS sb_x [SEEDS dir-or-files...])
set(FUZZ_SECONDS 60 CACHE STRING "Seconds each fuzzer runs under the fuzz targets")
if(SB_FUZZ AND NOT TARGET fuzz)
  add_custom_target(fuzz)
endif()

function(sb_add_fuzzer name)
  if(NOT SB_FUZZ)
    return()
  endif()
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS;SEEDS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS})
  target_link_options(${name} PRIVATE -fsanitize=fuzzer)
  set(corpus ${CMAKE_BINARY_DIR}/fuzz-corpus/${name})
  set(seed_cmds)
  foreach(s ${ARG_SEEDS})
    list(APPEND seed_cmds COMMAND sh -c "cp -r ${s}/. ${corpus}/ 2>/dev/null || cp ${s} ${corpus}/ 2>/dev/null || true")
  endforeach()
  add_custom_target(fuzz-${name}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${corpus}
    ${seed_cmds}
    COMMAND $<TARGET_FILE:${name}> -max_total_time=${FUZZ_SECONDS} -rss_limit_mb=4096 -timeout=20
            -print_final_stats=1 ${corpus}
    DEPENDS ${name} USES_TERMINAL)
  add_dependencies(fuzz fuzz-${name})
endfunction()
