package io.github.mamba4j.bindings;

import static org.junit.jupiter.api.Assertions.fail;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * Shared by the CUDA tests, which run only with MAMBA4J_TEST_CUDA=1 (ci/gpu-test.sh sets
 * it on a GPU host): opening the device, test data in a context's memory, tolerances.
 */
final class CudaTestSupport {
    private CudaTestSupport() {}

    static final String ENV = "MAMBA4J_TEST_CUDA";

    /**
     * Context.cuda(0), or a test failure that says why there is none: with
     * MAMBA4J_TEST_CUDA=1 a missing device is a failure, never a skip.
     */
    static Context openDevice() {
        String library = NativeLibrary.load().toString();
        if (!Mamba4j.hasBackend(Backend.CUDA))
            fail(ENV + "=1 but there is no CUDA device to test: the loaded library " + library
                    + " was built without the CUDA backend");
        if (Mamba4j.cudaDeviceCount() == 0)
            fail(ENV + "=1 but no CUDA device is visible (no GPU, or no NVIDIA driver loaded); library " + library);
        try {
            return Context.cuda(0);
        } catch (Mamba4jException e) {
            return fail(ENV + "=1 but CUDA device 0 cannot be opened: " + e.getMessage(), e);
        }
    }

    /*
     * NMSE thresholds, those of native/tests/gpu_test_kernels.cpp (tol, state_tol): there
     * against an fp64 reference, here against the CPU backend in fp32 on the same inputs,
     * whose own error (below 1e-10, see the CPU tests) is negligible beside them. Inputs are
     * rounded to the dtype first, so both backends see the same values and the bf16 error
     * is the kernel's: one rounding of each output (2.8e-6 NMSE measured; threshold about
     * twice that), plus, on the tensor-core paths (SSD chunked, flash attention, matmul),
     * the rounding of the matrix operands. fp32 kernels compute in fp32 on both backends.
     */
    static double tol(DType dt, boolean matrixPath) {
        if (dt == DType.BF16) return matrixPath ? 1.2e-5 : 6e-6;
        if (dt == DType.F16) return matrixPath ? 2e-7 : 1e-7;
        return 1e-8;
    }

    /** Recurrent states are fp32 whatever the dtype; only the chunked SSD rounds on the way (matrix operands). */
    static double stateTol(DType dt, boolean matrixPath) {
        if (!matrixPath || dt == DType.F32) return 1e-9;
        return dt == DType.BF16 ? 6e-6 : 1e-7;
    }

    /** The values nearest to v that dtype holds (round to nearest even), so every backend sees the same inputs. */
    static float[] roundTo(float[] v, DType dt) {
        if (dt == DType.F32) return v.clone();
        if (dt != DType.BF16) throw new IllegalArgumentException("only F32 and BF16 here, got " + dt);
        float[] r = new float[v.length];
        for (int i = 0; i < v.length; i++) r[i] = Float.intBitsToFloat(DenseKernelsTestSupport.bf16(v[i]) << 16);
        return r;
    }

    /** NMSE of got against want; non-finite values (an unwritten, NaN-poisoned output) give infinity. */
    static double nmse(float[] got, float[] want) {
        return DenseKernelsTestSupport.nmse(MemorySegment.ofArray(got), MemorySegment.ofArray(want));
    }

    static float[] concat(float[]... parts) {
        int n = 0;
        for (float[] p : parts) n += p.length;
        float[] all = new float[n];
        int at = 0;
        for (float[] p : parts) {
            System.arraycopy(p, 0, all, at, p.length);
            at += p.length;
        }
        return all;
    }

    /**
     * Test tensors in one context's memory ({@link DeviceBuffer}: device memory on CUDA,
     * natively allocated host memory on the CPU), so one test body runs on both backends.
     * Closes every buffer it made.
     */
    static final class Memory implements AutoCloseable {
        final Context ctx;
        private final Arena host = Arena.ofConfined();
        private final List<DeviceBuffer> buffers = new ArrayList<>();

        Memory(Context ctx) {
            this.ctx = ctx;
        }

        /** A copy of v in dtype dt (v must already be exact in dt: see {@link #roundTo}). */
        DeviceBuffer put(float[] v, DType dt) {
            requireF32OrBf16(dt);
            MemorySegment s = host.allocate((long) v.length * dt.bytes());
            for (int i = 0; i < v.length; i++) {
                if (dt == DType.F32) s.setAtIndex(ValueLayout.JAVA_FLOAT, i, v[i]);
                else s.setAtIndex(ValueLayout.JAVA_SHORT, i, DenseKernelsTestSupport.bf16(v[i]));
            }
            return keep(DeviceBuffer.of(ctx, s));
        }

        DeviceBuffer putInts(int... v) {
            return keep(DeviceBuffer.of(ctx, host.allocateFrom(ValueLayout.JAVA_INT, v)));
        }

        /** n elements of dt, all NaN (bytes 0xFF: NaN in f32 and bf16), so an element the kernel skips fails. */
        DeviceBuffer output(long n, DType dt) {
            MemorySegment s = host.allocate(n * dt.bytes());
            s.fill((byte) 0xFF);
            return keep(DeviceBuffer.of(ctx, s));
        }

        /** The buffer's values as floats (waits for the kernels queued before: copies to the host do). */
        float[] get(DeviceBuffer b, DType dt) {
            requireF32OrBf16(dt);
            MemorySegment s = host.allocate(b.byteSize());
            b.copyTo(s);
            if (dt == DType.F32) return s.toArray(ValueLayout.JAVA_FLOAT);
            short[] h = s.toArray(ValueLayout.JAVA_SHORT);
            float[] v = new float[h.length];
            for (int i = 0; i < h.length; i++) v[i] = Float.intBitsToFloat(h[i] << 16);
            return v;
        }

        private static void requireF32OrBf16(DType dt) {
            if (dt == DType.F16) throw new IllegalArgumentException("only F32 and BF16 here, got " + dt);
        }

        private DeviceBuffer keep(DeviceBuffer b) {
            buffers.add(b);
            return b;
        }

        @Override
        public void close() {
            for (int i = buffers.size() - 1; i >= 0; i--) buffers.get(i).close();
            host.close();
        }
    }
}
