package io.github.mamba4j.bindings;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Download, verification and cache of native jars, against a repository folder served on
 * 127.0.0.1. The library inside these jars is random bytes (nothing is loaded here; the
 * load of a downloaded real library is in LibraryTest).
 */
class NativeDownloaderTest {
    static final String GROUP = "io.github.mamba4j", ARTIFACT = "mamba4j-native", VERSION = "9.9.9";
    static final NativePlatform PLATFORM = NativePlatform.byClassifier("linux-x86_64").orElseThrow();
    static final String JAR_NAME = ARTIFACT + "-" + VERSION + "-linux-x86_64.jar";

    @TempDir Path tmp;
    Path repo, cache;
    byte[] library, jar;

    @BeforeEach
    void setUp() throws IOException {
        repo = tmp.resolve("repo");
        cache = tmp.resolve("cache");
        library = new byte[300_000];
        new Random(7).nextBytes(library);
        jar = LocalRepository.jar(PLATFORM.entry(), library);
    }

    static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }

    NativeDownloader.Request request(URI repository, String sha, boolean offline) {
        return new NativeDownloader.Request(repository, GROUP, ARTIFACT, VERSION, PLATFORM, sha, cache, offline,
                Duration.ofSeconds(5));
    }

    /** Files left in the cache folder (no half file, no temporary file). */
    List<String> cacheFolder() throws IOException {
        Path folder = cache.resolve(VERSION).resolve(PLATFORM.classifier());
        if (!Files.isDirectory(folder)) return List.of();
        try (Stream<Path> s = Files.list(folder)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void firstUseDownloadsThenTheCacheServesWithoutNetwork() throws Exception {
        Path lib;
        try (LocalRepository server = new LocalRepository(repo)) {
            server.put(GROUP, ARTIFACT, VERSION, JAR_NAME, jar);
            lib = NativeDownloader.fetch(request(server.uri(), sha256(jar), false));
            assertEquals(cache.resolve(VERSION).resolve("linux-x86_64").resolve("libmamba4j.so"), lib);
            assertArrayEquals(library, Files.readAllBytes(lib));
            assertEquals(1, server.count(JAR_NAME));
            assertEquals(List.of("artifact.properties", "libmamba4j.so"), cacheFolder());
            // again, server still up: no second request
            assertEquals(lib, NativeDownloader.fetch(request(server.uri(), sha256(jar), false)));
            assertEquals(1, server.count(JAR_NAME));
        }
        // server gone: the cache alone serves, online or offline
        URI gone = URI.create("http://127.0.0.1:9/repo/");
        assertEquals(lib, NativeDownloader.fetch(request(gone, sha256(jar), false)));
        assertEquals(lib, NativeDownloader.fetch(request(null, sha256(jar), true)));
    }

    @Test
    void corruptedArtifactIsRejectedWithExpectedAndActualHash() throws Exception {
        byte[] bad = jar.clone();
        bad[bad.length / 2] ^= 0x55;
        try (LocalRepository server = new LocalRepository(repo)) {
            server.put(GROUP, ARTIFACT, VERSION, JAR_NAME, bad);
            var e = assertThrows(NativeDownloader.Failure.class,
                    () -> NativeDownloader.fetch(request(server.uri(), sha256(jar), false)));
            assertTrue(e.getMessage().contains("SHA-256 mismatch"), e.getMessage());
            assertTrue(e.getMessage().contains("expected " + sha256(jar)), e.getMessage());
            assertTrue(e.getMessage().contains("got " + sha256(bad)), e.getMessage());
            assertTrue(e.getMessage().contains(JAR_NAME), e.getMessage());
        }
        assertEquals(List.of(), cacheFolder());
    }

    @Test
    void truncatedDownloadLeavesNoHalfFile() throws Exception {
        try (LocalRepository server = new LocalRepository(repo)) {
            server.put(GROUP, ARTIFACT, VERSION, JAR_NAME, jar);
            server.mode = LocalRepository.Mode.TRUNCATE;
            var e = assertThrows(NativeDownloader.Failure.class,
                    () -> NativeDownloader.fetch(request(server.uri(), sha256(jar), false)));
            assertTrue(e.getMessage().contains("broke off") || e.getMessage().contains("truncated"), e.getMessage());
            assertEquals(List.of(), cacheFolder());
            // the next attempt, served in full, succeeds
            server.mode = LocalRepository.Mode.NORMAL;
            Path lib = NativeDownloader.fetch(request(server.uri(), sha256(jar), false));
            assertArrayEquals(library, Files.readAllBytes(lib));
        }
    }

    @Test
    void missingArtifactSaysWhichCoordinates() throws Exception {
        try (LocalRepository server = new LocalRepository(repo)) {
            var e = assertThrows(NativeDownloader.Failure.class,
                    () -> NativeDownloader.fetch(request(server.uri(), sha256(jar), false)));
            assertTrue(e.getMessage().contains("has no io.github.mamba4j:mamba4j-native:9.9.9:linux-x86_64"), e.getMessage());
            assertTrue(e.getMessage().contains("HTTP 404"), e.getMessage());
            assertTrue(e.getMessage().contains(server.uri() + "io/github/mamba4j/mamba4j-native/9.9.9/" + JAR_NAME),
                    e.getMessage());
        }
        assertEquals(List.of(), cacheFolder());
    }

    @Test
    void unreachableServerSaysSo() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort(); // closed again: nothing listens there
        }
        URI dead = URI.create("http://127.0.0.1:" + port + "/repo/");
        var e = assertThrows(NativeDownloader.Failure.class,
                () -> NativeDownloader.fetch(request(dead, sha256(jar), false)));
        assertTrue(e.getMessage().contains("cannot reach the Maven repository " + dead), e.getMessage());
        assertTrue(e.getMessage().contains("mamba4j.repository"), e.getMessage());
        assertEquals(List.of(), cacheFolder());
    }

    @Test
    void silentServerTimesOut() throws Exception {
        try (LocalRepository server = new LocalRepository(repo)) {
            server.put(GROUP, ARTIFACT, VERSION, JAR_NAME, jar);
            server.delayMillis = 4000;
            var r = new NativeDownloader.Request(server.uri(), GROUP, ARTIFACT, VERSION, PLATFORM, sha256(jar), cache,
                    false, Duration.ofSeconds(1));
            var e = assertThrows(NativeDownloader.Failure.class, () -> NativeDownloader.fetch(r));
            assertTrue(e.getMessage().startsWith("the Maven repository did not answer within 1 s (mamba4j.download.timeout)"),
                    e.getMessage());
        }
        assertEquals(List.of(), cacheFolder());
    }

    @Test
    void stalledTransferIsCutOffAndLeavesNoHalfFile() throws Exception {
        try (LocalRepository server = new LocalRepository(repo)) {
            server.put(GROUP, ARTIFACT, VERSION, JAR_NAME, jar);
            server.mode = LocalRepository.Mode.STALL;
            // answer timeout 200 ms: the whole transfer may take 2 s
            var r = new NativeDownloader.Request(server.uri(), GROUP, ARTIFACT, VERSION, PLATFORM, sha256(jar), cache,
                    false, Duration.ofMillis(200));
            long t0 = System.nanoTime();
            var e = assertThrows(NativeDownloader.Failure.class, () -> NativeDownloader.fetch(r));
            double seconds = (System.nanoTime() - t0) / 1e9;
            assertTrue(e.getMessage().contains("broke off after"), e.getMessage());
            assertTrue(seconds < 10, "took " + seconds + " s");
            assertEquals(List.of(), cacheFolder());
        }
    }

    @Test
    void offlineWithAnEmptyCacheSaysSo() throws Exception {
        var e = assertThrows(NativeDownloader.Failure.class,
                () -> NativeDownloader.fetch(request(URI.create("http://127.0.0.1:9/"), sha256(jar), true)));
        assertTrue(e.getMessage().startsWith("offline (mamba4j.offline / MAMBA4J_OFFLINE set)"), e.getMessage());
        assertTrue(e.getMessage().contains(cache.resolve(VERSION).resolve("linux-x86_64").toString()), e.getMessage());
    }

    @Test
    void noRepositoryConfiguredNamesTheProperty() throws Exception {
        var e = assertThrows(NativeDownloader.Failure.class,
                () -> NativeDownloader.fetch(request(null, sha256(jar), false)));
        assertTrue(e.getMessage().contains("set the system property mamba4j.repository (or the environment variable "
                + "MAMBA4J_REPOSITORY)"), e.getMessage());
    }

    @Test
    void damagedCacheIsFetchedAgain() throws Exception {
        try (LocalRepository server = new LocalRepository(repo)) {
            server.put(GROUP, ARTIFACT, VERSION, JAR_NAME, jar);
            Path lib = NativeDownloader.fetch(request(server.uri(), sha256(jar), false));
            Files.write(lib, new byte[] {1, 2, 3});
            assertTrue(NativeDownloader.cached(request(server.uri(), sha256(jar), false)).isEmpty());
            assertArrayEquals(library, Files.readAllBytes(NativeDownloader.fetch(request(server.uri(), sha256(jar), false))));
            assertEquals(2, server.count(JAR_NAME));
            // a different expected jar (another build of the same version) is not served from the cache either
            assertTrue(NativeDownloader.cached(request(server.uri(), "00" + sha256(jar).substring(2), false)).isEmpty());
        }
    }

    @Test
    void snapshotUsesTheTimestampedNameFromMavenMetadata() throws Exception {
        String version = "1.0-SNAPSHOT", stamped = "1.0-20261125.010203-4";
        String name = ARTIFACT + "-" + stamped + "-linux-x86_64.jar";
        try (LocalRepository server = new LocalRepository(repo)) {
            server.put(GROUP, ARTIFACT, version, name, jar);
            server.put(GROUP, ARTIFACT, version, "maven-metadata.xml", ("<metadata><versioning><snapshotVersions>"
                    + "<snapshotVersion><classifier>linux-aarch64</classifier><extension>jar</extension>"
                    + "<value>1.0-20261125.010203-3</value></snapshotVersion>"
                    + "<snapshotVersion><classifier>linux-x86_64</classifier><extension>jar</extension>"
                    + "<value>" + stamped + "</value></snapshotVersion>"
                    + "</snapshotVersions></versioning></metadata>").getBytes(StandardCharsets.UTF_8));
            var r = new NativeDownloader.Request(server.uri(), GROUP, ARTIFACT, version, PLATFORM, sha256(jar), cache,
                    false, Duration.ofSeconds(5));
            assertArrayEquals(library, Files.readAllBytes(NativeDownloader.fetch(r)));
            assertEquals(1, server.count(name));
        }
    }

    @Test
    void fileRepositoryWorksToo() throws Exception {
        Files.createDirectories(repo);
        try (LocalRepository layout = new LocalRepository(repo)) {
            layout.put(GROUP, ARTIFACT, VERSION, JAR_NAME, jar);
        }
        Path lib = NativeDownloader.fetch(request(repo.toUri(), sha256(jar), false));
        assertArrayEquals(library, Files.readAllBytes(lib));
        var e = assertThrows(NativeDownloader.Failure.class, () -> NativeDownloader.fetch(new NativeDownloader.Request(
                repo.toUri(), GROUP, ARTIFACT, "0.0.1", PLATFORM, sha256(jar), cache, false, Duration.ofSeconds(5))));
        assertTrue(e.getMessage().contains("has no io.github.mamba4j:mamba4j-native:0.0.1:linux-x86_64"), e.getMessage());
    }

    @Test
    void twoProcessesRacingProduceOneGoodCopy() throws Exception {
        try (LocalRepository server = new LocalRepository(repo)) {
            server.put(GROUP, ARTIFACT, VERSION, JAR_NAME, jar);
            server.delayMillis = 1500; // the first holds the lock while the second arrives
            List<Process> racers = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                ProcessBuilder pb = new ProcessBuilder(ProcessHandle.current().info().command().orElseThrow(), "-cp",
                        System.getProperty("java.class.path"), FetchProbe.class.getName(), server.uri().toString(),
                        cache.toString(), VERSION, sha256(jar)).redirectErrorStream(true);
                racers.add(pb.start());
            }
            List<String> outputs = new ArrayList<>();
            for (Process p : racers) {
                assertTrue(p.waitFor(60, TimeUnit.SECONDS), "racer did not finish");
                outputs.add(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim());
            }
            Path lib = cache.resolve(VERSION).resolve("linux-x86_64").resolve("libmamba4j.so");
            for (String out : outputs) assertEquals("fetched " + lib, out);
            assertEquals(1, server.count(JAR_NAME), "the jar was downloaded more than once: " + server.requests);
            assertArrayEquals(library, Files.readAllBytes(lib));
            assertEquals(List.of("artifact.properties", "libmamba4j.so"), cacheFolder());
        }
    }

    /** Entry point of the racing processes: fetch, print the path or the failure. */
    public static final class FetchProbe {
        public static void main(String[] args) {
            try {
                var r = new NativeDownloader.Request(URI.create(args[0]), GROUP, ARTIFACT, args[2], PLATFORM, args[3],
                        Path.of(args[1]), false, Duration.ofSeconds(20));
                System.out.println("fetched " + NativeDownloader.fetch(r));
            } catch (Throwable t) {
                System.out.println(t);
            }
        }
    }

    @Test
    void platformsOfThisJvmAndOthers() {
        assertEquals(List.of("linux-x86_64", "linux-x86_64-cuda"),
                NativePlatform.candidates("Linux", "amd64", false).stream().map(NativePlatform::classifier).toList());
        assertEquals(List.of("linux-x86_64-cuda", "linux-x86_64"),
                NativePlatform.candidates("Linux", "x86_64", true).stream().map(NativePlatform::classifier).toList());
        assertEquals(List.of("linux-aarch64"),
                NativePlatform.candidates("Linux", "aarch64", true).stream().map(NativePlatform::classifier).toList());
        assertEquals(List.of("osx-aarch64"),
                NativePlatform.candidates("Mac OS X", "aarch64", false).stream().map(NativePlatform::classifier).toList());
        assertEquals(List.of("windows-x86_64"),
                NativePlatform.candidates("Windows 11", "amd64", false).stream().map(NativePlatform::classifier).toList());
        assertTrue(NativePlatform.candidates("Linux", "ppc64le", false).isEmpty());
        assertTrue(NativePlatform.candidates("FreeBSD", "amd64", false).isEmpty());
        assertEquals("natives/windows_64/mamba4j.dll", NativePlatform.byClassifier("windows-x86_64").orElseThrow().entry());
    }

    @Test
    void releaseRecordsTheNativeJarsOfThisBuild() throws Exception {
        var p = new java.util.Properties();
        try (var in = NativeRelease.class.getResourceAsStream("natives.properties")) {
            assertTrue(in != null, "natives.properties missing from the bindings classes");
            p.load(in);
        }
        // the loader's table and the build's (native/pom.xml) name the same classifiers
        assertEquals(NativePlatform.knownClassifiers().replace(" ", ""), p.getProperty("known"));
        NativeRelease release = NativeRelease.current();
        assertTrue(release.ships("linux-x86_64"), release.toString());
        assertFalse(release.ships("osx-aarch64"));
        // each hash is the hash of the jar the native module built
        Path target = Path.of(System.getProperty("mamba4j.native.target"));
        for (String c : release.built()) {
            Path built = target.resolve(release.artifactId() + "-" + release.version() + "-" + c + ".jar");
            assertEquals(sha256(Files.readAllBytes(built)), release.sha256().get(c), c);
            assertFalse(zipEntryMissing(built, NativePlatform.byClassifier(c).orElseThrow().entry()), built + " layout");
        }
    }

    private static boolean zipEntryMissing(Path jar, String entry) throws IOException {
        try (var zip = new java.util.zip.ZipFile(jar.toFile())) {
            return zip.getEntry(entry) == null;
        }
    }
}
