package io.github.mamba4j.bindings;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LibraryTest {
    @Test
    void reportsVersionAndCapabilities() {
        assertFalse(Mamba4j.version().isBlank());
        assertTrue(Mamba4j.hasBackend(Backend.CPU));
        assertTrue(Mamba4j.simdInUse().compareTo(Mamba4j.simdSupported()) <= 0);
        assertTrue(Mamba4j.threads() >= 1);
        assertTrue(Mamba4j.cudaDeviceCount() >= 0);
    }

    @Test
    void badSettingsGiveNativeMessages() {
        var e = assertThrows(Mamba4jException.class, () -> Mamba4j.setThreads(0));
        assertEquals("mamba4j_cpu_set_threads: threads must be > 0, got 0", e.getMessage());
    }

    @Test
    void cudaWithoutGpuSaysSo() {
        if (Mamba4j.cudaDeviceCount() > 0) return; // covered by ci/gpu-test.sh on a GPU host
        var e = assertThrows(Mamba4jException.class, () -> Context.cuda(0));
        assertNotEquals(Status.OK, e.status());
        assertTrue(e.getMessage().contains(Mamba4j.hasBackend(Backend.CUDA) ? "no CUDA device" : "without the CUDA"),
                e.getMessage());
    }

    /** Runs a fresh JVM that loads the library, with the given class path and extra options. */
    private static String loadInFreshJvm(String classPath, String... options) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElseThrow());
        cmd.add("--enable-native-access=ALL-UNNAMED");
        cmd.addAll(Arrays.asList(options));
        cmd.addAll(List.of("-cp", classPath, LoadProbe.class.getName()));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        for (String env : List.of(NativeLibrary.PATH_ENV, NativeLibrary.CLASSIFIER_ENV, NativeDownloader.REPOSITORY_ENV,
                NativeDownloader.CACHE_ENV, NativeDownloader.OFFLINE_ENV, NativeDownloader.TIMEOUT_ENV))
            pb.environment().remove(env);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        return out;
    }

    /** This JVM's class path without any mamba4j native jar. */
    private static String classPathWithoutNatives() {
        return Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
                .filter(e -> !e.contains("mamba4j-native") && !e.replace('\\', '/').contains("native/target"))
                .collect(Collectors.joining(File.pathSeparator));
    }

    @Test
    void missingNativeJarNamesPlatformAndPlacesTried(@TempDir Path cache) throws Exception {
        String out = loadInFreshJvm(classPathWithoutNatives(), "-Dmamba4j.cache=" + cache,
                "-Dmamba4j.classifier=linux-x86_64");
        assertTrue(out.contains("could not be loaded for platform linux-x86_64"), out);
        assertTrue(out.contains("system property mamba4j.library.path (not set)"), out);
        assertTrue(out.contains("natives/linux_64/libmamba4j.so (no mamba4j-native linux-x86_64 jar on the class path)"), out);
        assertTrue(out.contains("set the system property mamba4j.repository (or the environment variable MAMBA4J_REPOSITORY)"),
                out);
    }

    /** First use downloads (from 127.0.0.1) and loads; later uses load from the cache, server gone, online or offline. */
    @Test
    void downloadsLoadsAndThenUsesTheCache(@TempDir Path tmp) throws Exception {
        NativeRelease release = NativeRelease.current();
        String jarName = release.artifactId() + "-" + release.version() + "-linux-x86_64.jar";
        Path built = Path.of(System.getProperty("mamba4j.native.target")).resolve(jarName);
        Path cache = tmp.resolve("cache");
        Path expected = cache.resolve(release.version()).resolve("linux-x86_64").resolve("libmamba4j.so");
        String[] options = {"-Dmamba4j.cache=" + cache, "-Dmamba4j.classifier=linux-x86_64", null};
        try (LocalRepository server = new LocalRepository(tmp.resolve("repo"))) {
            server.put(release.groupId(), release.artifactId(), release.version(), jarName, Files.readAllBytes(built));
            options[2] = "-Dmamba4j.repository=" + server.uri();
            String out = loadInFreshJvm(classPathWithoutNatives(), options);
            assertTrue(out.contains("loaded from " + expected + " version " + release.version()), out);
            assertEquals(1, server.count(jarName));
            out = loadInFreshJvm(classPathWithoutNatives(), options);
            assertTrue(out.contains("loaded from " + expected), out);
            assertEquals(1, server.count(jarName));
        }
        String out = loadInFreshJvm(classPathWithoutNatives(), options);
        assertTrue(out.contains("loaded from " + expected), out);
        out = loadInFreshJvm(classPathWithoutNatives(), options[0], options[1], "-Dmamba4j.offline=true");
        assertTrue(out.contains("loaded from " + expected), out);
    }

    @Test
    void offlineWithEmptyCacheSaysSo(@TempDir Path cache) throws Exception {
        String out = loadInFreshJvm(classPathWithoutNatives(), "-Dmamba4j.cache=" + cache,
                "-Dmamba4j.classifier=linux-x86_64", "-Dmamba4j.offline=true");
        assertTrue(out.contains("offline (mamba4j.offline / MAMBA4J_OFFLINE set) and the cache has no linux-x86_64"), out);
    }

    @Test
    void platformWithoutArtifactInThisReleaseSaysSo(@TempDir Path cache) throws Exception {
        String out = loadInFreshJvm(classPathWithoutNatives(), "-Dmamba4j.cache=" + cache,
                "-Dmamba4j.classifier=osx-aarch64");
        assertTrue(out.contains("mamba4j " + NativeRelease.current().version() + " has no native artifact for osx-aarch64:"
                + " this release ships " + String.join(", ", NativeRelease.current().built())), out);
        out = loadInFreshJvm(classPathWithoutNatives(), "-Dmamba4j.classifier=solaris-sparc");
        assertTrue(out.contains("mamba4j.classifier=solaris-sparc is not a mamba4j classifier; known: linux-x86_64, "
                + "linux-x86_64-cuda, linux-aarch64, osx-aarch64, windows-x86_64"), out);
    }

    @Test
    void unsupportedPlatformSaysSo() throws Exception {
        String out = loadInFreshJvm(classPathWithoutNatives(), "-Dos.arch=ppc64le");
        assertTrue(out.contains("mamba4j has no native library for linux ppc64le (os.name=Linux, os.arch=ppc64le)"), out);
    }

    @Test
    void explicitPathThatIsNotAFileIsAnError() throws Exception {
        String out = loadInFreshJvm(System.getProperty("java.class.path"), "-Dmamba4j.library.path=/nonexistent/libx.so");
        assertTrue(out.contains("system property mamba4j.library.path names /nonexistent/libx.so, which is not a file"),
                out);
    }

    @Test
    void explicitPathLoads() throws Exception {
        String lib = NativeLibrary.load().toString();
        String out = loadInFreshJvm(System.getProperty("java.class.path"), "-Dmamba4j.library.path=" + lib);
        assertTrue(out.contains("loaded from " + lib), out);
    }

    /** Entry point of the fresh JVMs above. */
    public static final class LoadProbe {
        public static void main(String[] args) {
            try {
                System.out.println("loaded from " + NativeLibrary.load() + " version " + Mamba4j.version());
            } catch (Throwable t) {
                System.out.println(t);
            }
        }
    }
}
