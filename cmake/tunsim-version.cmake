# Writes the version header from the git revision at build time (not only at
# configure time), so that an incremental build after a commit stamps its
# results with that commit. configure_file() leaves the header untouched when
# nothing changed: no rebuild then.
# Inputs: SRC (source dir), IN (version.h.in), OUT (the header), PROJECT_VERSION.
execute_process(COMMAND git describe --always --dirty --abbrev=12
                WORKING_DIRECTORY ${SRC}
                OUTPUT_VARIABLE TUNSIM_GIT_REV OUTPUT_STRIP_TRAILING_WHITESPACE
                ERROR_QUIET)
if(NOT TUNSIM_GIT_REV)
  set(TUNSIM_GIT_REV "unknown")
endif()
configure_file(${IN} ${OUT} @ONLY)
