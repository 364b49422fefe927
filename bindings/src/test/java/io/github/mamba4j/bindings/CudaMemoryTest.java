package io.github.mamba4j.bindings;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable;

/**
 * DeviceBuffer, Event and CUDA errors on CUDA device 0 (the contract of
 * {@link DeviceBufferTest}, on device memory). Runs only with MAMBA4J_TEST_CUDA=1, and
 * then fails without a device.
 */
@EnabledIfEnvironmentVariable(named = CudaTestSupport.ENV, matches = "1")
class CudaMemoryTest {
    private static Context gpu;

    @BeforeAll
    static void openDevice() {
        gpu = CudaTestSupport.openDevice();
    }

    @AfterAll
    static void closeDevice() {
        if (gpu != null) gpu.close();
    }

    @Test
    void contextIsCuda() {
        assertEquals(Backend.CUDA, gpu.backend());
        assertTrue(Mamba4j.cudaDeviceCount() >= 1);
    }

    @Test
    void roundTrip() {
        DeviceBufferTest.roundTrip(gpu);
    }

    @Test
    void checksArgumentsAndClose() {
        DeviceBufferTest.checksArgumentsAndClose(gpu);
    }

    /** cudaMalloc of 2^60 bytes fails; the library's message reaches Java and the context stays usable. */
    @Test
    void cudaErrorBecomesAnException() {
        var e = DeviceBufferTest.absurdAllocation(gpu);
        assertTrue(e.getMessage().contains("CUDA device 0") || e.getMessage().contains("cudaMalloc"), e.getMessage());
        System.out.println("ok   absurd cudaMalloc: " + e.status() + " \"" + e.getMessage() + "\"");
        DeviceBufferTest.roundTrip(gpu);
    }

    @Test
    void missingDeviceIsNamed() {
        int n = Mamba4j.cudaDeviceCount();
        var e = assertThrows(Mamba4jException.class, () -> Context.cuda(n));
        assertEquals(Status.INVALID_ARGUMENT, e.status());
        assertEquals("mamba4j_context_create: CUDA device " + n + " does not exist (" + n + " visible)", e.getMessage());
    }

    /** Four device-to-device copies of 64 MiB take tens of microseconds at least: the events see them. */
    @Test
    void eventTimingIsPositive() {
        float ms = DeviceBufferTest.timeCopy(gpu, 64L << 20);
        assertTrue(ms > 0, "4 copies of 64 MiB timed at " + ms + " ms");
        System.out.printf("ok   events: 4 device copies of 64 MiB in %.3f ms (%.0f GB/s read+write)%n", ms,
                4 * 2 * (64L << 20) / (ms * 1e6));
    }
}
