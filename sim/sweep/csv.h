// CSV text as the sweep writes it (RFC 4180): a cell is quoted only when it
// holds a comma, a double quote or a line break.
#pragma once

#include <string>
#include <vector>

namespace tunsim::sweep
{

/// One cell, quoted (quotes doubled) when it must be.
std::string CsvCell(const std::string& s);

/// One line: the cells joined by commas, with the line break.
std::string CsvLine(const std::vector<std::string>& cells);

} // namespace tunsim::sweep
