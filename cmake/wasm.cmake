# Building WebAssembly/WASI programs with Debian's clang + lld + wasi-libc.
#
#   sb_add_wasm_program(NAME SOURCES a.c b.c [CFLAGS ...] [LDFLAGS ...] [TARGET target-name])
#
# produces ${CMAKE_CURRENT_BINARY_DIR}/NAME.wasm and a custom target `wasm-NAME` (or TARGET, when
# several directories build a program of the same name).
# The wasm compiler is found once; if it is missing the configure step fails with a clear message,
# because the engine, WASI and example tests cannot run without it.
find_program(SB_WASM_CC NAMES clang clang-14 REQUIRED)
set(SB_WASM_CFLAGS --target=wasm32-wasi -O2 -Wall -Wextra CACHE STRING "Flags for wasm32-wasi programs")

function(sb_add_wasm_program name)
  cmake_parse_arguments(ARG "" "TARGET" "SOURCES;CFLAGS;LDFLAGS" ${ARGN})
  if(NOT ARG_TARGET)
    set(ARG_TARGET wasm-${name})
  endif()
  set(out ${CMAKE_CURRENT_BINARY_DIR}/${name}.wasm)
  set(srcs)
  foreach(s ${ARG_SOURCES})
    get_filename_component(abs ${s} ABSOLUTE)
    list(APPEND srcs ${abs})
  endforeach()
  add_custom_command(OUTPUT ${out}
    COMMAND ${SB_WASM_CC} ${SB_WASM_CFLAGS} ${ARG_CFLAGS} ${srcs} -o ${out} ${ARG_LDFLAGS}
    DEPENDS ${srcs}
    COMMENT "wasm32-wasi: ${name}.wasm"
    VERBATIM)
  add_custom_target(${ARG_TARGET} ALL DEPENDS ${out})
endfunction()
