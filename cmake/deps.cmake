# External libraries through pkg-config. A missing one stops configuration and names the
# Debian package that provides it (scripts/install-deps.sh installs them all).
find_package(PkgConfig)
if(NOT PKG_CONFIG_FOUND)
  message(FATAL_ERROR "pkg-config not found: install the Debian package 'pkgconf' (or run scripts/install-deps.sh)")
endif()

function(chaosdrill_require prefix module debpkg)
  pkg_check_modules(${prefix} QUIET IMPORTED_TARGET ${module})
  if(NOT ${prefix}_FOUND)
    message(FATAL_ERROR "Missing library '${module}': install the Debian package '${debpkg}' (apt-get install ${debpkg}), or run scripts/install-deps.sh")
  endif()
  message(STATUS "Found ${module} ${${prefix}_VERSION}")
endfunction()

chaosdrill_require(YAML    yaml-0.1        libyaml-dev)
chaosdrill_require(NL3     libnl-3.0       libnl-3-dev)
chaosdrill_require(NLROUTE libnl-route-3.0 libnl-route-3-dev)
chaosdrill_require(SECCOMP libseccomp      libseccomp-dev)
chaosdrill_require(URING   liburing        liburing-dev)
chaosdrill_require(CMOCKA  cmocka          libcmocka-dev)
chaosdrill_require(FUSE3   fuse3           libfuse3-dev)
# libnftnl.pc names libmnl in Requires.private, and Debian's libnftnl-dev does not pull it in
chaosdrill_require(MNL     libmnl          libmnl-dev)
chaosdrill_require(NFTNL   libnftnl        libnftnl-dev)
# The SQLite target's node and checker (targets/sqlite)
chaosdrill_require(SQLITE3 sqlite3         libsqlite3-dev)
# The PostgreSQL target's workload adapter (targets/postgres)
chaosdrill_require(PQ      libpq           libpq-dev)
# hiredis's reply reader: the Redis driver's unit test checks the driver's parser against it
chaosdrill_require(HIREDIS hiredis         libhiredis-dev)

find_program(XMLLINT xmllint)
if(NOT XMLLINT)
  message(FATAL_ERROR "xmllint not found: install the Debian package 'libxml2-utils'")
endif()
