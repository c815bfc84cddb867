#pragma once
#include <mutex>

#include <oneapi/tbb/enumerable_thread_specific.h>

#include "model/nn/aligned.hpp"
#include "model/nn/kernels/simd_kernels.hpp"
#include "model/nn/layer.hpp"

namespace nn {

// How the products (forward, kernel gradient, dL/dx) run: OpenBLAS's SGEMM, or our vector kernel where its
// registers are wider than those of the kernels OpenBLAS runs (a machine that pins OpenBLAS to an AVX2 core on an
// AVX-512 CPU).
enum class DenseProduct { automatic, blas, own_kernels };

// Whether `automatic` takes our kernels: only when they are wider (dense1 of LeNet at batch 128 on an AMD EPYC
// Zen 5 with OpenBLAS pinned to Haswell: 2.05 -> 1.45 ms on 2 threads; OpenBLAS's own AVX-512 cores beat ours).
bool own_kernels_are_wider(std::size_t own_lanes, std::size_t blas_lanes);

// Fully connected: y = x · kernel + bias, kernel (inputs, units) as in Keras. Input must be flat.
class Dense : public Layer {
 public:
  Dense(Shape input_shape, std::size_t units, DenseProduct product = DenseProduct::automatic);
  std::string type() const override { return "dense"; }
  bool predicts_concurrently() const override { return true; }
  std::string implementation() const override;
  void forward(const Tensor& x, Tensor& y, const PassContext& context) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor& dx, bool want_dx) override;
  std::vector<Parameter> parameters() override {
    allocate();
    return {{"kernel", &kernel_, &kernel_grad_}, {"bias", &bias_, &bias_grad_}};
  }
  std::size_t parameter_count() const override { return inputs_ * units_ + units_; }
  void initialize(std::mt19937_64& rng) override;
  double forward_flops() const override { return 2.0 * static_cast<double>(inputs_ * units_); }

 private:
  void allocate();
  void pad_last_columns(const float* matrix, std::size_t rows, AlignedFloats& padded) const;
  // last_columns_ and last_bias_ brought up to date with the kernel and bias: written only where they differ,
  // under a lock, so that inference passes may run at once.
  void refresh_last_columns();
  bool holds_last_columns(const float* matrix, std::size_t rows, const AlignedFloats& padded) const;
  void product_by_own_kernels(std::size_t rows, const simd::NarrowLhs& a, const float* b, const float* b_last,
                              const float* bias, const float* bias_last, float* c) const;
  void input_gradient_by_own_kernels(const Tensor& dy, std::size_t batch, Tensor& dx);
  std::size_t inputs_, units_;
  Tensor kernel_, bias_, kernel_grad_, bias_grad_;
  const simd::Kernels* kernels_ = nullptr;  // set: the products (forward, kernel gradient, dL/dx) run in our kernels
  // The kernel's, bias's and dL/dy's columns past the last whole register, zero-padded to one register a row.
  AlignedFloats last_columns_, last_bias_, last_gradient_columns_;
  AlignedFloats transposed_gradient_;  // dyᵀ, for dL/dx by our kernels
  oneapi::tbb::enumerable_thread_specific<AlignedFloats> input_gradient_rows_;  // each thread's rows of dxᵀ
  std::mutex last_columns_mutex_;
};

}  // namespace nn
