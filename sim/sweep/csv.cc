#include "csv.h"

namespace tunsim::sweep
{

std::string
CsvCell(const std::string& s)
{
    if (s.find_first_of(",\"\n\r") == std::string::npos)
    {
        return s;
    }
    std::string out = "\"";
    for (char c : s)
    {
        if (c == '"')
        {
            out += '"';
        }
        out += c;
    }
    return out + "\"";
}

std::string
CsvLine(const std::vector<std::string>& cells)
{
    std::string out;
    for (size_t i = 0; i < cells.size(); ++i)
    {
        if (i)
        {
            out += ',';
        }
        out += CsvCell(cells[i]);
    }
    return out + "\n";
}

} // namespace tunsim::sweep
