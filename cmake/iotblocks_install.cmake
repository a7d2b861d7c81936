# Relocatable install tree: headers, libraries, CMake package and pkg-config files.
include(CMakePackageConfigHelpers)
set(IOTBLOCKS_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/iotblocks)

install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/iotblocks
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT development)
install(EXPORT iotblocks-targets NAMESPACE iotblocks::
        FILE iotblocksTargets.cmake DESTINATION ${IOTBLOCKS_CMAKE_DIR} COMPONENT development)

get_property(IOTBLOCKS_INSTALLED_COMPONENTS GLOBAL PROPERTY IOTBLOCKS_INSTALLED_COMPONENTS)
configure_package_config_file(cmake/iotblocksConfig.cmake.in
  ${PROJECT_BINARY_DIR}/iotblocksConfig.cmake INSTALL_DESTINATION ${IOTBLOCKS_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/iotblocksConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/iotblocksConfig.cmake
              ${PROJECT_BINARY_DIR}/iotblocksConfigVersion.cmake
        DESTINATION ${IOTBLOCKS_CMAKE_DIR} COMPONENT development)

# One pkg-config file per component plus iotblocks.pc for all of them; the
# prefix is found relative to the .pc file so the tree stays relocatable.
file(RELATIVE_PATH PC_PREFIX_REL /p/${CMAKE_INSTALL_LIBDIR}/pkgconfig /p)
set(IOTBLOCKS_PC_LIBS "")
foreach(component IN LISTS IOTBLOCKS_INSTALLED_COMPONENTS)
  string(PREPEND IOTBLOCKS_PC_LIBS "-liotblocks_${component} ")
  set(PC_NAME iotblocks-${component})
  set(PC_LIBS "-liotblocks_${component}")
  set(PC_REQUIRES "")
  if(component STREQUAL "sql")
    set(PC_REQUIRES "iotblocks-core = ${PROJECT_VERSION} iotblocks-topic = ${PROJECT_VERSION} simdjson openssl >= 3")
  elseif(component STREQUAL "postgres")
    set(PC_REQUIRES "iotblocks-core = ${PROJECT_VERSION} iotblocks-shadow = ${PROJECT_VERSION} libpq")
  elseif(NOT component STREQUAL "core")
    set(PC_REQUIRES "iotblocks-core = ${PROJECT_VERSION}")
  else()
    set(PC_REQUIRES "openssl >= 3 sqlite3 fmt")
  endif()
  configure_file(cmake/iotblocks.pc.in ${PROJECT_BINARY_DIR}/pkgconfig/${PC_NAME}.pc @ONLY)
endforeach()
set(PC_NAME iotblocks)
set(PC_LIBS "${IOTBLOCKS_PC_LIBS}")
set(PC_REQUIRES "openssl >= 3 sqlite3 fmt")
if("sql" IN_LIST IOTBLOCKS_INSTALLED_COMPONENTS)
  string(APPEND PC_REQUIRES " simdjson")  # the rule SQL reads payloads with it
endif()
if("postgres" IN_LIST IOTBLOCKS_INSTALLED_COMPONENTS)
  string(APPEND PC_REQUIRES " libpq")
endif()
configure_file(cmake/iotblocks.pc.in ${PROJECT_BINARY_DIR}/pkgconfig/iotblocks.pc @ONLY)
install(DIRECTORY ${PROJECT_BINARY_DIR}/pkgconfig/
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT development)
