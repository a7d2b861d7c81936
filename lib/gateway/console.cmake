# The web console (issue 13): every file under web/ is embedded at build time into a
# generated .cpp (no runtime path lookup) and served at /console/ by console.cpp.
file(GLOB_RECURSE console_web_files CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/web/*)
set(console_generated ${CMAKE_CURRENT_BINARY_DIR}/console_files.cpp)
add_custom_command(
  OUTPUT ${console_generated}
  COMMAND ${CMAKE_COMMAND} -DWEB_DIR=${PROJECT_SOURCE_DIR}/web -DOUTPUT=${console_generated}
          -P ${CMAKE_CURRENT_LIST_DIR}/console_embed.cmake
  DEPENDS ${console_web_files} ${CMAKE_CURRENT_LIST_DIR}/console_embed.cmake
  COMMENT "Embedding the web console (web/)"
  VERBATIM)
target_sources(iotblocks_gateway PRIVATE console.cpp ${console_generated})
