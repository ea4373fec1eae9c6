# `make install` and `make deb`: what goes where, and the Debian package around it.
#
#   <bindir>/fdb-server, fdb-check
#   <sysconfdir>/fdb/fdb.conf            every parameter with its meaning and default (generated)
#   <unitdir>/fdb.service                the hardened systemd unit (packaging/fdb.service)
#   <sysconfdir>/logrotate.d/fdb         packaging/fdb.logrotate
#   <docdir>/README.md, operations.md
#
# The directories follow GNUInstallDirs, which puts the configuration in /etc (not /usr/etc)
# when the prefix is /usr, as the FHS asks: the prefix is chosen when configuring (the Makefile's
# `install` passes PREFIX, `deb` passes /usr), because the unit names the binary and the config
# file by their installed paths. The alternative rejected: choosing the paths at install time
# (cmake --install --prefix), which would need the unit written by an install script.
include(GNUInstallDirs)

# The unit directory of Debian 12 for a /usr prefix (/lib, not yet /usr/lib), else the prefix's
# own, which systemd also reads for /usr/local.
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  set(FDB_UNITDIR /lib/systemd/system)
else()
  set(FDB_UNITDIR ${CMAKE_INSTALL_PREFIX}/lib/systemd/system)
endif()
set(FDB_CONF ${CMAKE_INSTALL_FULL_SYSCONFDIR}/fdb/fdb.conf)
set(FDB_PACKAGING_OUT ${PROJECT_BINARY_DIR}/packaging)
file(MAKE_DIRECTORY ${FDB_PACKAGING_OUT})

# The unit as written in packaging/fdb.service names the Debian paths; another prefix gets its
# own paths substituted.
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
             ${PROJECT_SOURCE_DIR}/packaging/fdb.service)
file(READ ${PROJECT_SOURCE_DIR}/packaging/fdb.service fdb_unit)
string(REPLACE "/usr/bin/fdb-server" "${CMAKE_INSTALL_FULL_BINDIR}/fdb-server" fdb_unit
               "${fdb_unit}")
string(REPLACE "/etc/fdb/fdb.conf" "${FDB_CONF}" fdb_unit "${fdb_unit}")
string(REPLACE "/usr/share/doc/fdb/" "${CMAKE_INSTALL_FULL_DOCDIR}/" fdb_unit "${fdb_unit}")
file(CONFIGURE OUTPUT ${FDB_PACKAGING_OUT}/fdb.service CONTENT "${fdb_unit}" @ONLY)

# fdb.conf is written by the server itself from its parameter table (`--print-config`), with the
# packaged values set: the file cannot miss a parameter or disagree with --help. The values live
# in packaging/fdb-conf.cmake, which also regenerates the copy kept in the repository for
# readers (`make conf`; tests/test_package.py checks that copy is current).
add_custom_command(
  OUTPUT ${FDB_PACKAGING_OUT}/fdb.conf
  COMMAND ${CMAKE_COMMAND} -DFDB_SERVER=$<TARGET_FILE:fdb-server>
          -DOUT=${FDB_PACKAGING_OUT}/fdb.conf -P ${PROJECT_SOURCE_DIR}/packaging/fdb-conf.cmake
  DEPENDS fdb-server ${PROJECT_SOURCE_DIR}/packaging/fdb-conf.cmake
  COMMENT "Generating fdb.conf from fdb-server's parameter table"
  VERBATIM)
add_custom_target(fdb_conf ALL DEPENDS ${FDB_PACKAGING_OUT}/fdb.conf)

install(TARGETS fdb-server RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
if(TARGET fdb-check)
  install(TARGETS fdb-check RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()
# 0640: the file may hold requirepass and ACL users' passwords. The maintainer script gives it
# to the fdb user (CONFIG REWRITE writes it back).
install(FILES ${FDB_PACKAGING_OUT}/fdb.conf DESTINATION ${CMAKE_INSTALL_FULL_SYSCONFDIR}/fdb
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ)
install(FILES ${FDB_PACKAGING_OUT}/fdb.service DESTINATION ${FDB_UNITDIR})
install(FILES ${PROJECT_SOURCE_DIR}/packaging/fdb.logrotate
        DESTINATION ${CMAKE_INSTALL_FULL_SYSCONFDIR}/logrotate.d RENAME fdb)
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${PROJECT_SOURCE_DIR}/docs/operations.md
        DESTINATION ${CMAKE_INSTALL_DOCDIR})

# The Debian package (`make deb`: cpack -G DEB in the build directory).
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME fdb)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "FDB maintainers <fdb@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "durable key-value server with Redis's protocol and commands")
set(CPACK_PACKAGE_DESCRIPTION
    "FDB serves Redis's protocol (RESP2/RESP3) and commands from a durable, checksummed log: \
every change is fsynced by group commit, values may exceed RAM (a bounded cache evicts them to \
disk), and restarts read a checkpoint. The package runs it as the fdb.service systemd unit, \
as the fdb user, with its data in /var/lib/fdb.")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
# The binaries without their debugging information: fdb-server is 2.4 MB instead of 54.
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_PACKAGE_SECTION database)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# The shared libraries' packages, found by dpkg-shlibdeps (dpkg-dev); adduser for the
# maintainer scripts.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "logrotate")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "redis-tools")
# Configuration files dpkg keeps when the administrator changed them; the maintainer scripts
# make the fdb user and its directories, and enable and start the unit under systemd.
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/packaging/debian/conffiles
    ${PROJECT_SOURCE_DIR}/packaging/debian/postinst
    ${PROJECT_SOURCE_DIR}/packaging/debian/prerm
    ${PROJECT_SOURCE_DIR}/packaging/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
