# cmake/tcb.cmake - how the trusted runtime is linked, and the targets that audit it (docs/tcb.md).
#
# SB_STATIC_RUNTIME (default ON): strongbox-runtime is linked as a static PIE, so its measurement
# (SHA-256 of the binary) covers every library it runs: OpenSSL, jansson, libseccomp, libm, libc.
# Nothing is loaded at run time. Sanitizer and fuzzer builds link dynamically (ASan/UBSan runtimes
# cannot be linked statically); those runtimes are for tests only and are never measured.
#
# The imported pkg-config targets keep their shared libraries for every other binary: their link
# interface chooses the static archives only for a target whose SB_STATIC_LINK property is set.
option(SB_STATIC_RUNTIME "Link strongbox-runtime statically (static-pie): the measurement covers every library" ON)
if(SB_STATIC_RUNTIME AND (SB_SANITIZE OR SB_FUZZ))
  message(STATUS "tcb: sanitizer/fuzzer build: strongbox-runtime is linked dynamically (not a measured build)")
  set(SB_STATIC_RUNTIME OFF)
endif()

# Rewrites an imported pkg-config target so that SB_STATIC_LINK consumers get libX.a, others libX.so.
function(_sb_tcb_static_choice target)
  get_target_property(shared ${target} INTERFACE_LINK_LIBRARIES)
  set(static "")
  foreach(lib IN LISTS shared)
    string(REGEX REPLACE "\\.so$" ".a" archive "${lib}")
    if(NOT archive MATCHES "\\.a$" OR NOT EXISTS "${archive}")
      message(FATAL_ERROR "tcb: no static archive for ${lib} (${target}); configure with -DSB_STATIC_RUNTIME=OFF")
    endif()
    list(APPEND static "${archive}")
  endforeach()
  string(REPLACE ";" "$<SEMICOLON>" shared_s "${shared}")
  string(REPLACE ";" "$<SEMICOLON>" static_s "${static}")
  set_property(TARGET ${target} PROPERTY INTERFACE_LINK_LIBRARIES
               "$<IF:$<BOOL:$<TARGET_PROPERTY:SB_STATIC_LINK>>,${static_s},${shared_s}>")
endfunction()

if(SB_STATIC_RUNTIME)
  foreach(t PkgConfig::OPENSSL PkgConfig::JANSSON PkgConfig::SECCOMP)
    _sb_tcb_static_choice(${t})
  endforeach()
endif()

# Called once by src/runtime/CMakeLists.txt: static link (when on) and a link map, from which
# scripts/tcb-report.sh derives exactly which objects and archive members the runtime contains.
function(sb_tcb_runtime target)
  if(SB_STATIC_RUNTIME)
    set_property(TARGET ${target} PROPERTY SB_STATIC_LINK ON)
    target_link_options(${target} PRIVATE -static-pie)
  endif()
  target_link_options(${target} PRIVATE "-Wl,-Map=$<TARGET_FILE:${target}>.map")
endfunction()

# compile_commands.json: the static analysis test (tests/tcb/static.sh) runs on the exact flags.
set(CMAKE_EXPORT_COMPILE_COMMANDS ON)

# Opt-in: Frama-C proofs of absence of runtime errors (tests/frama, docs/tcb.md).
find_program(SB_FRAMA_C frama-c)
if(SB_FRAMA_C)
  add_custom_target(frama
    COMMAND ${CMAKE_SOURCE_DIR}/tests/frama/run.sh ${CMAKE_SOURCE_DIR} ${CMAKE_BINARY_DIR}/frama
    WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}
    COMMENT "Frama-C EVA on the VFS rights check and the wasm reader's bounds arithmetic"
    USES_TERMINAL)
else()
  add_custom_target(frama COMMAND ${CMAKE_COMMAND} -E echo "frama: frama-c not installed (apt-get install frama-c-base)")
endif()
