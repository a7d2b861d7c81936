# CPack: two Debian packages, `iotblocks` (the CLI and shared objects, runtime
# dependencies only, found by dpkg-shlibdeps) and `iotblocks-dev` (headers,
# static libraries, CMake and pkg-config files).
set(CPACK_PACKAGE_NAME iotblocks)
set(CPACK_PACKAGE_VENDOR "iotblocks authors")
set(CPACK_PACKAGE_CONTACT "iotblocks authors <iotblocks@example.invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_RESOURCE_FILE_LICENSE ${PROJECT_SOURCE_DIR}/LICENSE)
set(CPACK_GENERATOR DEB)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL runtime development)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME iotblocks)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_DEVELOPMENT_PACKAGE_NAME iotblocks-dev)
set(CPACK_DEBIAN_DEVELOPMENT_PACKAGE_DEPENDS
    "iotblocks (= ${PROJECT_VERSION}), libssl-dev, libsqlite3-dev, libfmt-dev, libsimdjson-dev, libboost1.81-dev")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
include(CPack)
