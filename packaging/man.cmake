# SPDX-License-Identifier: MIT
# man.cmake -- one man page: PROGRAM --help-man ARG > OUT (packaging/CMakeLists.txt), run through
# EMULATOR (qemu-user) when cross-compiling. A failure or an empty page fails the build.
get_filename_component(dir ${OUT} DIRECTORY)
file(MAKE_DIRECTORY ${dir})
execute_process(COMMAND ${EMULATOR} ${PROGRAM} --help-man ${ARG} OUTPUT_FILE ${OUT}.tmp
                RESULT_VARIABLE rc ERROR_VARIABLE err)
file(SIZE ${OUT}.tmp size)
if(NOT rc EQUAL 0 OR size EQUAL 0)
  file(REMOVE ${OUT}.tmp)
  message(FATAL_ERROR "${PROGRAM} --help-man ${ARG} failed (${rc}): ${err}")
endif()
file(RENAME ${OUT}.tmp ${OUT})
