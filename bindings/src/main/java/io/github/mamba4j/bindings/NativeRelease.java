package io.github.mamba4j.bindings;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

/**
 * The native jars of this mamba4j release, as the build recorded them in
 * {@code io/github/mamba4j/bindings/natives.properties} (written by
 * native/tools/NativeChecksums.java after packaging the jars, copied into the bindings jar):
 * Maven coordinates, the classifiers built, and the SHA-256 of each jar.
 *
 * @param groupId Maven groupId of the native jars
 * @param artifactId Maven artifactId of the native jars ({@code mamba4j-native})
 * @param version the release, also the cache's version folder
 * @param built the classifiers this release ships
 * @param sha256 expected SHA-256 (lower-case hex) of each built jar, by classifier
 */
public record NativeRelease(String groupId, String artifactId, String version, List<String> built,
        Map<String, String> sha256) {

    static final String RESOURCE = "natives.properties";

    public NativeRelease {
        built = List.copyOf(built);
        sha256 = Map.copyOf(sha256);
    }

    /** The release this bindings jar was built with. */
    public static NativeRelease current() {
        try (InputStream in = NativeRelease.class.getResourceAsStream(RESOURCE)) {
            if (in == null)
                throw new IllegalStateException("this mamba4j-bindings jar carries no " + RESOURCE
                        + " (it was built without the mamba4j-native module), so it cannot verify downloads");
            Properties p = new Properties();
            p.load(in);
            return parse(p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static NativeRelease parse(Properties p) {
        List<String> built = Arrays.stream(p.getProperty("built", "").split(",")).map(String::trim)
                .filter(s -> !s.isEmpty()).toList();
        Map<String, String> sums = new TreeMap<>();
        for (String c : built) {
            String sum = p.getProperty("sha256." + c);
            if (sum == null) throw new IllegalStateException(RESOURCE + " lists " + c + " but has no sha256." + c);
            sums.put(c, sum);
        }
        return new NativeRelease(require(p, "groupId"), require(p, "artifactId"), require(p, "version"), built, sums);
    }

    private static String require(Properties p, String key) {
        String v = p.getProperty(key);
        if (v == null || v.isBlank()) throw new IllegalStateException(RESOURCE + " has no " + key);
        return v.trim();
    }

    public boolean ships(String classifier) {
        return sha256.containsKey(classifier);
    }
}
