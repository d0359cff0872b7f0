#include "TensorDot.hpp"

#include "Builder.hpp"

#include <string>
#include <vector>

namespace kinterp::detail {

namespace {

using Kind = Expr::Kind;
using Node = std::shared_ptr<Expr>;

constexpr long kMaxProducts = 100000;

const char kSignature[] =
    "TensorDot(f, g, Ind(dims of f), Ind(dims of g), Ind(axes of f), Ind(axes of g)) or with "
    "a seventh Ind(permutation)";

long product(const std::vector<int>& sizes) {
  long p = 1;
  for (int size : sizes) p *= size;
  return p;
}

std::string list_text(const std::vector<int>& values) {
  std::string text = "(";
  for (std::size_t k = 0; k < values.size(); ++k) {
    text += (k ? ", " : "") + std::to_string(values[k]);
  }
  return text + ")";
}

class Expansion {
 public:
  Expansion(const Expr& call, const Source& source)
      : call_(call), source_(source), b_(call, source, "TensorDot") {}

  Expr run() {
    const auto& args = call_.args;
    if (args.size() != 6 && args.size() != 7) {
      fail(call_.position, "TensorDot takes 6 or 7 arguments, as in " + std::string(kSignature) +
                               ", but has " + std::to_string(args.size()));
    }
    const Node &f = args[0], &g = args[1];
    const std::vector<int> dims_f = indices(*args[2], 1), dims_g = indices(*args[3], 1);
    const std::vector<int> axes_f = indices(*args[4], 0), axes_g = indices(*args[5], 0);
    require_shape(*f, *args[2], dims_f, "f");
    require_shape(*g, *args[3], dims_g, "g");
    require_axes(*args[4], axes_f, dims_f, "f");
    require_axes(*args[5], axes_g, dims_g, "g");
    if (axes_f.size() != axes_g.size()) {
      fail(args[5]->position,
           "TensorDot pairs the axes of f with those of g: " + list_text(axes_f) + " and " +
               list_text(axes_g) + " differ in length");
    }
    for (std::size_t k = 0; k < axes_f.size(); ++k) {
      if (dims_f[axes_f[k]] != dims_g[axes_g[k]]) {
        fail(args[5]->position, "TensorDot contracts axis " + std::to_string(axes_f[k]) +
                                    " of f (size " + std::to_string(dims_f[axes_f[k]]) +
                                    ") with axis " + std::to_string(axes_g[k]) + " of g (size " +
                                    std::to_string(dims_g[axes_g[k]]) + "): the sizes differ");
      }
    }
    // The kept axes: f's, then g's, as (tensor, axis).
    std::vector<std::pair<int, int>> kept;
    for (int a = 0; a < int(dims_f.size()); ++a)
      if (!contains(axes_f, a)) kept.emplace_back(0, a);
    for (int a = 0; a < int(dims_g.size()); ++a)
      if (!contains(axes_g, a)) kept.emplace_back(1, a);
    std::vector<int> position(kept.size());
    for (std::size_t k = 0; k < kept.size(); ++k) position[k] = int(k);
    if (args.size() == 7) {
      position = indices(*args[6], 0);
      require_permutation(*args[6], position, kept.size());
    }
    // Output axis i holds kept axis k with position[k] = i.
    std::vector<int> output_axis(kept.size());
    for (std::size_t k = 0; k < kept.size(); ++k) output_axis[position[k]] = int(k);
    std::vector<int> output_dims, contracted_dims;
    for (int k : output_axis) {
      const auto& [tensor, axis] = kept[k];
      output_dims.push_back(tensor == 0 ? dims_f[axis] : dims_g[axis]);
    }
    for (int axis : axes_f) contracted_dims.push_back(dims_f[axis]);
    const long outputs = product(output_dims), terms = product(contracted_dims);
    if (double(outputs) * double(terms) > kMaxProducts) {
      fail(call_.position, "this TensorDot expands into " +
                               number(double(outputs) * double(terms)) +
                               " products of components, more than " +
                               std::to_string(kMaxProducts) + "; write a smaller contraction");
    }
    const std::vector<long> strides_f = strides(dims_f), strides_g = strides(dims_g);
    std::vector<Node> components;
    std::vector<int> out_index(output_dims.size()), sum_index(contracted_dims.size());
    for (long o = 0; o < outputs; ++o) {
      unravel(o, output_dims, out_index);
      // The offsets of f and g from the kept axes.
      long base_f = 0, base_g = 0;
      for (std::size_t i = 0; i < output_axis.size(); ++i) {
        const auto& [tensor, axis] = kept[output_axis[i]];
        (tensor == 0 ? base_f : base_g) +=
            out_index[i] * (tensor == 0 ? strides_f[axis] : strides_g[axis]);
      }
      Node total;
      for (long c = 0; c < terms; ++c) {
        unravel(c, contracted_dims, sum_index);
        long at_f = base_f, at_g = base_g;
        for (std::size_t k = 0; k < sum_index.size(); ++k) {
          at_f += sum_index[k] * strides_f[axes_f[k]];
          at_g += sum_index[k] * strides_g[axes_g[k]];
        }
        total = b_.add(total, b_.mul(b_.elem(f, int(at_f)), b_.elem(g, int(at_g))));
      }
      components.push_back(b_.or_zero(total, 1));
    }
    return b_.finish(b_.concat(components, 0, components.size()));
  }

