# The FUSE fault file system (bad sectors, bit rot, power loss): faults/faultfs/.
add_subdirectory(${CMAKE_CURRENT_SOURCE_DIR}/faultfs)
