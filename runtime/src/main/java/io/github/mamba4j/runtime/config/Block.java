package io.github.mamba4j.runtime.config;

/**
 * One pre-norm residual block: {@code residual += residualScale · mixer(rmsnorm(residual) · norm)},
 * residual kept in fp32. {@code layer} is the checkpoint layer it belongs to (Bamba and
 * Granite layers hold two blocks: the mixer, then the feed-forward).
 */
public record Block(int layer, String norm, Mixer mixer, float residualScale) {}
