# Writes a C++ source defining `std::string_view NAME()` in namespace NS
# that returns the bytes of INPUT, as a raw string literal. Run at build
# time by daemon/CMakeLists.txt (cmake -P), so that editing INPUT rebuilds
# only the generated file:
#   cmake -DINPUT=page.html -DOUTPUT=page.cpp -DHEADER=dropd/ops/x.hpp
#         -DNS=dropd::ops -DNAME=statusPage -P embed_text.cmake
# The text must not contain the literal's closing delimiter; that is checked.
foreach(var INPUT OUTPUT HEADER NS NAME)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "embed_text.cmake: -D${var}= is required")
  endif()
endforeach()
set(delimiter "dropd_embed")
file(READ "${INPUT}" text)
string(FIND "${text}" ")${delimiter}\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${INPUT} contains )${delimiter}\" and cannot be embedded as is")
endif()
file(WRITE "${OUTPUT}.tmp"
  "// Generated from ${INPUT} by embed_text.cmake: do not edit.\n"
  "#include \"${HEADER}\"\n\n"
  "namespace ${NS} {\n\n"
  "std::string_view ${NAME}() {\n"
  "  static constexpr char kText[] = R\"${delimiter}(${text})${delimiter}\";\n"
  "  return {kText, sizeof(kText) - 1};\n"
  "}\n\n"
  "}  // namespace ${NS}\n")
# Only a changed text touches OUTPUT, so an unchanged page recompiles nothing.
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
