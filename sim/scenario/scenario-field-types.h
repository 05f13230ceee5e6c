// Scenario field table, the shared vocabulary: ranges, doc lines, array
// rules and limits that every Visit*() function of the table uses
// (scenario-fields.h explains the table and its visitors).
#pragma once

#include "scenario.h"

#include <cstddef>
#include <cstdint>
#include <string>

namespace tunsim
{

/// An interval of doubles. `symbolic`, when set, names bounds that depend on
/// other fields ("[0, duration_s)"); messages then read "[0, duration_s) = [0, 2)".
struct Range
{
    double lo;
    bool loOpen;
    double hi;
    bool hiOpen;
    std::string symbolic;

    bool Contains(double v) const { return (loOpen ? v > lo : v >= lo) && (hiOpen ? v < hi : v <= hi); }
    /// "[0, 1e6]"
    std::string Text() const;
    /// What a message says: Text(), or "symbolic = Text()".
    std::string MessageText() const { return symbolic.empty() ? Text() : symbolic + " = " + Text(); }
};

/// [lo, hi] and (lo, hi]
inline Range
Closed(double lo, double hi)
{
    return Range{lo, false, hi, false, ""};
}

inline Range
LeftOpen(double lo, double hi)
{
    return Range{lo, true, hi, false, ""};
}

/// A field's unit and doc line, and, for fields the live kernel does not use
/// (tunsim kernel lists them as not applicable), why not.
struct Doc
{
    const char* unit;
    const char* text;
    const char* simOnly = nullptr;
    bool required = false;

    Doc SimOnly(const char* why) const { return Doc{unit, text, why, required}; }
    Doc Required() const { return Doc{unit, text, simOnly, true}; }
};

/// What an array field of objects must look like, and the messages when not.
struct ArrayRules
{
    bool required;          ///< the key must be present
    bool nonEmpty;          ///< at least one element
    const char* missing;    ///< message when absent and required
    const char* notArray;   ///< message prefix when not an array (or empty and nonEmpty): "... got X"
};

constexpr uint64_t kMinSndbuf = 4608;                 ///< SOCK_MIN_SNDBUF on x86-64
constexpr uint64_t kMaxSndbuf = 2147483647ULL;        ///< INT_MAX: sk_sndbuf is an int
constexpr uint64_t kMaxSeed = 9223372036854775807ULL; ///< 2^63 - 1
/// tun0 MTU 1500 - IPv4 20 - UDP 8: larger datagrams would be IP fragments,
/// which tunsim does not model (one ledger entry per datagram).
constexpr uint32_t kMaxUdpPayload = 1472;
constexpr size_t kMaxQuantiles = 1000;

/// Both > 0 (`on`) or both 0 (`off`); the error names the one that is 0.
void CheckBothPositiveOrZero(const std::string& pathA,
                             double va,
                             const std::string& pathB,
                             double vb,
                             const std::string& on,
                             const std::string& off);

} // namespace tunsim
