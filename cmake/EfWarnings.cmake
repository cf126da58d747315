# EfWarnings.cmake -- warning and sanitizer flags for edgefleet's own targets only.
# ef_target(<target>) applies them; third-party headers stay out of -Werror.
set(EF_SAN_FLAGS "")
if(EF_ASAN)
  list(APPEND EF_SAN_FLAGS -fsanitize=address -fno-omit-frame-pointer)
endif()
if(EF_TSAN)
  if(EF_ASAN)
    message(FATAL_ERROR "EF_TSAN and EF_ASAN cannot be combined (one sanitizer runtime per process)")
  endif()
  list(APPEND EF_SAN_FLAGS -fsanitize=thread -fno-omit-frame-pointer)
endif()
if(EF_UBSAN)
  list(APPEND EF_SAN_FLAGS -fsanitize=undefined -fno-sanitize-recover=undefined)
endif()

function(ef_target tgt)
  target_compile_options(${tgt} PRIVATE -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes
                         -Wmissing-prototypes -Wno-missing-field-initializers ${EF_SAN_FLAGS})
  target_compile_definitions(${tgt} PRIVATE _GNU_SOURCE)
  if(EF_SAN_FLAGS)
    target_link_options(${tgt} PRIVATE ${EF_SAN_FLAGS})
  endif()
endfunction()