 private:
  [[noreturn]] void fail(std::size_t position, const std::string& message) const {
    detail::fail(source_, position, message);
  }

  // The integers of an Ind(...) argument, each at least `least`.
  std::vector<int> indices(const Expr& arg, int least) const {
    if (arg.kind != Kind::Call || arg.name != "Ind") {
      fail(arg.begin, "TensorDot's shapes and axes are lists Ind(n, ...) or (n, ...), as in " +
                          std::string(kSignature) + "; found " + quoted(text_of(source_, arg)));
    }
    std::vector<int> values;
    for (const auto& value : arg.args) {
      if (value->kind != Kind::Number || !value->integer || value->number < least ||
          value->number > kMaxDimension) {
        fail(value->begin, "TensorDot's list holds integers of at least " + std::to_string(least) +
                               " here; found " + quoted(text_of(source_, *value)));
      }
      values.push_back(static_cast<int>(value->number));
    }
    return values;
  }

  void require_shape(const Expr& tensor, const Expr& arg, const std::vector<int>& dims,
                     const char* name) const {
    if (dims.empty() || product(dims) != tensor.dimension) {
      fail(arg.begin, std::string("TensorDot's shape of ") + name + ", " + list_text(dims) +
                          ", holds " + std::to_string(dims.empty() ? 0 : product(dims)) +
                          " components, but " + name + " = " + quoted(text_of(source_, tensor)) +
                          " has dimension " + std::to_string(tensor.dimension));
    }
  }

  void require_axes(const Expr& arg, const std::vector<int>& axes, const std::vector<int>& dims,
                    const char* name) const {
    for (std::size_t k = 0; k < axes.size(); ++k) {
      if (axes[k] >= int(dims.size()) || contains({axes.begin(), axes.begin() + k}, axes[k])) {
        fail(arg.begin, std::string("TensorDot's axes of ") + name + ", " + list_text(axes) +
                            ", must be distinct axes of its shape " + list_text(dims) + " (0 to " +
                            std::to_string(dims.size() - 1) + ")");
      }
    }
  }

  void require_permutation(const Expr& arg, const std::vector<int>& position,
                           std::size_t kept) const {
    std::vector<bool> seen(kept, false);
    bool valid = position.size() == kept;
    for (int p : position) {
      valid = valid && p < int(kept) && !seen[p];
      if (valid) seen[p] = true;
    }
    if (!valid) {
      fail(arg.begin, "TensorDot's permutation " + list_text(position) +
                          " must order the result's " + std::to_string(kept) +
                          " axes: each of 0 to " + std::to_string(int(kept) - 1) + " once");
    }
  }

  static bool contains(const std::vector<int>& values, int value) {
    for (int v : values)
      if (v == value) return true;
    return false;
  }

  // Row-major strides of a tensor of shape `dims`.
  static std::vector<long> strides(const std::vector<int>& dims) {
    std::vector<long> s(dims.size(), 1);
    for (int a = int(dims.size()) - 2; a >= 0; --a) s[a] = s[a + 1] * dims[a + 1];
    return s;
  }

  // The row-major multi-index of `flat` in a tensor of shape `dims`.
  static void unravel(long flat, const std::vector<int>& dims, std::vector<int>& index) {
    for (int a = int(dims.size()) - 1; a >= 0; --a) {
      index[a] = int(flat % dims[a]);
      flat /= dims[a];
    }
  }

  const Expr& call_;
  const Source& source_;
  Builder b_;
};

}  // namespace

bool is_tensor_dot(const Expr& call) {
  return call.kind == Kind::Call && call.name == "TensorDot";
}

Expr expand_tensor_dot(const Expr& call, const Source& source) {
  return Expansion(call, source).run();
}

}  // namespace kinterp::detail
