# Relocatable install tree: headers, libraries, CMake package and pkg-config files.
# Each component has its own exported targets, a file naming what it needs
# (iotblocks-<component>-dependencies.cmake) and a .pc file, so a program that
# asks for one component needs only that component's dependencies installed.
include(CMakePackageConfigHelpers)
set(IOTBLOCKS_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/iotblocks)

install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/iotblocks
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT development)

get_property(IOTBLOCKS_INSTALLED_COMPONENTS GLOBAL PROPERTY IOTBLOCKS_INSTALLED_COMPONENTS)
configure_package_config_file(cmake/iotblocksConfig.cmake.in
  ${PROJECT_BINARY_DIR}/iotblocksConfig.cmake INSTALL_DESTINATION ${IOTBLOCKS_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/iotblocksConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/iotblocksConfig.cmake
              ${PROJECT_BINARY_DIR}/iotblocksConfigVersion.cmake
        DESTINATION ${IOTBLOCKS_CMAKE_DIR} COMPONENT development)

# CMake package name and pkg-config module of each imported target a component
# may link (Boost has no .pc file; its headers are in the default search path).
set(_package_Threads::Threads Threads)
set(_package_OpenSSL::SSL OpenSSL)
set(_package_OpenSSL::Crypto OpenSSL)
set(_package_SQLite::SQLite3 SQLite3)
set(_package_fmt::fmt fmt)
set(_package_simdjson::simdjson simdjson)
set(_package_Boost::headers Boost)
set(_package_PostgreSQL::PostgreSQL PostgreSQL)
set(_pc_OpenSSL::SSL libssl)
set(_pc_OpenSSL::Crypto libcrypto)
set(_pc_SQLite::SQLite3 sqlite3)
set(_pc_fmt::fmt fmt)
set(_pc_simdjson::simdjson simdjson)
set(_pc_PostgreSQL::PostgreSQL libpq)

# The prefix is found relative to the .pc file so the tree stays relocatable.
file(RELATIVE_PATH PC_PREFIX_REL /p/${CMAKE_INSTALL_LIBDIR}/pkgconfig /p)
set(all_requires "")
foreach(component IN LISTS IOTBLOCKS_INSTALLED_COMPONENTS)
  install(EXPORT iotblocks-${component}-targets NAMESPACE iotblocks::
          FILE iotblocks-${component}-targets.cmake DESTINATION ${IOTBLOCKS_CMAKE_DIR}
          COMPONENT development)
  get_property(components GLOBAL PROPERTY IOTBLOCKS_${component}_COMPONENTS)
  get_property(targets GLOBAL PROPERTY IOTBLOCKS_${component}_PACKAGES)
  set(packages "")
  set(PC_REQUIRES "")
  set(PC_LIBS "-liotblocks_${component}")
  foreach(dep IN LISTS components)
    list(APPEND PC_REQUIRES "iotblocks-${dep} = ${PROJECT_VERSION}")
  endforeach()
  foreach(target IN LISTS targets)
    list(APPEND packages ${_package_${target}})
    if(DEFINED _pc_${target})
      list(APPEND PC_REQUIRES ${_pc_${target}})
    endif()
    if(target STREQUAL "Threads::Threads")
      string(APPEND PC_LIBS " -pthread")
    endif()
  endforeach()
  list(REMOVE_DUPLICATES packages)
  file(WRITE ${PROJECT_BINARY_DIR}/iotblocks-${component}-dependencies.cmake
       "# What iotblocks::${component} links (generated): components and CMake packages.\n"
       "set(iotblocks_${component}_components ${components})\n"
       "set(iotblocks_${component}_packages ${packages})\n")
  install(FILES ${PROJECT_BINARY_DIR}/iotblocks-${component}-dependencies.cmake
          DESTINATION ${IOTBLOCKS_CMAKE_DIR} COMPONENT development)

  set(PC_NAME iotblocks-${component})
  list(JOIN PC_REQUIRES ", " PC_REQUIRES)
  set(PC_CFLAGS "")
  get_target_property(definitions iotblocks_${component} INTERFACE_COMPILE_DEFINITIONS)
  foreach(definition IN LISTS definitions)
    if(definition AND NOT definition MATCHES "\\$<")
      string(APPEND PC_CFLAGS " -D${definition}")
    endif()
  endforeach()
  configure_file(cmake/iotblocks.pc.in ${PROJECT_BINARY_DIR}/pkgconfig/${PC_NAME}.pc @ONLY)
  list(APPEND all_requires "iotblocks-${component} = ${PROJECT_VERSION}")
endforeach()
# iotblocks.pc: every component.
set(PC_NAME iotblocks)
set(PC_LIBS "")
set(PC_CFLAGS "")
list(JOIN all_requires ", " PC_REQUIRES)
configure_file(cmake/iotblocks.pc.in ${PROJECT_BINARY_DIR}/pkgconfig/iotblocks.pc @ONLY)
install(DIRECTORY ${PROJECT_BINARY_DIR}/pkgconfig/
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT development)
