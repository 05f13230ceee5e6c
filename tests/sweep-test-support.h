// Helpers shared by the sweep test suites (test_sweep.cc,
// test_sweep_pieces.cc).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

namespace sweep_test
{

/// CSV text as rows of cells (quoted cells with doubled quotes, no line
/// breaks inside a cell: what the sweep writes).
inline std::vector<std::vector<std::string>>
CsvRows(const std::string& text)
{
    std::vector<std::vector<std::string>> rows;
    std::stringstream ss(text);
    std::string line;
    while (std::getline(ss, line))
    {
        std::vector<std::string> cells;
        std::string cur;
        bool q = false;
        for (size_t i = 0; i < line.size(); ++i)
        {
            char c = line[i];
            if (q)
            {
                if (c == '"' && i + 1 < line.size() && line[i + 1] == '"')
                {
                    cur += '"';
                    ++i;
                }
                else if (c == '"')
                {
                    q = false;
                }
                else
                {
                    cur += c;
                }
            }
            else if (c == '"')
            {
                q = true;
            }
            else if (c == ',')
            {
                cells.push_back(cur);
                cur.clear();
            }
            else
            {
                cur += c;
            }
        }
        cells.push_back(cur);
        rows.push_back(cells);
    }
    return rows;
}

/// The cell of `column` in `rows[row]` (rows[0] is the header).
inline std::string
Cell(const std::vector<std::vector<std::string>>& rows, size_t row, const std::string& column)
{
    const auto it = std::find(rows.at(0).begin(), rows.at(0).end(), column);
    if (it == rows[0].end() || size_t(it - rows[0].begin()) >= rows.at(row).size())
    {
        ADD_FAILURE() << "no column " << column << " in row " << row;
        return "<none>";
    }
    return rows[row][it - rows[0].begin()];
}

} // namespace sweep_test
