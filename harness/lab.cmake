# The lab: network namespace, bridge, node namespaces, cgroups, process spawning (lab.h).
# Included from harness/CMakeLists.txt. libnl-route is confined to netlink.c.
add_library(cd_lab STATIC
  ${CMAKE_CURRENT_LIST_DIR}/lab.c
  ${CMAKE_CURRENT_LIST_DIR}/lab_node.c
  ${CMAKE_CURRENT_LIST_DIR}/lab_holder.c
  ${CMAKE_CURRENT_LIST_DIR}/lab_proc.c
  ${CMAKE_CURRENT_LIST_DIR}/lab_exec.c
  ${CMAKE_CURRENT_LIST_DIR}/lab_gc.c
  ${CMAKE_CURRENT_LIST_DIR}/lab_ns.c
  ${CMAKE_CURRENT_LIST_DIR}/netlink.c
  ${CMAKE_CURRENT_LIST_DIR}/nl_batch.c
  ${CMAKE_CURRENT_LIST_DIR}/cgroup.c)
target_link_libraries(cd_lab PUBLIC cd_common PRIVATE PkgConfig::NL3 PkgConfig::NLROUTE)
