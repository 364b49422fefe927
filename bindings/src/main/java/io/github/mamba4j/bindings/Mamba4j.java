package io.github.mamba4j.bindings;

import io.github.mamba4j.bindings.generated.Mamba4jH;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** Library-wide queries and settings: version, backends, SIMD level, threads, devices. */
public final class Mamba4j {
    private Mamba4j() {}

    /** Version of the loaded native library. */
    public static String version() {
        NativeLibrary.load();
        return NativeLibrary.version();
    }

    public static boolean hasBackend(Backend backend) {
        NativeLibrary.load();
        return Mamba4jH.mamba4j_has_backend(backend.code()) == 1;
    }

    /** The widest SIMD level this CPU supports. */
    public static SimdLevel simdSupported() {
        return simd(0);
    }

    /** The SIMD level the CPU kernels use now. */
    public static SimdLevel simdInUse() {
        return simd(1);
    }

    /** Lowers (or restores) the SIMD level, for tests of the fallback paths. */
    public static void setSimd(SimdLevel level) {
        NativeLibrary.load();
        Native.check(Mamba4jH.mamba4j_cpu_set_simd(level.ordinal()));
    }

    public static void setThreads(int threads) {
        NativeLibrary.load();
        Native.check(Mamba4jH.mamba4j_cpu_set_threads(threads));
    }

    public static int threads() {
        return intQuery(0);
    }

    /** CUDA devices visible (0 without a GPU, a driver, or the CUDA backend). */
    public static int cudaDeviceCount() {
        return intQuery(1);
    }

    private static SimdLevel simd(int which) {
        NativeLibrary.load();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment supported = arena.allocate(ValueLayout.JAVA_INT), inUse = arena.allocate(ValueLayout.JAVA_INT);
            Native.check(Mamba4jH.mamba4j_cpu_simd(supported, inUse));
            return SimdLevel.values()[(which == 0 ? supported : inUse).get(ValueLayout.JAVA_INT, 0)];
        }
    }

    private static int intQuery(int which) {
        NativeLibrary.load();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.JAVA_INT);
            Native.check(which == 0 ? Mamba4jH.mamba4j_cpu_threads(out) : Mamba4jH.mamba4j_cuda_device_count(out));
            return out.get(ValueLayout.JAVA_INT, 0);
        }
    }
}
