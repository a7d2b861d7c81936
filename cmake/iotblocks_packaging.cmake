# CPack: Debian packages split as Debian does (docs/firmware.md, "Debian packages"),
# one per install component:
#   libiotblocks<soversion>  the shared libraries (`libraries`; BUILD_SHARED_LIBS only),
#                            with a shlibs file; package name from the SONAME version
#   libiotblocks-dev         headers, the static libraries or the .so links, CMake
#                            and pkg-config files (`development`); depends on the
#                            library package at the exact version
#   iotblocks                the CLI and iotblocks-bench (`runtime`); dependencies
#                            found by dpkg-shlibdeps
set(CPACK_PACKAGE_NAME iotblocks)
set(CPACK_PACKAGE_VENDOR "iotblocks authors")
set(CPACK_PACKAGE_CONTACT "iotblocks authors <iotblocks@example.invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_RESOURCE_FILE_LICENSE ${PROJECT_SOURCE_DIR}/LICENSE)
set(CPACK_GENERATOR DEB)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME iotblocks)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SECTION net)
set(CPACK_DEBIAN_DEVELOPMENT_PACKAGE_NAME libiotblocks-dev)
set(CPACK_DEBIAN_DEVELOPMENT_PACKAGE_SECTION libdevel)

# The -dev package needs the -dev packages of what a consumer's build finds: the
# CMake packages of the components' link interfaces (their private ones too for
# static libraries), as iotblocks_install writes them into the config files.
set(_deb_dev_Threads::Threads "")
set(_deb_dev_OpenSSL::SSL libssl-dev)
set(_deb_dev_OpenSSL::Crypto libssl-dev)
set(_deb_dev_SQLite::SQLite3 libsqlite3-dev)
set(_deb_dev_fmt::fmt libfmt-dev)
set(_deb_dev_simdjson::simdjson libsimdjson-dev)
set(_deb_dev_Boost::headers libboost1.81-dev)
set(_deb_dev_PostgreSQL::PostgreSQL libpq-dev)
set(dev_depends "")
foreach(component IN LISTS IOTBLOCKS_INSTALLED_COMPONENTS)
  get_property(targets GLOBAL PROPERTY IOTBLOCKS_${component}_PACKAGES)
  foreach(target IN LISTS targets)
    if(_deb_dev_${target})
      list(APPEND dev_depends ${_deb_dev_${target}})
    endif()
  endforeach()
endforeach()
list(REMOVE_DUPLICATES dev_depends)
list(SORT dev_depends)

if(BUILD_SHARED_LIBS)
  set(CPACK_COMPONENTS_ALL libraries development runtime)
  set(IOTBLOCKS_LIBRARY_PACKAGE libiotblocks${IOTBLOCKS_SOVERSION})
  set(CPACK_DEBIAN_LIBRARIES_PACKAGE_NAME ${IOTBLOCKS_LIBRARY_PACKAGE})
  set(CPACK_DEBIAN_LIBRARIES_PACKAGE_SECTION libs)
  # DEBIAN/shlibs: a program linked against 0.1.0 depends on exactly this version
  # (before 1.0 every release may change the ABI).
  set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
  set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS_POLICY "=")
  list(PREPEND dev_depends "${IOTBLOCKS_LIBRARY_PACKAGE} (= ${PROJECT_VERSION})")
  # The CLI links the shared libraries: dpkg-shlibdeps finds them in the build tree.
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS "")
  foreach(component IN LISTS IOTBLOCKS_INSTALLED_COMPONENTS)
    list(APPEND CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS ${PROJECT_BINARY_DIR}/lib/${component})
  endforeach()
  set(CPACK_DEBIAN_RUNTIME_PACKAGE_DEPENDS "${IOTBLOCKS_LIBRARY_PACKAGE} (= ${PROJECT_VERSION})")
else()
  set(CPACK_COMPONENTS_ALL development runtime)
endif()
list(JOIN dev_depends ", " CPACK_DEBIAN_DEVELOPMENT_PACKAGE_DEPENDS)
include(CPack)
