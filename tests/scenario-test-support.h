// Helpers shared by the scenario test suites (test_scenario.cc,
// test_scenario_errors.cc).
#pragma once

#include "scenario/scenario.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <unistd.h>

namespace scenario_test
{

using nlohmann::json;
using namespace tunsim;

/// The smallest valid scenario: one default flow.
inline json
Minimal()
{
    return json::parse(R"({"flows": [{}]})");
}

/// Parses `j` expecting a ScenarioError; returns it (fails the test if none).
inline ScenarioError
ErrorOf(const json& j)
{
    try
    {
        ScenarioFromJson(j);
    }
    catch (const ScenarioError& e)
    {
        return e;
    }
    ADD_FAILURE() << "no ScenarioError for " << j.dump();
    return ScenarioError("<none>", "<none>");
}

/// Minimal() with `assignment` applied, then parsed, expecting an error.
inline ScenarioError
ErrorWith(const std::string& assignment)
{
    json j = Minimal();
    ApplySet(j, assignment);
    return ErrorOf(j);
}

inline bool
Contains(const std::string& haystack, const std::string& needle)
{
    return haystack.find(needle) != std::string::npos;
}

#define EXPECT_CONTAINS(haystack, needle)                                                         \
    EXPECT_TRUE(scenario_test::Contains(haystack, needle)) << "\"" << (haystack) << "\" lacks \"" << (needle) << "\""

/// A temporary file with `content`, removed at scope exit.
class TempFile
{
  public:
    explicit TempFile(const std::string& content)
    {
        char name[] = "/tmp/tunsim-test-scenario-XXXXXX";
        int fd = mkstemp(name);
        EXPECT_GE(fd, 0);
        close(fd);
        m_path = name;
        std::ofstream(m_path) << content;
    }

    ~TempFile()
    {
        std::remove(m_path.c_str());
    }

    const std::string& Path() const
    {
        return m_path;
    }

  private:
    std::string m_path;
};

} // namespace scenario_test
