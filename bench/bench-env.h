// Shared by the benchmarks: a number of seconds from the environment.
#pragma once

#include <cstdio>
#include <cstdlib>

namespace bench
{

/// The value of `name` as seconds in (0, max], or `fallback` when unset; any
/// other value stops the program with exit 2 and a message naming `name`.
inline double
SecondsFromEnv(const char* program, const char* name, double fallback, double max)
{
    const char* env = std::getenv(name);
    if (!env || !*env)
    {
        return fallback;
    }
    char* end = nullptr;
    const double v = std::strtod(env, &end);
    if (*end != '\0' || !(v > 0 && v <= max))
    {
        std::fprintf(stderr, "%s: %s must be a number of seconds in (0, %g], got '%s'\n", program, name, max, env);
        std::exit(2);
    }
    return v;
}

} // namespace bench
