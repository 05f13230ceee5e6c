#include "number-text.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace tunsim
{

namespace
{

/// %.*g with the fewest digits that read back exactly.
std::string
ShortestG(double v)
{
    char buf[64];
    for (int p = 1; p <= 17; ++p)
    {
        std::snprintf(buf, sizeof buf, "%.*g", p, v);
        if (std::strtod(buf, nullptr) == v)
        {
            break;
        }
    }
    return buf;
}

/// "2.5e-07" -> "2.5e-7", "1e+06" -> "1e6".
std::string
CompactExponent(const std::string& s)
{
    const auto e = s.find('e');
    if (e == std::string::npos)
    {
        return s;
    }
    const std::string mant = s.substr(0, e);
    const std::string ex = s.substr(e + 1);
    const bool neg = !ex.empty() && ex[0] == '-';
    size_t i = (!ex.empty() && (ex[0] == '+' || ex[0] == '-')) ? 1 : 0;
    while (i + 1 < ex.size() && ex[i] == '0')
    {
        ++i;
    }
    return mant + "e" + (neg ? "-" : "") + ex.substr(i);
}

} // namespace

std::string
NumberText(double v, NumberStyle style)
{
    switch (style)
    {
    case NumberStyle::Compact:
        return CompactExponent(ShortestG(v));
    case NumberStyle::Cell:
        if (!std::isfinite(v))
        {
            return "";
        }
        if (v == std::floor(v) && std::fabs(v) < 1e15)
        {
            char buf[64];
            std::snprintf(buf, sizeof buf, "%.0f", v);
            return std::string(buf) == "-0" ? "0" : buf;
        }
        return ShortestG(v);
    }
    return ShortestG(v);
}

} // namespace tunsim
