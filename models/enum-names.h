// Names of the small enums a scenario selects (qdisc kind, traffic mode,
// encapsulation, ...): one table per enum, in enum order, so an enum value
// and the word a user writes for it are declared together, once.
//
//   template <> struct EnumNames<QdiscKind>
//   {
//       static constexpr const char* kNoun = "qdisc kind";
//       static constexpr std::array<const char*, 4> kNames{"fq_codel", ...};
//   };
//
// A switch over such an enum has no default case, so -Wswitch names every
// place a new value must be handled.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tunsim
{

template <typename E>
struct EnumNames; // specialised next to each enum

/// The word for `e` ("fq_codel").
template <typename E>
const char*
NameOf(E e)
{
    return EnumNames<E>::kNames[static_cast<size_t>(e)];
}

/// The value called `name`, if any.
template <typename E>
std::optional<E>
EnumFromName(std::string_view name)
{
    const auto& names = EnumNames<E>::kNames;
    for (size_t i = 0; i < names.size(); ++i)
    {
        if (name == names[i])
        {
            return static_cast<E>(i);
        }
    }
    return std::nullopt;
}

/// Every word, in enum order.
template <typename E>
std::vector<std::string>
AllNames()
{
    const auto& names = EnumNames<E>::kNames;
    return std::vector<std::string>(names.begin(), names.end());
}

} // namespace tunsim
