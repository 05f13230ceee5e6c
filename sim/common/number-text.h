// Numbers as text, the one way tunsim prints them in messages, CSV cells and
// point names: the shortest text that reads back as the same double.
#pragma once

#include <string>

namespace tunsim
{

enum class NumberStyle
{
    /// 1e6, 0.05, 65536, 2.5e-7: exponent without '+' and leading zeros
    /// (error messages, ranges).
    Compact,
    /// Integral values below 1e15 in full (1000000, 25), others as Compact
    /// but with printf's exponent (2.5e-07); "" for NaN and infinities (CSV).
    Cell,
};

/// Shortest text that reads back as `v` (strtod(text) == v).
std::string NumberText(double v, NumberStyle style = NumberStyle::Compact);

} // namespace tunsim
