#include <kinterp/core/Error.hpp>
#include <kinterp/core/detail/Spelling.hpp>
#include <kinterp/formula/Reduction.hpp>

#include <algorithm>
#include <string>
#include <utility>

namespace kinterp {

namespace {

using Kind = ReductionKind;

const std::pair<const char*, Kind> kNames[] = {
    {"Sum", Kind::Sum},
    {"Min", Kind::Min},
    {"Max", Kind::Max},
    {"ArgMin", Kind::ArgMin},
    {"ArgMax", Kind::ArgMax},
    {"Min_ArgMin", Kind::MinArgMin},
    {"Max_ArgMax", Kind::MaxArgMax},
    {"LogSumExp", Kind::LogSumExp},
    {"SumSoftMaxWeight", Kind::SumSoftMaxWeight},
    {"LogSumExpWeight", Kind::LogSumExpWeight},
    {"Max_SumShiftExp", Kind::MaxSumShiftExp},
    {"Max_SumShiftExpWeight", Kind::MaxSumShiftExpWeight},
    {"KMin", Kind::KMin},
    {"ArgKMin", Kind::ArgKMin},
    {"KMin_ArgKMin", Kind::KMinArgKMin},
};

}  // namespace

Reduction Reduction::parse(const std::string& name, int k) {
  for (const auto& [known, kind] : kNames) {  // KeOps also writes MinArgMin, KMinArgKMin
    std::string joined = known;
    joined.erase(std::remove(joined.begin(), joined.end(), '_'), joined.end());
    if (name == known || name == joined) {
      const Reduction reduction{kind, k};
      if (!reduction.takes_k()) return {kind, 1};
      if (k < 1) {
        throw Error("the reduction " + name + " needs K >= 1 (--k), got " + std::to_string(k));
      }
      return reduction;
    }
  }
  const std::string guess = detail::closest(name, names());
  std::string all;
  for (const auto& known : names()) all += (all.empty() ? "" : ", ") + known;
  throw Error("unknown reduction '" + name + "'" +
              (guess.empty() ? "" : "; did you mean '" + guess + "'?") + " (known: " + all + ")");
}

std::vector<std::string> Reduction::names() {
  std::vector<std::string> list;
  for (const auto& entry : kNames) list.emplace_back(entry.first);
  return list;
}

std::string Reduction::name() const {
  for (const auto& [known, value] : kNames) {
    if (value == kind) return known;
  }
  return "?";
}

int Reduction::output_columns(int dimension) const {
  require_scheme_fits();
  switch (kind) {
    case Kind::MinArgMin:
    case Kind::MaxArgMax:
      return 2 * dimension;
    case Kind::SumSoftMaxWeight:
    case Kind::LogSumExpWeight:
    case Kind::MaxSumShiftExpWeight:
      if (dimension < 2) {
        throw Error(name() +
                    " needs a formula Concat(f, g) of a scalar f and weights g, "
                    "so of dimension 2 or more; this one has dimension " +
                    std::to_string(dimension));
      }
      return kind == Kind::MaxSumShiftExpWeight ? dimension : dimension - 1;
    case Kind::MaxSumShiftExp:
      return 2 * dimension;
    case Kind::KMin:
    case Kind::ArgKMin:
      return k * dimension;
    case Kind::KMinArgKMin:
      return 2 * k * dimension;
    default:
      return dimension;
  }
}

bool Reduction::takes_k() const {
  return kind == Kind::KMin || kind == Kind::ArgKMin || kind == Kind::KMinArgKMin;
}

void Reduction::set_accumulation(const std::string& scheme, const std::string& dtype_acc) {
  if (scheme == "auto" || scheme == "block_sum") {
    sum_scheme = SumScheme::Block;
  } else if (scheme == "direct_sum") {
    sum_scheme = SumScheme::Direct;
  } else if (scheme == "kahan_scheme") {
    sum_scheme = SumScheme::Kahan;
  } else {
    throw Error("unknown sum_scheme '" + scheme +
                "' (known: block_sum, the default; direct_sum; kahan_scheme)");
  }
  if (dtype_acc == "auto" || dtype_acc == "float32") {
    double_tiles = false;
  } else if (dtype_acc == "float64") {
    double_tiles = true;
  } else {
    throw Error("unknown dtype_acc '" + dtype_acc +
                "' (known: auto, float32, float64; the totals are double whatever it is)");
  }
  require_scheme_fits();
}

void Reduction::require_scheme_fits() const {
  if (kind != Kind::Sum && sum_scheme != SumScheme::Block) {
    throw Error("the sum_scheme " + sum_scheme_name() + " applies to the Sum reduction only, not " +
                name() + " (whose state is kept in double already)");
  }
}

std::string Reduction::sum_scheme_name() const {
  switch (sum_scheme) {
    case SumScheme::Direct:
      return "direct_sum";
    case SumScheme::Kahan:
      return "kahan_scheme";
    default:
      return "block_sum";
  }
}

bool Reduction::weighted() const {
  return kind == Kind::SumSoftMaxWeight || kind == Kind::LogSumExpWeight ||
         kind == Kind::MaxSumShiftExpWeight;
}

bool Reduction::has_indices() const {
  return kind == Kind::ArgMin || kind == Kind::ArgMax || kind == Kind::MinArgMin ||
         kind == Kind::MaxArgMax || kind == Kind::ArgKMin || kind == Kind::KMinArgKMin;
}

}  // namespace kinterp
