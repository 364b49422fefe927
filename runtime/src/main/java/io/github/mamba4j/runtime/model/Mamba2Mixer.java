package io.github.mamba4j.runtime.model;

import io.github.mamba4j.runtime.config.Mixer;
import io.github.mamba4j.runtime.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Mamba-2: zxBCdt = in_proj(xn) [B·L, E + 2GN+E+H], one matmul (z and xBCdt are column
 * slices of it, read with strides); xBC = silu(conv1d(xBC));
 * (x, B, C) = split(xBC, [E, GN, GN]); y = ssd(x, dt, A, B, C, D); y = rmsnorm_g(y ⊙ silu(z))
 * · w over groups of normGroupSize; residual += out_proj(y).
 */
public record Mamba2Mixer(Mixer.Mamba2 spec, int hidden, Tensor inProj, Tensor inBias, Tensor convW, Tensor convB,
                          Tensor dtBias, Tensor aLog, Tensor d, Tensor norm, Tensor outProj, Tensor outBias) implements Layer {

    @Override
    public void forward(Step s, MemorySegment xn, MemorySegment residual, LayerCache cache) {
        var k = s.kernels();
        var c = (LayerCache.Ssm) cache;
        int rows = s.rows(), L = s.seqlen(), D = hidden, E = spec.inner(), GN = spec.groups() * spec.state();
        int C = spec.convChannels(), W = E + C + spec.heads(); // zxBCdt width
        MemorySegment zxBCdt = s.floats((long) rows * W);
        k.matmul(rows, W, D, xn, D, inProj, inBias, zxBCdt, W, false);
        MemorySegment z = zxBCdt, xBCdt = zxBCdt.asSlice((long) E * Float.BYTES);
        MemorySegment xBC = s.floats((long) rows * C);
        k.conv1d(s.batch(), L, C, spec.convWidth(), xBCdt, (long) L * W, W, convW, convB, c.conv(), s.slots(), xBC,
                (long) L * C, C, true);
        MemorySegment y = s.floats((long) rows * E);
        long xB = (long) L * C;
        k.ssd(s.batch(), L, spec.heads(), spec.headDim(), spec.groups(), spec.state(), spec.chunkSize(),
                new Kernels.Strided(xBC, xB, C), new Kernels.Strided(xBCdt.asSlice((long) C * Float.BYTES), (long) L * W, W),
                dtBias, aLog, new Kernels.Strided(xBC.asSlice((long) E * Float.BYTES), xB, C),
                new Kernels.Strided(xBC.asSlice((long) (E + GN) * Float.BYTES), xB, C), d, null, spec.dtMin(), spec.dtMax(),
                c.ssm(), s.slots(), new Kernels.Strided(y, (long) L * E, E));
        MemorySegment yn = s.floats((long) rows * E);
        k.gatedRmsnorm(rows, E, spec.normGroupSize(), y, E, z, W, norm, yn, E, spec.normEps());
        k.matmul(rows, D, E, yn, E, outProj, outBias, residual, D, true);
    }

    @Override
    public LayerCache newCache(Arena arena, int slots, int capacity) {
        long conv = (long) (spec.convWidth() - 1) * spec.convChannels();
        long ssm = (long) spec.heads() * spec.headDim() * spec.state();
        return new LayerCache.Ssm(arena.allocate(slots * conv * Float.BYTES, 64), conv,
                arena.allocate(slots * ssm * Float.BYTES, 64), ssm);
    }
}
