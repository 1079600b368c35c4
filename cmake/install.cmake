# What `cmake --install` puts under the prefix: the header, the library with
# its development symlink, memphis.pc and the CMake package (memphis::memphis).
# Every file finds the prefix relative to itself, so an installed tree can be
# moved or unpacked anywhere (`make dist` ships one as a tarball).
include(CMakePackageConfigHelpers)

install(FILES include/memphis.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES ${MEMPHIS_LIB} ${MEMPHIS_LIBDIR}/libmemphis.so DESTINATION ${CMAKE_INSTALL_LIBDIR})

# "../.." from <libdir>/pkgconfig (more when libdir has several parts).
function(memphis_path_up from out)
  file(RELATIVE_PATH up "/${from}" "/")
  string(REGEX REPLACE "/$" "" up "${up}")
  set(${out} ${up} PARENT_SCOPE)
endfunction()

memphis_path_up(${CMAKE_INSTALL_LIBDIR}/pkgconfig MEMPHIS_PC_UP)
set(MEMPHIS_PC_PREFIX "\${pcfiledir}/${MEMPHIS_PC_UP}")
set(MEMPHIS_PC_LIBDIR "\${prefix}/${CMAKE_INSTALL_LIBDIR}")
set(MEMPHIS_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
configure_file(cmake/memphis.pc.in ${CMAKE_BINARY_DIR}/memphis.pc @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/memphis.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

set(MEMPHIS_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/memphis)
memphis_path_up(${MEMPHIS_CMAKE_DIR} MEMPHIS_CONFIG_UP)
configure_file(cmake/memphisConfig.cmake.in ${CMAKE_BINARY_DIR}/memphisConfig.cmake @ONLY)
# Before 1.0 a minor release may break the API, so 0.x versions match on
# MAJOR.MINOR; from 1.0 on, on MAJOR.
if(PROJECT_VERSION_MAJOR EQUAL 0)
  set(MEMPHIS_COMPAT SameMinorVersion)
else()
  set(MEMPHIS_COMPAT SameMajorVersion)
endif()
write_basic_package_version_file(${CMAKE_BINARY_DIR}/memphisConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY ${MEMPHIS_COMPAT})
install(FILES ${CMAKE_BINARY_DIR}/memphisConfig.cmake ${CMAKE_BINARY_DIR}/memphisConfigVersion.cmake
  DESTINATION ${MEMPHIS_CMAKE_DIR})
