package io.github.mamba4j.bindings;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * Fetches a native jar of mamba4j from a Maven repository, verifies it, and unpacks its
 * library into a versioned cache: {@code <cache>/<version>/<classifier>/<library file>}.
 *
 * <ul>
 * <li>A cached library is used without network when its folder's {@code artifact.properties}
 *     names the expected jar SHA-256 and the library file still has the SHA-256 recorded there.
 * <li>Otherwise (unless offline) the jar is fetched from
 *     {@code <repository>/<groupId as path>/<artifactId>/<version>/<artifactId>-<version>-<classifier>.jar}
 *     (for a -SNAPSHOT version, the timestamped name from the folder's maven-metadata.xml when there is one)
 *     over HTTP(S) with {@link HttpClient}, or copied from a {@code file:} repository, into a
 *     temporary file in the cache folder; a short body (fewer bytes than Content-Length) or a
 *     SHA-256 other than the expected one is an error and the temporary file is deleted.
 * <li>The library is unpacked to a temporary file and moved into place atomically, then
 *     {@code artifact.properties} is written the same way: a crash at any point leaves either
 *     the old state or the new, never a half file under the final name.
 * <li>A file lock ({@code <cache>/<version>/<classifier>.lock}) serialises processes: the
 *     second JVM waits, then finds the first one's result and downloads nothing.
 * </ul>
 * Configuration (system property, else environment variable) is read by {@link #configured}.
 */
public final class NativeDownloader {
    public static final String REPOSITORY_PROPERTY = "mamba4j.repository";
    public static final String REPOSITORY_ENV = "MAMBA4J_REPOSITORY";
    public static final String CACHE_PROPERTY = "mamba4j.cache";
    public static final String CACHE_ENV = "MAMBA4J_CACHE";
    public static final String OFFLINE_PROPERTY = "mamba4j.offline";
    public static final String OFFLINE_ENV = "MAMBA4J_OFFLINE";
    public static final String TIMEOUT_PROPERTY = "mamba4j.download.timeout";
    public static final String TIMEOUT_ENV = "MAMBA4J_DOWNLOAD_TIMEOUT";
    static final String MARKER = "artifact.properties";

    private NativeDownloader() {}

    /**
     * What to fetch and where to put it.
     *
     * @param repository base URL of a Maven repository layout (http, https or file); null when none is configured
     * @param groupId groupId of the native jar
     * @param artifactId artifactId of the native jar
     * @param version version of the native jar, also the cache's version folder
     * @param platform the classifier and the library's path inside the jar
     * @param sha256 the expected SHA-256 of the jar (lower-case hex)
     * @param cacheRoot the cache root, such as {@code ~/.cache/mamba4j}
     * @param offline true forbids any download
     * @param timeout connect timeout, and limit for the whole transfer ×10
     */
    public record Request(URI repository, String groupId, String artifactId, String version, NativePlatform platform,
            String sha256, Path cacheRoot, boolean offline, Duration timeout) {
        public Request {
            sha256 = sha256.toLowerCase(Locale.ROOT);
        }

        /** The folder the library is unpacked into. */
        public Path folder() {
            return cacheRoot.resolve(version).resolve(platform.classifier());
        }

        /** The cached library file. */
        public Path library() {
            return folder().resolve(platform.file());
        }

        /** The jar's name in the repository folder, without snapshot timestamp. */
        String jarName() {
            return artifactId + "-" + version + "-" + platform.classifier() + ".jar";
        }

        URI folderUri() {
            String base = repository.toString();
            if (!base.endsWith("/")) base += "/";
            return URI.create(base + groupId.replace('.', '/') + "/" + artifactId + "/" + version + "/");
        }
    }

    /** A download, verification or cache failure; the message says what and where. */
    public static final class Failure extends IOException {
        private static final long serialVersionUID = 1L;

        Failure(String message) {
            super(message);
        }

        Failure(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /**
     * The request for {@code platform} of the release built into this jar, with repository,
     * cache folder, offline switch and timeout from system properties or environment.
     */
    public static Request configured(NativePlatform platform, NativeRelease release) throws Failure {
        String sha = release.sha256().get(platform.classifier());
        if (sha == null)
            throw new Failure("mamba4j " + release.version() + " has no native artifact for " + platform.classifier()
                    + ": this release ships " + (release.built().isEmpty() ? "none" : String.join(", ", release.built()))
                    + ". Build libmamba4j for this platform yourself and set " + NativeLibrary.PATH_PROPERTY
                    + " to it.");
        Optional<String> repo = setting(REPOSITORY_PROPERTY, REPOSITORY_ENV);
        URI repository = null;
        if (repo.isPresent()) {
            try {
                repository = URI.create(repo.get().trim());
            } catch (IllegalArgumentException e) {
                throw new Failure(REPOSITORY_PROPERTY + " is not a URL: " + repo.get(), e);
            }
            String scheme = repository.getScheme() == null ? "" : repository.getScheme().toLowerCase(Locale.ROOT);
            if (!scheme.equals("http") && !scheme.equals("https") && !scheme.equals("file"))
                throw new Failure(REPOSITORY_PROPERTY + " must be an http, https or file URL, got " + repo.get());
        }
        boolean offline = setting(OFFLINE_PROPERTY, OFFLINE_ENV).map(v -> v.isBlank() || Boolean.parseBoolean(v.trim()))
                .orElse(false);
        Duration timeout = Duration.ofSeconds(setting(TIMEOUT_PROPERTY, TIMEOUT_ENV).map(v -> Long.parseLong(v.trim()))
                .orElse(30L));
        return new Request(repository, release.groupId(), release.artifactId(), release.version(), platform, sha,
                cacheRoot(), offline, timeout);
    }

    /** {@value #CACHE_PROPERTY}, else {@value #CACHE_ENV}, else $XDG_CACHE_HOME/mamba4j, else ~/.cache/mamba4j. */
    public static Path cacheRoot() {
        Optional<String> explicit = setting(CACHE_PROPERTY, CACHE_ENV);
        if (explicit.isPresent()) return Path.of(explicit.get()).toAbsolutePath();
        String xdg = System.getenv("XDG_CACHE_HOME");
        if (xdg != null && !xdg.isBlank() && Path.of(xdg).isAbsolute()) return Path.of(xdg, "mamba4j");
        return Path.of(System.getProperty("user.home"), ".cache", "mamba4j");
    }

    static Optional<String> setting(String property, String env) {
        String v = System.getProperty(property);
        if (v == null) v = System.getenv(env);
        return Optional.ofNullable(v);
    }

    /** The cached library if it is there and intact; never touches the network. */
    public static Optional<Path> cached(Request r) {
        Path lib = r.library(), marker = r.folder().resolve(MARKER);
        if (!Files.isRegularFile(lib) || !Files.isRegularFile(marker)) return Optional.empty();
        try (InputStream in = Files.newInputStream(marker)) {
            Properties p = new Properties();
            p.load(in);
            if (!r.sha256().equals(p.getProperty("jar.sha256"))) return Optional.empty();
            if (!sha256(lib).equals(p.getProperty("library.sha256"))) return Optional.empty();
            return Optional.of(lib);
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /**
     * Returns the path of the library for {@code r}: from the cache, else downloaded,
     * verified and unpacked into the cache (see the class comment).
     */
    public static synchronized Path fetch(Request r) throws Failure {
        Optional<Path> hit = cached(r);
        if (hit.isPresent()) return hit.get();
        if (r.offline())
            throw new Failure("offline (" + OFFLINE_PROPERTY + " / " + OFFLINE_ENV + " set) and the cache has no "
                    + r.platform().classifier() + " library of mamba4j " + r.version() + " at " + r.library()
                    + ". Run once online, or put the " + r.jarName() + " jar on the class path.");
        if (r.repository() == null)
            throw new Failure("no Maven repository configured to download " + r.jarName() + " from: set the system property "
                    + REPOSITORY_PROPERTY + " (or the environment variable " + REPOSITORY_ENV
                    + ") to the base URL of a Maven repository that has " + r.groupId() + ":" + r.artifactId() + ":"
                    + r.version() + ", for example that of Maven Central or of your own mirror (http, https or file URL)");
        Path folder = r.folder();
        try {
            Files.createDirectories(folder);
        } catch (IOException e) {
            throw new Failure("cannot create the cache folder " + folder + ": " + e, e);
        }
        Path lockFile = folder.resolveSibling(r.platform().classifier() + ".lock");
        try (FileChannel channel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                FileLock lock = channel.lock()) {
            hit = cached(r); // another process may have finished while this one waited
            if (hit.isPresent()) return hit.get();
            removeLeftovers(folder);
            return downloadAndUnpack(r);
        } catch (Failure e) {
            throw e;
        } catch (IOException e) {
            throw new Failure("cannot use the cache folder " + folder + ": " + e, e);
        }
    }

    /** Temporary files of a process that died while holding the lock (this one holds it now). */
    private static void removeLeftovers(Path folder) throws IOException {
        try (DirectoryStream<Path> files = Files.newDirectoryStream(folder, "*.part")) {
            for (Path f : files) Files.deleteIfExists(f);
        }
    }

    private static Path downloadAndUnpack(Request r) throws IOException {
        Path folder = r.folder();
        Path jar = Files.createTempFile(folder, "download-", ".jar.part");
        Path lib = Files.createTempFile(folder, "library-", ".part");
        try {
            URI url = artifactUri(r);
            String actual = download(r, url, jar);
            if (!actual.equals(r.sha256()))
                throw new Failure("SHA-256 mismatch for " + url + ": expected " + r.sha256() + ", got " + actual + " ("
                        + Files.size(jar) + " bytes). The download was deleted; the repository serves a different "
                        + r.jarName() + " than the one this mamba4j-bindings " + r.version() + " was built with.");
            try (ZipFile zip = new ZipFile(jar.toFile())) {
                ZipEntry entry = zip.getEntry(r.platform().entry());
                if (entry == null)
                    throw new Failure(url + " (SHA-256 verified) has no " + r.platform().entry());
                try (InputStream in = zip.getInputStream(entry)) {
                    Files.copy(in, lib, StandardCopyOption.REPLACE_EXISTING);
                }
            }
            String librarySha = sha256(lib);
            Files.deleteIfExists(folder.resolve(MARKER));
            Files.move(lib, r.library(), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            Path marker = Files.createTempFile(folder, "marker-", ".part");
            Files.writeString(marker, "# mamba4j native library cache entry\njar.sha256=" + r.sha256()
                    + "\nlibrary.sha256=" + librarySha + "\nsource=" + url + "\n", StandardCharsets.ISO_8859_1);
            Files.move(marker, folder.resolve(MARKER), StandardCopyOption.REPLACE_EXISTING,
                    StandardCopyOption.ATOMIC_MOVE);
            return r.library();
        } finally {
            Files.deleteIfExists(jar);
            Files.deleteIfExists(lib);
        }
    }

    /** The jar's URL; for a -SNAPSHOT, the timestamped file maven-metadata.xml names, if any. */
    static URI artifactUri(Request r) throws IOException {
        URI folder = r.folderUri();
        if (r.version().endsWith("-SNAPSHOT")) {
            Optional<String> metadata = readSmall(r, folder.resolve("maven-metadata.xml"));
            if (metadata.isPresent()) {
                Optional<String> value = snapshotValue(metadata.get(), r.platform().classifier());
                if (value.isPresent())
                    return folder.resolve(r.artifactId() + "-" + value.get() + "-" + r.platform().classifier() + ".jar");
            }
        }
        return folder.resolve(r.jarName());
    }

    private static final Pattern SNAPSHOT_VERSION = Pattern.compile("<snapshotVersion>(.*?)</snapshotVersion>",
            Pattern.DOTALL);

    static Optional<String> snapshotValue(String metadata, String classifier) {
        Matcher m = SNAPSHOT_VERSION.matcher(metadata);
        while (m.find()) {
            String block = m.group(1);
            if (classifier.equals(tag(block, "classifier")) && "jar".equals(tag(block, "extension")))
                return Optional.ofNullable(tag(block, "value"));
        }
        return Optional.empty();
    }

    private static String tag(String xml, String name) {
        Matcher m = Pattern.compile("<" + name + ">\\s*(.*?)\\s*</" + name + ">", Pattern.DOTALL).matcher(xml);
        return m.find() ? m.group(1) : null;
    }

    /** A small file (metadata) or empty when the repository has none. */
    private static Optional<String> readSmall(Request r, URI url) throws IOException {
        if ("file".equalsIgnoreCase(url.getScheme())) {
            Path p = Path.of(url);
            return Files.isRegularFile(p) ? Optional.of(Files.readString(p)) : Optional.empty();
        }
        try (HttpClient client = client(r)) {
            HttpResponse<String> resp = client.send(HttpRequest.newBuilder(url).timeout(r.timeout()).GET().build(),
                    HttpResponse.BodyHandlers.ofString());
            return resp.statusCode() == 200 ? Optional.of(resp.body()) : Optional.empty();
        } catch (ConnectException | HttpConnectTimeoutException e) {
            throw unreachable(r, url, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Failure("interrupted while fetching " + url, e);
        }
    }

    private static HttpClient client(Request r) {
        return HttpClient.newBuilder().connectTimeout(r.timeout()).followRedirects(HttpClient.Redirect.NORMAL).build();
    }

    private static Failure unreachable(Request r, URI url, Exception e) {
        return new Failure("cannot reach the Maven repository " + r.repository() + " (" + REPOSITORY_PROPERTY + ") to fetch "
                + url + ": " + e + ". Check the URL and the network, or put the " + r.jarName()
                + " jar on the class path.", e);
    }

    /** Writes the jar at {@code url} into {@code target}; returns its SHA-256. */
    private static String download(Request r, URI url, Path target) throws IOException {
        if ("file".equalsIgnoreCase(url.getScheme())) {
            try (InputStream in = Files.newInputStream(Path.of(url))) {
                return copyHashing(in, target, -1, url);
            } catch (NoSuchFileException e) {
                throw notFound(r, url, "no such file");
            }
        }
        try (HttpClient client = client(r)) {
            HttpResponse<InputStream> resp = client.send(HttpRequest.newBuilder(url).timeout(r.timeout()).GET().build(),
                    HttpResponse.BodyHandlers.ofInputStream());
            try (InputStream body = resp.body()) {
                if (resp.statusCode() == 404 || resp.statusCode() == 410) throw notFound(r, url, "HTTP " + resp.statusCode());
                if (resp.statusCode() != 200)
                    throw new Failure("fetching " + url + " failed: HTTP " + resp.statusCode());
                long length = resp.headers().firstValueAsLong("Content-Length").orElse(-1);
                // a stalled transfer must not hang the JVM forever: close the body after 10× the timeout
                CompletableFuture<Void> watchdog = CompletableFuture.runAsync(() -> closeQuietly(body),
                        CompletableFuture.delayedExecutor(r.timeout().toMillis() * 10, TimeUnit.MILLISECONDS));
                try {
                    return copyHashing(body, target, length, url);
                } finally {
                    watchdog.cancel(false);
                }
            }
        } catch (ConnectException | HttpConnectTimeoutException e) {
            throw unreachable(r, url, e);
        } catch (HttpTimeoutException e) {
            throw new Failure("the Maven repository did not answer within " + r.timeout().toSeconds() + " s (" + TIMEOUT_PROPERTY
                    + "): " + url, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Failure("interrupted while fetching " + url, e);
        }
    }

    private static Failure notFound(Request r, URI url, String why) {
        return new Failure("the Maven repository " + r.repository() + " has no " + r.groupId() + ":" + r.artifactId() + ":"
                + r.version() + ":" + r.platform().classifier() + " (" + why + " for " + url + ")");
    }

    private static String copyHashing(InputStream in, Path target, long expectedLength, URI url) throws IOException {
        MessageDigest md = sha256Digest();
        long n = 0;
        try (OutputStream out = new DigestOutputStream(Files.newOutputStream(target), md)) {
            byte[] buf = new byte[1 << 16];
            for (int k; (k = in.read(buf)) > 0; n += k) out.write(buf, 0, k);
        } catch (IOException e) {
            throw new Failure("the download of " + url + " broke off after " + n + " bytes"
                    + (expectedLength >= 0 ? " of " + expectedLength : "") + ": " + e, e);
        }
        if (expectedLength >= 0 && n != expectedLength)
            throw new Failure("the download of " + url + " is truncated: " + n + " of " + expectedLength + " bytes");
        return HexFormat.of().formatHex(md.digest());
    }

    private static void closeQuietly(InputStream in) {
        try {
            in.close();
        } catch (IOException ignored) {
            // the reader sees the failure
        }
    }

    static String sha256(Path file) throws IOException {
        MessageDigest md = sha256Digest();
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buf = new byte[1 << 16];
            for (int k; (k = in.read(buf)) > 0; ) md.update(buf, 0, k);
        }
        return HexFormat.of().formatHex(md.digest());
    }

    private static MessageDigest sha256Digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
