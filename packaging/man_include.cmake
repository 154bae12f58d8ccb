# Writes OUTPUT: packaging/ssecast.h2m with @OPTION_VARIABLES@ replaced by one ENVIRONMENT entry
# per option, read off BINARY's --help (every option line ends "(env SSECAST_...)"), so the man
# page lists exactly the variables of the option table.
#   cmake -DBINARY=... -DINPUT=ssecast.h2m -DOUTPUT=... -P man_include.cmake
execute_process(COMMAND ${BINARY} --help OUTPUT_VARIABLE help RESULT_VARIABLE code)
if(NOT code EQUAL 0)
  message(FATAL_ERROR "${BINARY} --help exited with ${code}")
endif()
# The help text has semicolons, which CMake would take for list separators.
string(REPLACE ";" "," help "${help}")
string(REGEX MATCHALL "\n  --[a-z-]+ [^\n]*\\(env SSECAST_[A-Z_]+\\)" lines "${help}")
set(entries "")
foreach(line IN LISTS lines)
  string(REGEX REPLACE "^\n  (--[a-z-]+) .*\\(env (SSECAST_[A-Z_]+)\\)$" "\\1;\\2" pair "${line}")
  list(GET pair 0 flag)
  list(GET pair 1 variable)
  string(REPLACE "-" "\\-" flag "${flag}")
  if(NOT variable STREQUAL "SSECAST_CONFIG")
    string(APPEND entries ".TP\n.B ${variable}\n${flag}\n")
  endif()
endforeach()
if(entries STREQUAL "")
  message(FATAL_ERROR "no option variables found in ${BINARY} --help")
endif()
file(READ ${INPUT} text)
string(REPLACE "@OPTION_VARIABLES@" "${entries}" text "${text}")
file(WRITE ${OUTPUT} "${text}")
