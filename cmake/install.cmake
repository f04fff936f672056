# What `cmake --install` adds besides the components' own install() rules: man pages and the
# systemd units of both daemons. The units name the installed binaries, so they are filled in at
# install time with the prefix actually used (--prefix, and DESTDIR left out of the paths).
set(SB_MAN ${CMAKE_SOURCE_DIR}/man)
install(FILES ${SB_MAN}/strongbox.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 COMPONENT client)
install(FILES ${SB_MAN}/strongbox-policy.5 DESTINATION ${CMAKE_INSTALL_MANDIR}/man5 COMPONENT client)
install(FILES ${SB_MAN}/strongbox-host.8 DESTINATION ${CMAKE_INSTALL_MANDIR}/man8 COMPONENT host)
install(FILES ${SB_MAN}/strongbox-attestd.8 DESTINATION ${CMAKE_INSTALL_MANDIR}/man8 COMPONENT attestd)
# Relative to the prefix by default; Debian packages pass /lib/systemd/system.
set(SB_SYSTEMD_UNIT_DIR lib/systemd/system CACHE STRING "Where the systemd units are installed")
foreach(unit host attestd)
  set(in ${CMAKE_SOURCE_DIR}/dist/systemd/strongbox-${unit}.service.in)
  set(out ${CMAKE_BINARY_DIR}/dist/strongbox-${unit}.service)
  install(CODE "
    set(SB_BINDIR \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}\")
    set(SB_LIBEXECDIR \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBEXECDIR}\")
    configure_file(\"${in}\" \"${out}\" @ONLY)" COMPONENT ${unit})
  install(FILES ${out} DESTINATION ${SB_SYSTEMD_UNIT_DIR} COMPONENT ${unit})
endforeach()
