# Network faults: partition/isolate (drop map as routes over libnl-route, net_nl.c) and
# loss (nftables numgen through libnftnl, net_nft.c). Included by faults/CMakeLists.txt.
target_sources(cd_faults PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/net_map.c
  ${CMAKE_CURRENT_LIST_DIR}/net_nl.c
  ${CMAKE_CURRENT_LIST_DIR}/net_partition.c
  ${CMAKE_CURRENT_LIST_DIR}/net_nft.c
  ${CMAKE_CURRENT_LIST_DIR}/net_loss.c)
target_link_libraries(cd_faults PUBLIC PkgConfig::NLROUTE PkgConfig::NL3 PkgConfig::NFTNL m)
# delay/duplicate/reorder: an NFQUEUE rule (built in net_nft.c, the libnftnl file) feeding a delay
# queue that the harness runs (net_delay.c over nfnetlink_queue messages, net_nfq.c).
target_sources(cd_faults PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/net_nfq.c
  ${CMAKE_CURRENT_LIST_DIR}/net_delay.c
  ${CMAKE_CURRENT_LIST_DIR}/net_delay_fault.c)
