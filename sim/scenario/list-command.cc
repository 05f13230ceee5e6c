#include "list-command.h"

#include "cli/cli.h"
#include "scenario.h"

#include "tun-policy.h"

#include <iostream>

namespace tunsim
{

namespace
{

std::string
Pad(const std::string& s, size_t width)
{
    return s + std::string(s.size() < width ? width - s.size() : 1, ' ');
}

void
PrintWords()
{
    std::cout << "policies (tun.policy):\n";
    for (const auto& p : TunPolicyRegistry())
    {
        std::cout << "  " << Pad(p.name, 18) << p.summary << "\n" << "  " << Pad("", 18) << "source: " << p.source
                  << "\n";
    }
    std::cout << "qdisc kinds (qdisc.kind):\n";
    for (const auto& k : AllNames<QdiscKind>())
    {
        std::cout << "  " << k << "\n";
    }
    std::cout << "traffic kinds (flows[].kind/mode):\n";
    for (const auto& k : TrafficKinds())
    {
        std::cout << "  " << k << "\n";
    }
    std::cout << "encapsulations (reader.encap):\n";
    for (const auto& k : AllNames<EncapKind>())
    {
        std::cout << "  " << k << "\n";
    }
}

void
PrintFields()
{
    for (const FieldDoc& f : ScenarioFieldDocs())
    {
        std::cout << f.path << "  " << f.type;
        if (!f.dflt.empty())
        {
            std::cout << "  default " << f.dflt;
        }
        if (!f.unit.empty())
        {
            std::cout << "  unit " << f.unit;
        }
        if (!f.allowed.empty())
        {
            std::cout << "  allowed " << f.allowed;
        }
        if (!f.only.empty())
        {
            std::cout << "  only " << f.only;
        }
        std::cout << "\n    " << f.doc << "\n";
        if (!f.simOnly.empty())
        {
            std::cout << "    simulator only (tunsim kernel: " << f.simOnly << ")\n";
        }
    }
}

} // namespace

int
ListCommand(int argc, char** argv)
{
    boost::program_options::options_description opts("options");
    const auto vm = ParseCommandLine(argc, argv, opts, {{"what", 1}}, "");
    const std::string what = vm.count("what") ? vm["what"].as<std::string>() : "";
    if (what.empty())
    {
        PrintWords();
    }
    else if (what == "fields")
    {
        PrintFields();
    }
    else
    {
        throw BadInput("list: unknown list \"" + what + "\"; allowed: fields (or nothing: the scenario's words)");
    }
    return kExitOk;
}

} // namespace tunsim
