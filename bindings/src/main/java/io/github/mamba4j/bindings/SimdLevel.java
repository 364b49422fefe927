package io.github.mamba4j.bindings;

/** CPU vector instruction level used by the CPU kernels (mamba4j_simd). */
public enum SimdLevel {
    SCALAR, AVX2, AVX512
}
