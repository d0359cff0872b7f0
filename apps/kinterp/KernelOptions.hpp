#pragma once
// The kernel of solve and predict: its options (--formula or --kernel), the
// kernel they name, and the attributes that record it on HDF5 weights so that
// predict can rebuild it without options.

#include <kinterp/KernelModel.hpp>
#include <kinterp/io/Hdf5.hpp>

#include "CommandLine.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace kinterp::cli {

/// --formula, --var, --unknown, --param, --kernel, --length-scale and
/// --precision (`mixed`: solve's mixed precision is offered too).
std::vector<OptionSpec> kernel_options(bool mixed);

/// The kernel formulas and families, for --help.
extern const char kernels_help[];

/// --param's NAME=V[,V...] texts by name; UsageError for a malformed or repeated one.
std::map<std::string, std::vector<double>> parse_params(const std::vector<std::string>& texts);

/// The kernel of --formula (with --var, --param, --unknown) or --kernel with
/// --length-scale; UsageError for a wrong combination of them.
KernelModel resolve_kernel(const CommandLine& command);

/// The kernel options (valid: resolve_kernel accepted them) as attributes that
/// recorded_kernel turns back into the same kernel.
io::Attributes kernel_attributes(const CommandLine& command);

/// The kernel that the attributes of --weights record, if they record one.
std::optional<KernelModel> recorded_kernel(const io::Attributes& attributes,
                                           const std::string& weights);

}  // namespace kinterp::cli
