// Text helpers shared by the scenario parser and loader: dotted paths and
// quoting for error messages.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace tunsim
{
namespace scenario_text
{

/// JSON quoting of `s` for a message; never throws on bad UTF-8.
inline std::string
Quote(const std::string& s)
{
    return nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

/// "path.key", or "key" at the top level.
inline std::string
Child(const std::string& path, const std::string& key)
{
    return path.empty() ? key : path + "." + key;
}

/// "path[i]"
inline std::string
Index(const std::string& path, size_t i)
{
    return path + "[" + std::to_string(i) + "]";
}

} // namespace scenario_text
} // namespace tunsim
