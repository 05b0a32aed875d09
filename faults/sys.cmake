# Syscall-level storage faults (issue #6): the rule language (pure), the seccomp
# user-notification supervisor (libseccomp confined to sys_filter.c) and the LD_PRELOAD shim.
add_library(cd_sysmatch STATIC ${CMAKE_CURRENT_SOURCE_DIR}/sys_match.c
  ${CMAKE_CURRENT_SOURCE_DIR}/sys_kcall.c)
set_target_properties(cd_sysmatch PROPERTIES POSITION_INDEPENDENT_CODE ON)

add_library(cd_sysfaults STATIC
  ${CMAKE_CURRENT_SOURCE_DIR}/sys_rule.c
  ${CMAKE_CURRENT_SOURCE_DIR}/sys_filter.c
  ${CMAKE_CURRENT_SOURCE_DIR}/sys_supervisor.c
  ${CMAKE_CURRENT_SOURCE_DIR}/sys_shimctl.c)
target_link_libraries(cd_sysfaults PUBLIC cd_common cd_sysmatch PRIVATE PkgConfig::SECCOMP)

# The preload shim: only the wrapped symbols are exported; no sanitizer runtime (it is
# loaded into programs that were not built with one).
add_library(chaosdrill-shim SHARED ${CMAKE_CURRENT_SOURCE_DIR}/shim/shim.c
  ${CMAKE_CURRENT_SOURCE_DIR}/sys_match.c)
set_target_properties(chaosdrill-shim PROPERTIES C_VISIBILITY_PRESET hidden
  OUTPUT_NAME chaosdrill-shim)
target_link_libraries(chaosdrill-shim PRIVATE dl)
if(SANITIZE)
  target_compile_options(chaosdrill-shim PRIVATE -fno-sanitize=all)
  target_link_options(chaosdrill-shim PRIVATE -fno-sanitize=all)
endif()

# The `syscall` fault kind itself, in the fault registry.
target_sources(cd_faults PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/fault_syscall.c)
target_link_libraries(cd_faults PUBLIC cd_sysfaults)
