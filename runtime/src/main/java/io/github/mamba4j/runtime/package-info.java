/**
 * The mamba4j runtime: off-heap tensors, checkpoint loading, model families, the layer
 * schedule of a hybrid, recurrent state caches and generation (DESIGN.md §2, §4).
 * Not written yet: see the runtime issue. Layers will call kernels only through
 * {@code io.github.mamba4j.bindings}.
 */
package io.github.mamba4j.runtime;
