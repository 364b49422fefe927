package io.github.mamba4j.bindings;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * A Maven repository folder served over HTTP on 127.0.0.1 (ephemeral port, two worker
 * threads), for the download tests. Counts the requests per path; can delay answers,
 * cut bodies short and answer 404 for files that are not there.
 */
final class LocalRepository implements AutoCloseable {
    enum Mode { NORMAL, TRUNCATE, STALL }

    final Path root;
    private final HttpServer server;
    private final ExecutorService executor = Executors.newFixedThreadPool(2);
    final Map<String, AtomicInteger> requests = new ConcurrentHashMap<>();
    volatile Mode mode = Mode.NORMAL;
    volatile long delayMillis;

    LocalRepository(Path root) throws IOException {
        this.root = root;
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 8);
        server.createContext("/", this::handle);
        server.setExecutor(executor);
        server.start();
    }

    URI uri() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/repo/");
    }

    int count(String fileName) {
        return requests.entrySet().stream().filter(e -> e.getKey().endsWith("/" + fileName))
                .mapToInt(e -> e.getValue().get()).sum();
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            String path = ex.getRequestURI().getPath();
            requests.computeIfAbsent(path, k -> new AtomicInteger()).incrementAndGet();
            if (delayMillis > 0) Thread.sleep(delayMillis);
            Path file = path.startsWith("/repo/") ? root.resolve(path.substring("/repo/".length())).normalize() : null;
            if (file == null || !file.startsWith(root) || !Files.isRegularFile(file)) {
                ex.sendResponseHeaders(404, -1);
                return;
            }
            byte[] body = Files.readAllBytes(file);
            ex.sendResponseHeaders(200, body.length);
            try (OutputStream out = ex.getResponseBody()) {
                if (mode == Mode.TRUNCATE && body.length > 1) {
                    out.write(body, 0, body.length / 2);
                    out.flush();
                    // the handler fails with the body half sent: the server drops the connection
                    throw new IOException("truncated on purpose");
                }
                if (mode == Mode.STALL && body.length > 1) {
                    out.write(body, 0, body.length / 2);
                    out.flush();
                    Thread.sleep(30_000); // the rest never comes (interrupted by close())
                }
                out.write(body);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Places {@code jar} at the repository path of the coordinates; returns the file. */
    Path put(String groupId, String artifactId, String version, String fileName, byte[] content) throws IOException {
        Path dir = root.resolve(groupId.replace('.', '/')).resolve(artifactId).resolve(version);
        Files.createDirectories(dir);
        Path f = dir.resolve(fileName);
        Files.write(f, content);
        return f;
    }

    /** A jar holding one entry. */
    static byte[] jar(String entry, byte[] content) throws IOException {
        var bytes = new java.io.ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
            zip.putNextEntry(new ZipEntry(entry));
            zip.write(content);
            zip.closeEntry();
        }
        return bytes.toByteArray();
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
