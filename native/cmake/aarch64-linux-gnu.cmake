# Cross-compiles libmamba4j for Linux aarch64 with Debian's toolchain
# (apt-get install g++-aarch64-linux-gnu; tests: apt-get install qemu-user).
#   cmake -S native -B build-arm64 -DCMAKE_TOOLCHAIN_FILE=native/cmake/aarch64-linux-gnu.cmake -DMAMBA4J_CUDA=OFF
# ctest then runs every test binary under qemu-aarch64 with the cross sysroot.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(MAMBA4J_CROSS_PREFIX aarch64-linux-gnu- CACHE STRING "Prefix of the cross tools")
set(MAMBA4J_CROSS_SYSROOT /usr/aarch64-linux-gnu CACHE PATH "Target libraries (libc, libgomp) for qemu -L")

find_program(MAMBA4J_CROSS_CXX ${MAMBA4J_CROSS_PREFIX}g++)
find_program(MAMBA4J_CROSS_CC ${MAMBA4J_CROSS_PREFIX}gcc)
if(NOT MAMBA4J_CROSS_CXX OR NOT MAMBA4J_CROSS_CC)
  message(FATAL_ERROR "linux-aarch64 cross build: ${MAMBA4J_CROSS_PREFIX}g++/gcc not found. "
                      "On Debian/Ubuntu: apt-get install g++-aarch64-linux-gnu")
endif()
set(CMAKE_C_COMPILER ${MAMBA4J_CROSS_CC})
set(CMAKE_CXX_COMPILER ${MAMBA4J_CROSS_CXX})

set(CMAKE_FIND_ROOT_PATH ${MAMBA4J_CROSS_SYSROOT})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# ctest runs the aarch64 test binaries through qemu-user (missing qemu: ctest says so per test)
find_program(MAMBA4J_QEMU qemu-aarch64 qemu-aarch64-static)
if(MAMBA4J_QEMU)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${MAMBA4J_QEMU} -L ${MAMBA4J_CROSS_SYSROOT})
else()
  message(WARNING "qemu-aarch64 not found: the aarch64 tests cannot run (apt-get install qemu-user)")
endif()
