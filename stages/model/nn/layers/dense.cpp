#include "model/nn/layers/dense.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include <xtensor-blas/xblas.hpp>
#include <xtensor/xreducer.hpp>

#include "model/nn/gemm.hpp"
#include "model/nn/layer_registry.hpp"
#include "model/nn/parallel.hpp"

namespace nn {

namespace {
// Tasks are fixed slices (results do not depend on the thread count) big enough to be worth a task: about 2 M
// multiply-adds, so LeNet's dense1 at batch 128 splits in two and dense2 not at all.
constexpr std::size_t kMinMultiplyAddsPerTask = std::size_t{1} << 21;
// Rows of the kernel per block of our kernels' product: 96 columns of 512 rows are 192 KB (384 and 768 measured
// the same; no blocks, 10-30% slower).
constexpr std::size_t kDepthBlock = 512;
std::size_t slice_for(std::size_t multiply_adds_per_item, std::size_t at_least) {
  return std::max(at_least, (kMinMultiplyAddsPerTask + multiply_adds_per_item - 1) / multiply_adds_per_item);
}
// b = aᵀ for a (rows × columns, rows `a_stride` apart); b's rows are `b_stride` apart, each written in order.
void transpose(const float* a, std::size_t rows, std::size_t columns, std::size_t a_stride, float* b,
               std::size_t b_stride) {
  for (std::size_t c = 0; c < columns; ++c)
    for (std::size_t r = 0; r < rows; ++r) b[c * b_stride + r] = a[r * a_stride + c];
}
}  // namespace

bool own_kernels_are_wider(std::size_t own_lanes, std::size_t blas_lanes) { return own_lanes > blas_lanes; }

Dense::Dense(Shape input_shape, std::size_t units, DenseProduct product)
    : Layer(std::move(input_shape)), units_(units) {
  if (input_shape_.size() != 1)
    throw std::invalid_argument("dense needs a flat input, got " + shape_string(input_shape_) +
                                "; add {flatten: {}} before it");
  if (units == 0) throw std::invalid_argument("dense units must be positive");
  inputs_ = input_shape_[0];
  output_shape_ = {units_};
  const simd::Kernels& own = simd::kernels();
  if (product == DenseProduct::own_kernels ||
      (product == DenseProduct::automatic && own_kernels_are_wider(own.lanes, blas_lanes())))
    kernels_ = &own;
}

std::string Dense::implementation() const {
  return kernels_ ? std::string(kernels_->name) + " kernels" : std::string("SGEMM");
}

void Dense::allocate() {
  if (kernel_.dimension() != 0) return;  // a default xarray is a 0-d scalar, not an empty tensor
  kernel_ = Tensor::from_shape({inputs_, units_});
  kernel_.fill(0);
  bias_ = Tensor::from_shape({units_});
  bias_.fill(0);
  kernel_grad_ = kernel_;
  bias_grad_ = bias_;
}

void Dense::initialize(std::mt19937_64& rng) {
  allocate();
  glorot_uniform(kernel_, inputs_, units_, rng);
  bias_.fill(0);
}

void Dense::forward(const Tensor& x, Tensor& y, const PassContext&) {
  allocate();
  const std::size_t batch = x.shape()[0];
  ensure_shape(y, {batch, units_});
  // Tasks take rows of the batch: every operand is contiguous and goes to xtensor-blas in place, and the GEMMs stay
  // large (dense1, batch 128, 2 threads: 1.41 → 1.21 ms against 64-column blocks).
  const auto kernel = matrix(kernel_.data(), inputs_, units_);
  if (kernels_ && batch > 1) {
    refresh_last_columns();
    for_each_slice(batch, slice_for(inputs_ * units_, 64), [&](std::size_t, std::size_t first, std::size_t last) {
      const simd::NarrowLhs rows_of_x{x.data() + first * inputs_, inputs_, 1, 0, inputs_, 1};
      product_by_own_kernels(last - first, rows_of_x, kernel_.data(), last_columns_.data(), bias_.data(),
                             last_bias_.data(), y.data() + first * units_);
    });
    return;
  }
  for_each_slice(batch, slice_for(inputs_ * units_, 64), [&](std::size_t, std::size_t first, std::size_t last) {
    auto out = matrix(y.data() + first * units_, last - first, units_);
    repeat_rows(bias_.data(), units_, last - first, out.data());
    if (last - first == 1) {  // one image (a service's request): GEMM would first pack the whole kernel, GEMV reads it
      auto row = flat(out.data(), units_);
      xt::blas::gemv(kernel, flat(x.data() + first * inputs_, inputs_), row, true, 1.0f, 1.0f);
      return;
    }
    xt::blas::gemm(matrix(x.data() + first * inputs_, last - first, inputs_), kernel, out, false, false, 1.0f, 1.0f);
  });
}

// The columns of a (rows, units) matrix past its last whole register, zero-padded to one register per row.
void Dense::pad_last_columns(const float* matrix, std::size_t rows, AlignedFloats& padded) const {
  const std::size_t lanes = kernels_->lanes, whole = units_ - units_ % lanes, rest = units_ - whole;
  if (rest == 0) return;
  padded.assign(rows * lanes, 0.0f);
  for (std::size_t i = 0; i < rows; ++i) std::copy_n(matrix + i * units_ + whole, rest, padded.data() + i * lanes);
}

// Whether `padded` holds those columns of `matrix`, bit for bit (a NaN weight is no change).
bool Dense::holds_last_columns(const float* matrix, std::size_t rows, const AlignedFloats& padded) const {
  const std::size_t lanes = kernels_->lanes, whole = units_ - units_ % lanes, rest = units_ - whole;
  if (rest == 0) return true;
  if (padded.size() != rows * lanes) return false;
  for (std::size_t i = 0; i < rows; ++i)
    if (std::memcmp(matrix + i * units_ + whole, padded.data() + i * lanes, rest * sizeof(float)) != 0) return false;
  return true;
}

void Dense::refresh_last_columns() {
  const std::lock_guard<std::mutex> lock(last_columns_mutex_);
  if (!holds_last_columns(kernel_.data(), inputs_, last_columns_))
    pad_last_columns(kernel_.data(), inputs_, last_columns_);
  if (!holds_last_columns(bias_.data(), 1, last_bias_)) pad_last_columns(bias_.data(), 1, last_bias_);
}

// c (rows, units) = a · b, from `bias` where given: the whole registers of b's columns (its rows `units_` apart)
// read b in place, the rest its zero-padded copy `b_last` (and `bias_last`'s). The depth goes in blocks, each
// added to c, so that the rows of b a block of rows of c reads stay in L2 (dense1's 2450 x 96 columns would be
// 940 KB): dense1's forward, Zen 5, 1.39 -> 0.97-1.07 ms on 2 threads, 2.1-2.3 -> 1.87-1.98 ms on 1. (Both
// callers' a is one run of `depth` values a row: outer_count 1.)
void Dense::product_by_own_kernels(std::size_t rows, const simd::NarrowLhs& a, const float* b, const float* b_last,
                                   const float* bias, const float* bias_last, float* c) const {
  const std::size_t lanes = kernels_->lanes, whole = units_ - units_ % lanes, depth = a.inner_count;
  for (std::size_t first = 0; first < depth; first += kDepthBlock) {
    simd::NarrowLhs block = a;
    block.data += first * a.inner_stride;
    block.inner_count = std::min(kDepthBlock, depth - first);
    const bool onto_c = first > 0;
    if (whole > 0)
      kernels_->narrow_gemm(rows, whole / lanes, block, b + first * units_, units_,
                            simd::NarrowOut{c, units_, whole, onto_c, onto_c ? nullptr : bias});
    if (whole < units_)
      kernels_->narrow_gemm(rows, 1, block, b_last + first * lanes, lanes,
                            simd::NarrowOut{c + whole, units_, units_ - whole, onto_c, onto_c ? nullptr : bias_last});
  }
}

void Dense::backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor& dx, bool want_dx) {
  allocate();
  const std::size_t batch = x.shape()[0];
  // dL/dkernel = xᵀ · dy sums over the batch, so its tasks take rows of the kernel instead (each owns its outputs,
  // nothing to reduce). Their left operand, columns of x, is strided: xtensor-blas would copy it, nn::gemm does not.
  if (kernels_) pad_last_columns(dy.data(), batch, last_gradient_columns_);
  for_each_slice(inputs_, slice_for(batch * units_, 64), [&](std::size_t, std::size_t first, std::size_t last) {
    if (kernels_) {  // A(r, l) = x[l][first + r]
      const simd::NarrowLhs columns_of_x{x.data() + first, 1, 1, 0, batch, inputs_};
      return product_by_own_kernels(last - first, columns_of_x, dy.data(), last_gradient_columns_.data(), nullptr,
                                    nullptr, kernel_grad_.data() + first * units_);
    }
    gemm(true, false, last - first, units_, batch, 1.0f, x.data() + first, inputs_, dy.data(), units_, 0.0f,
         kernel_grad_.data() + first * units_, units_);
  });
  xt::noalias(flat(bias_grad_.data(), units_)) =
      xt::sum(matrix(dy.data(), batch, units_), {0}, xt::evaluation_strategy::immediate);
  if (!want_dx) return;
  ensure_shape(dx, {batch, inputs_});
  if (kernels_) return input_gradient_by_own_kernels(dy, batch, dx);
  const auto kernel = matrix(kernel_.data(), inputs_, units_);
  for_each_slice(batch, slice_for(inputs_ * units_, 64), [&](std::size_t, std::size_t first, std::size_t last) {
    auto grad_in = matrix(dx.data() + first * inputs_, last - first, inputs_);
    xt::blas::gemm(matrix(dy.data() + first * units_, last - first, units_), kernel, grad_in, false, true, 1.0f, 0.0f);
  });
}

