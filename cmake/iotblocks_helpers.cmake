# Helpers shared by every component, test and program.

# Warning set of the project; -Werror when IOTBLOCKS_WERROR is on (CI).
add_library(iotblocks_warnings INTERFACE)
target_compile_options(iotblocks_warnings INTERFACE
  $<$<CXX_COMPILER_ID:GNU,Clang>:-Wall -Wextra -Wpedantic -Wconversion -Wshadow>
  $<$<AND:$<BOOL:${IOTBLOCKS_WERROR}>,$<CXX_COMPILER_ID:GNU,Clang>>:-Werror>)

# RapidJSON 1.1 offsets a null pointer when its stacks first grow (harmless, but
# UBSan's pointer-overflow check aborts on it), so that one check is off.
add_library(iotblocks_sanitizers INTERFACE)
if(IOTBLOCKS_SANITIZE)
  target_compile_options(iotblocks_sanitizers INTERFACE
    -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
    -fno-sanitize=pointer-overflow)
  target_link_options(iotblocks_sanitizers INTERFACE -fsanitize=address,undefined)
endif()
if(IOTBLOCKS_FUZZ)
  # Instrument every library for coverage; only fuzzer programs get the libFuzzer main.
  target_compile_options(iotblocks_sanitizers INTERFACE
    -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
    -fno-sanitize=pointer-overflow)
  target_link_options(iotblocks_sanitizers INTERFACE -fsanitize=address,undefined)
endif()

# Extra flags of the test programs only (not of the libraries they test): the CI
# presets compile tests at -O0, which halves their compile time; libraries keep
# the preset's optimisation.
set(IOTBLOCKS_TEST_CXX_FLAGS "" CACHE STRING "Extra compile flags of the test programs (;-separated)")
add_library(iotblocks_test_options INTERFACE)
target_compile_options(iotblocks_test_options INTERFACE ${IOTBLOCKS_TEST_CXX_FLAGS})
# Test programs and the CLI compiled as unity batches of this many files (0: one
# file at a time). Most of such a file's compile time is its headers (GoogleTest,
# CLI11, Asio, the blocks'), parsed once per batch; the CI presets set it.
set(IOTBLOCKS_UNITY_BATCH 0 CACHE STRING "Files per unity batch of the test programs and the CLI (0: off)")

# Shared libraries (BUILD_SHARED_LIBS): SONAME libiotblocks_<name>.so.<major>.<minor>
# while the major version is 0 (a 0.x release may change the ABI), .so.<major> from
# 1.0 on (docs/firmware.md, "Shared libraries").
if(PROJECT_VERSION_MAJOR EQUAL 0)
  set(IOTBLOCKS_SOVERSION ${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR})
else()
  set(IOTBLOCKS_SOVERSION ${PROJECT_VERSION_MAJOR})
endif()

