# sb_wat_modules(TARGET WAT_DIR OUT_DIR): every WAT_DIR/*.wat compiled by wabt's wat2wasm into
# OUT_DIR/NAME.wasm at build time, by the custom target TARGET (built by default). Tests whose
# modules are written as text (tests/enginehostile, tests/wasmlimits) use it.
find_program(SB_WAT2WASM wat2wasm REQUIRED)
function(sb_wat_modules target wat_dir out_dir)
  file(GLOB wat_sources ${wat_dir}/*.wat)
  set(outputs)
  foreach(wat ${wat_sources})
    get_filename_component(stem ${wat} NAME_WE)
    set(out ${out_dir}/${stem}.wasm)
    add_custom_command(OUTPUT ${out}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${out_dir}
      COMMAND ${SB_WAT2WASM} ${wat} -o ${out}
      DEPENDS ${wat}
      COMMENT "wat2wasm ${stem}.wat"
      VERBATIM)
    list(APPEND outputs ${out})
  endforeach()
  add_custom_target(${target} ALL DEPENDS ${outputs})
endfunction()