// dxᵀ = kernel · dyᵀ, so that the kernel is the left operand our kernels read in place (dx = dy · kernelᵀ would
// need the kernel transposed, 4.9 MB for LeNet's dense1, at every step); dyᵀ, zero-padded to whole registers, is
// 256 KB there. Tasks take rows of the kernel, whose rows of dxᵀ each thread turns into columns of dx. Dense1's
// backward, batch 128, Zen 5 with OpenBLAS pinned to Haswell: 5.2-5.5 -> 3.8-4.2 ms on 1 thread, 2.7 -> 2.1 on 2.
void Dense::input_gradient_by_own_kernels(const Tensor& dy, std::size_t batch, Tensor& dx) {
  const std::size_t lanes = kernels_->lanes, columns = simd::round_up(batch, lanes);
  transposed_gradient_.assign(units_ * columns, 0.0f);
  transpose(dy.data(), batch, units_, units_, transposed_gradient_.data(), columns);
  for_each_slice(inputs_, slice_for(batch * units_, 64), [&](std::size_t, std::size_t first, std::size_t last) {
    float* rows = at_least(input_gradient_rows_.local(), (last - first) * columns);
    for (std::size_t depth = 0; depth < units_; depth += kDepthBlock) {
      const simd::NarrowLhs kernel_rows{kernel_.data() + first * units_ + depth, units_, 1, 0,
                                        std::min(kDepthBlock, units_ - depth), 1};
      kernels_->narrow_gemm(last - first, columns / lanes, kernel_rows, transposed_gradient_.data() + depth * columns,
                            columns, simd::NarrowOut{rows, columns, columns, depth > 0, nullptr});
    }
    transpose(rows, last - first, batch, columns, dx.data() + first, inputs_);
  });
}

namespace {

LayerSpec dense_spec() {
  LayerSpec spec;
  spec.type = "dense";
  spec.summary = "fully connected: y = x · kernel + bias (Glorot-uniform kernel, zero bias); needs a flat input";
  spec.params = {pipeline::required_param("units", pipeline::ParamType::Int, "outputs per sample").min(1)};
  spec.create = [](const Shape& input, const pipeline::Params& p) {
    return std::make_unique<Dense>(input, static_cast<std::size_t>(p.get_int("units")));
  };
  return spec;
}
}  // namespace

}  // namespace nn

PIPELINE_REGISTER_LAYER(nn::dense_spec())