# iotblocks_add_component(<name> SOURCES ... [PUBLIC_DEPS ...] [PRIVATE_DEPS ...])
# Creates the static (or shared) library iotblocks_<name>, alias iotblocks::<name>,
# exported as iotblocks::<name>. A dependency iotblocks::<other> that is not part of
# the build (IOTBLOCKS_ONLY without it) fails the configure.
function(iotblocks_add_component name)
  cmake_parse_arguments(ARG "" "" "SOURCES;PUBLIC_DEPS;PRIVATE_DEPS" ${ARGN})
  foreach(dep IN LISTS ARG_PUBLIC_DEPS ARG_PRIVATE_DEPS)
    if(dep MATCHES "^iotblocks::(.+)$" AND NOT TARGET ${dep})
      message(FATAL_ERROR "the ${name} component needs the ${CMAKE_MATCH_1} component: "
                          "add ${CMAKE_MATCH_1} to IOTBLOCKS_ONLY")
    endif()
  endforeach()
  # Header-only private dependencies must not reach the exported link interface.
  list(TRANSFORM ARG_PRIVATE_DEPS REPLACE "^(RapidJSON::RapidJSON|Boost::headers)$"
                                          "$<BUILD_INTERFACE:\\1>")
  add_library(iotblocks_${name} ${ARG_SOURCES})
  add_library(iotblocks::${name} ALIAS iotblocks_${name})
  set_target_properties(iotblocks_${name} PROPERTIES
    EXPORT_NAME ${name}
    OUTPUT_NAME iotblocks_${name}
    VERSION ${PROJECT_VERSION}
    SOVERSION ${IOTBLOCKS_SOVERSION}
    # Only what the public headers declare between IOTBLOCKS_API_BEGIN and
    # IOTBLOCKS_API_END (iotblocks/core/export.hpp) is exported.
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  target_compile_features(iotblocks_${name} PUBLIC cxx_std_20)
  target_include_directories(iotblocks_${name}
    PUBLIC $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
           $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>
    PRIVATE ${PROJECT_SOURCE_DIR}/lib)
  target_link_libraries(iotblocks_${name}
    PUBLIC ${ARG_PUBLIC_DEPS}
    PRIVATE ${ARG_PRIVATE_DEPS}
            $<BUILD_INTERFACE:iotblocks_warnings>
            $<BUILD_INTERFACE:iotblocks_sanitizers>)
  # What a consumer needs to link it: the components and packages in its link
  # interface (private ones too for a static library). iotblocks_install writes
  # them into the component's config file and its .pc file.
  set(components "")
  set(packages "")
  set(link_deps ${ARG_PUBLIC_DEPS})
  if(NOT BUILD_SHARED_LIBS)
    list(APPEND link_deps ${ARG_PRIVATE_DEPS})
  endif()
  foreach(dep IN LISTS link_deps)
    if(dep MATCHES "^iotblocks::(.+)$")
      list(APPEND components ${CMAKE_MATCH_1})
    elseif(dep MATCHES "^(Threads|OpenSSL|SQLite|fmt|simdjson|PostgreSQL)::")
      list(APPEND packages ${dep})
    elseif(dep STREQUAL "Boost::headers" AND dep IN_LIST ARG_PUBLIC_DEPS)
      list(APPEND packages ${dep})
    endif()
  endforeach()
  list(REMOVE_DUPLICATES components)
  list(REMOVE_DUPLICATES packages)
  set_property(GLOBAL PROPERTY IOTBLOCKS_${name}_COMPONENTS ${components})
  set_property(GLOBAL PROPERTY IOTBLOCKS_${name}_PACKAGES ${packages})
  install(TARGETS iotblocks_${name} EXPORT iotblocks-${name}-targets
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT development
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT libraries
            NAMELINK_COMPONENT development
    RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT runtime)
  set_property(GLOBAL APPEND PROPERTY IOTBLOCKS_INSTALLED_COMPONENTS ${name})
endfunction()

# iotblocks_add_tests(<component> SOURCES ... [DEPS ...] [LABELS ...])
# One GoogleTest program per component: <component>_tests, discovered by ctest,
# labelled "unit;<component>" unless LABELS says otherwise (e.g. "integration").
# Tests run with the source tree as working directory so tests/data/... paths work.
function(iotblocks_add_tests component)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;LABELS" ${ARGN})
  if(NOT ARG_LABELS)
    set(ARG_LABELS unit)
  endif()
  add_executable(${component}_tests ${ARG_SOURCES})
  target_link_libraries(${component}_tests PRIVATE iotblocks::${component} ${ARG_DEPS}
    GTest::gtest GTest::gmock GTest::gtest_main iotblocks_warnings iotblocks_sanitizers
    iotblocks_test_options)
  target_include_directories(${component}_tests PRIVATE ${PROJECT_SOURCE_DIR}/lib
                                                        ${PROJECT_SOURCE_DIR}/tests)
  if(IOTBLOCKS_UNITY_BATCH GREATER 0)
    set_target_properties(${component}_tests PROPERTIES UNITY_BUILD ON
                          UNITY_BUILD_BATCH_SIZE ${IOTBLOCKS_UNITY_BATCH})
  endif()
  # gtest_discover_tests splits a list given as PROPERTIES (only the first label
  # would stick), so the labels are set by a file ctest reads after the discovered
  # tests: `ctest -L <component>` then finds them.
  gtest_discover_tests(${component}_tests
    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
    TEST_LIST ${component}_gtests
    DISCOVERY_TIMEOUT 60)
  list(APPEND ARG_LABELS ${component})
  list(REMOVE_DUPLICATES ARG_LABELS)
  set(labels ${CMAKE_CURRENT_BINARY_DIR}/${component}_test_labels.cmake)
  file(WRITE ${labels} "if(${component}_gtests)\n  set_tests_properties(\${${component}_gtests} "
                       "PROPERTIES LABELS \"${ARG_LABELS}\")\nendif()\n")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES ${labels})
endfunction()

# iotblocks_filter_by_component(<list-var>): keeps the files whose name starts
# with "<component>_" for a component of this build (commands, fuzzers,
# benchmarks are named that way).
function(iotblocks_filter_by_component var)
  set(kept "")
  foreach(file IN LISTS ${var})
    get_filename_component(name ${file} NAME)
    string(REGEX MATCH "^[a-z0-9]+" component ${name})
    if(component IN_LIST IOTBLOCKS_COMPONENTS)
      list(APPEND kept ${file})
    endif()
  endforeach()
  set(${var} ${kept} PARENT_SCOPE)
endfunction()
