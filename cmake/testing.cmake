# Helpers for declaring tests. A test that needs something the machine lacks exits 77
# and CTest reports it as skipped (never as passed).
#
# chaosdrill_unit_test(NAME SOURCES a.c b.c LIBS lib1 lib2)
#   cmocka executable, label "unit".
# chaosdrill_integration_test(NAME COMMAND argv... [LABELS l...] [TIMEOUT s])
#   label "integration"; runs as root in throwaway namespaces.
function(chaosdrill_unit_test name)
  cmake_parse_arguments(T "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_LIBS} PkgConfig::CMOCKA cd_common)
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES LABELS unit SKIP_RETURN_CODE 77 TIMEOUT 120
    WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR})
endfunction()

function(chaosdrill_integration_test name)
  cmake_parse_arguments(T "" "TIMEOUT" "COMMAND;LABELS" ${ARGN})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  add_test(NAME ${name} COMMAND ${T_COMMAND})
  set_tests_properties(${name} PROPERTIES LABELS "integration;${T_LABELS}" SKIP_RETURN_CODE 77
    TIMEOUT ${T_TIMEOUT} WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}
    ENVIRONMENT "CHAOSDRILL_BUILD=${CMAKE_BINARY_DIR};CHAOSDRILL_SRC=${CMAKE_SOURCE_DIR};CHAOSDRILL_SHARED=${CHAOSDRILL_SHARED_DIR}")
endfunction()
