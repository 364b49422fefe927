package io.github.mamba4j.cli;

import io.github.mamba4j.bindings.Mamba4j;
import io.github.mamba4j.runtime.model.Model;
import io.github.mamba4j.runtime.model.Session;
import io.github.mamba4j.runtime.safetensors.SafetensorsWriter;
import io.github.mamba4j.runtime.tensor.DType;
import io.github.mamba4j.runtime.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.IntStream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Whole-model CPU benchmark on random bf16 checkpoints of real shapes, built here (nothing
 * downloaded): prompt tokens/s (one prefill of {@code --prompt} tokens) and generation
 * tokens/s ({@code --generate} decode steps), medians of {@code --runs} after one untimed
 * warm-up run; generation also as
 * a fraction of the memory-bandwidth floor: weight bytes read per token / read bandwidth,
 * the bandwidth probed right before and right after each run's generation (the higher of
 * the two; see {@link ReadProbe}), the fraction the median of the runs' fractions.
 * With {@code --llama-bench PATH} each model is also written as GGUF and llama.cpp's
 * llama-bench times it on the same weights and thread count, its runs alternated with
 * ours so both see the same phases of a shared machine ({@link LlamaCppPeer}); the
 * ratios are the medians of the per-run ratios.
 */
@Command(name = "bench-models", mixinStandardHelpOptions = true,
        description = "Time whole models (random bf16 weights of real shapes) on the CPU kernels.")
final class BenchCommand implements Callable<Integer> {
    @Option(names = "--threads", defaultValue = "2") int threads;
    @Option(names = "--prompt", defaultValue = "512") int prompt;
    @Option(names = "--generate", defaultValue = "128") int generate;
    @Option(names = "--runs", defaultValue = "3") int runs;
    @Option(names = "--only", split = ",", description = "mamba, mamba2, hybrid, llama") List<String> only;
    @Option(names = "--profile", description = "time each kernel (adds overhead; for finding the slow one)") boolean profile;
    @Option(names = "--llama-bench", paramLabel = "PATH",
            description = "llama.cpp's llama-bench executable: time the same weights (as GGUF) with it, runs alternated with ours")
    Path llamaBench;
    @Option(names = "--kernel-by-kernel",
            description = "also time decode kernel by kernel (no recorded plan), runs alternated with the planned ones")
    boolean kernelByKernel;
    @Option(names = "--keep", paramLabel = "DIR",
            description = "write the random checkpoints (and GGUF files) into DIR and keep them; default: a temporary folder, deleted")
    Path keep;

    /** Kernels that time every call of {@code inner} per method name. */
    static io.github.mamba4j.runtime.model.Kernels timed(io.github.mamba4j.runtime.model.Kernels inner, Map<String, long[]> nanos) {
        return (io.github.mamba4j.runtime.model.Kernels) java.lang.reflect.Proxy.newProxyInstance(
                BenchCommand.class.getClassLoader(), new Class<?>[] {io.github.mamba4j.runtime.model.Kernels.class}, (proxy, method, args) -> {
                    if (method.getName().equals("record")) return null; // per-kernel times: decode kernel by kernel
                    long t0 = System.nanoTime();
                    try {
                        return method.invoke(inner, args);
                    } catch (java.lang.reflect.InvocationTargetException e) {
                        throw e.getCause();
                    } finally {
                        long[] acc = nanos.computeIfAbsent(method.getName(), k -> new long[2]);
                        acc[0] += System.nanoTime() - t0;
                        acc[1]++;
                    }
                });
    }

    record Shape(String name, String config, long vocab) {}

    static final List<Shape> SHAPES = List.of(
            new Shape("mamba", """
                {"model_type": "mamba", "hidden_size": 768, "num_hidden_layers": 24, "state_size": 16, "expand": 2,
                 "conv_kernel": 4, "time_step_rank": 48, "use_bias": false, "use_conv_bias": true,
                 "layer_norm_epsilon": 1e-5, "vocab_size": 50280, "tie_word_embeddings": true}""", 50280),
            new Shape("mamba2", """
                {"model_type": "mamba2", "hidden_size": 768, "num_hidden_layers": 24, "state_size": 128, "expand": 2,
                 "head_dim": 64, "num_heads": 24, "n_groups": 1, "conv_kernel": 4, "chunk_size": 256,
                 "layer_norm_epsilon": 1e-5, "vocab_size": 50288, "tie_word_embeddings": true}""", 50288),
            new Shape("hybrid", """
                {"model_type": "nemotron_h", "hidden_size": 768, "hybrid_override_pattern": "M-M*-M-M-M*-",
                 "num_attention_heads": 12, "num_key_value_heads": 4, "head_dim": 64, "intermediate_size": 3072,
                 "mlp_hidden_act": "relu2", "ssm_state_size": 128, "mamba_num_heads": 24, "mamba_head_dim": 64,
                 "n_groups": 1, "conv_kernel": 4, "chunk_size": 256, "layer_norm_epsilon": 1e-5,
                 "vocab_size": 50288, "tie_word_embeddings": true}""", 50288),
            new Shape("llama", """
                {"model_type": "llama", "hidden_size": 576, "num_hidden_layers": 30, "num_attention_heads": 9,
                 "num_key_value_heads": 3, "head_dim": 64, "intermediate_size": 1536, "rms_norm_eps": 1e-5,
                 "rope_theta": 100000.0, "vocab_size": 49152, "tie_word_embeddings": true,
                 "max_position_embeddings": 8192}""", 49152));

    @Override
    public Integer call() throws Exception {
        Mamba4j.setThreads(threads);
        if (llamaBench != null && !Files.isExecutable(llamaBench))
            throw new UsageError("--llama-bench " + llamaBench + " is not an executable file");
        Path dir = keep != null ? Files.createDirectories(keep) : Files.createTempDirectory("mamba4j-bench");
        System.out.printf("# whole models, random bf16 weights, %d threads, prompt %d, generate %d, median of %d runs;"
                + " memory: read bandwidth probed before and after each run's generation%n", threads, prompt, generate, runs);
        System.out.println("| model | params | prompt tok/s | gen tok/s | weight MB/token | memory GB/s | gen / floor |"
                + (kernelByKernel ? " gen tok/s kernel by kernel | plan speedup |" : "")
                + (llamaBench == null ? "" : " llama.cpp prompt tok/s | llama.cpp gen tok/s | prompt ratio | gen ratio |"));
        System.out.println("|---|---|---|---|---|---|---|" + (kernelByKernel ? "---|---|" : "") + (llamaBench == null ? "" : "---|---|---|---|"));
        try (ReadProbe probe = new ReadProbe(threads)) {
            for (Shape shape : SHAPES) {
                if (only != null && !only.contains(shape.name())) continue;
                Path m = dir.resolve(shape.name());
                bench(shape, m, probe);
                if (keep == null) deleteTree(m);
            }
        } finally {
            if (keep == null) deleteTree(dir);
        }
        return 0;
    }

    /** One timed run: its prompt and generation rates, and the read bandwidth probed around the generation. */
    record Run(double prompt, double gen, double bandwidth) {}

    /** Writes the shape's checkpoint into {@code m}, runs it {@code runs} times (and its peers), prints its row. */
    private void bench(Shape shape, Path m, ReadProbe probe) throws IOException {
        long params = RandomCheckpoint.write(m, shape.config());
        Path gguf = m.resolve(shape.name() + ".gguf");
        if (llamaBench != null) {
            System.err.printf("%s: writing %s for llama-bench%n", shape.name(), gguf);
            LlamaCppPeer.writeGguf(m, gguf);
        }
        Map<String, long[]> nanos = new java.util.TreeMap<>();
        var nativeKernels = new io.github.mamba4j.runtime.model.NativeKernels();
        try (nativeKernels; Model model = profile ? Model.load(m, timed(nativeKernels, nanos)) : Model.load(m, nativeKernels);
             Session session = model.newSession(1, prompt + generate + 1)) {
            int[] ids = IntStream.range(0, prompt).map(i -> (i * 7919 + 13) % (int) shape.vocab()).toArray();
            long bytesPerToken = RandomCheckpoint.matrixBytes(m);
            Run[] ours = new Run[runs], kernels = new Run[runs];
            LlamaCppPeer.Rates[] peer = new LlamaCppPeer.Rates[runs];
            // one untimed run first: the JIT compiles the decode path while it runs (its
            // compiler threads then compete with the kernels' threads for the cores)
            run(session, ids, probe);
            nanos.clear();
            for (int r = 0; r < runs; r++) {
                ours[r] = run(session, ids, probe);
                if (profile && r == 0)
                    nanos.forEach((k, v) -> System.out.printf("#   %-14s %8.1f ms in %d calls%n", k, v[0] / 1e6, v[1]));
                if (kernelByKernel) { // alternated with the plan runs, in the same process
                    session.recordDecodeSteps(false);
                    kernels[r] = run(session, ids, probe);
                    session.recordDecodeSteps(true);
                }
                if (llamaBench != null) {
                    System.err.printf("%s: llama-bench run %d of %d%n", shape.name(), r + 1, runs);
                    peer[r] = LlamaCppPeer.run(llamaBench, gguf, threads, prompt, generate, m.resolve("llama-bench.log"));
                }
            }
            System.out.printf("| %s | %.0fM | %.0f | %.1f | %.0f | %.1f | %.0f%% |", shape.name(), params / 1e6,
                    median(ours, Run::prompt), median(ours, Run::gen), bytesPerToken / 1e6, median(ours, Run::bandwidth) / 1e9,
                    100 * median(ours, r -> r.gen() * bytesPerToken / r.bandwidth()));
            if (kernelByKernel) {
                double[] speedup = IntStream.range(0, runs).mapToDouble(r -> ours[r].gen() / kernels[r].gen()).toArray();
                System.out.printf(" %.1f | %.2f |", median(kernels, Run::gen), median(speedup));
            }
            if (llamaBench != null) {
                double[] promptRatio = IntStream.range(0, runs).mapToDouble(r -> ours[r].prompt() / peer[r].prompt()).toArray();
                double[] genRatio = IntStream.range(0, runs).mapToDouble(r -> ours[r].gen() / peer[r].gen()).toArray();
                System.out.printf(" %.0f | %.1f | %.2f | %.2f |", median(peer, LlamaCppPeer.Rates::prompt),
                        median(peer, LlamaCppPeer.Rates::gen), median(promptRatio), median(genRatio));
            }
            System.out.println();
        }
    }

    /** A sequence of {@code ids} prefilled, then {@code generate} greedy decode steps; the probe right before and after them. */
    private Run run(Session session, int[] ids, ReadProbe probe) {
        int seq = session.join();
        long t0 = System.nanoTime();
        session.prefill(seq, ids);
        long t1 = System.nanoTime();
        double before = probe.read();
        long t2 = System.nanoTime();
        int token = 1;
        for (int g = 0; g < generate; g++) token = argmax(session.decode(new int[] {seq}, new int[] {token})[0]);
        long t3 = System.nanoTime();
        double after = probe.read();
        session.leave(seq);
        return new Run(ids.length / ((t1 - t0) / 1e9), generate / ((t3 - t2) / 1e9), Math.max(before, after)); // the higher: the stricter floor
    }

    static <T> double median(T[] runs, java.util.function.ToDoubleFunction<T> value) {
        return median(Arrays.stream(runs).mapToDouble(value).toArray());
    }

    static int argmax(float[] v) {
        int b = 0;
        for (int i = 1; i < v.length; i++) if (v[i] > v[b]) b = i;
        return b;
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }

    /**
     * Memory read bandwidth on {@code threads} threads, probed right before and right after
     * each run's generation (the machine may be shared, and its bandwidth moves within
     * seconds): each thread compares two equal halves of its part of a 256 MiB slice of a
     * 1 GiB buffer ({@link MemorySegment#mismatch}: wide vector loads, nothing written),
     * the slices in turn so each pass reads from DRAM; the best of eight passes (~50 ms): right
     * after a run the first passes read at half speed or less (22-40 GB/s against 45-54 on
     * the 2-core Zen 5 VM of 2026-12-06; two passes made the floor too low and gen / floor
     * read over 100%). Read only, like a decode step's weights.
     */
    static final class ReadProbe implements AutoCloseable {
        private static final long SLICE = 256L << 20, SLICES = 4;
        private final Arena arena = Arena.ofShared();
        private final MemorySegment buffer = arena.allocate(SLICE * SLICES, 64);
        private final int threads;
        private long next;

        ReadProbe(int threads) {
            this.threads = threads;
            buffer.fill((byte) 1);
        }

        double read() {
            double best = 0;
            for (int pass = 0; pass < 8; pass++) {
                MemorySegment slice = buffer.asSlice((next++ % SLICES) * SLICE, SLICE);
                long half = SLICE / threads / 2;
                long t0 = System.nanoTime();
                long differ = IntStream.range(0, threads).parallel().mapToLong(t -> MemorySegment.mismatch(
                        slice, 2 * t * half, (2 * t + 1) * half, slice, (2 * t + 1) * half, (2 * t + 2) * half)).filter(m -> m >= 0)
                        .count();
                if (differ == 0) best = Math.max(best, SLICE / ((System.nanoTime() - t0) / 1e9));
            }
            return best;
        }

        @Override
        public void close() {
            arena.close();
        }
    }

    static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) return;
        try (var walk = Files.walk(p)) {
            for (Path f : walk.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(f);
        }
    }

    /** Writes config.json and a random bf16 model.safetensors with every tensor the config needs. */
    static final class RandomCheckpoint {
        static long write(Path dir, String config) throws IOException {
            Files.createDirectories(dir);
            Files.writeString(dir.resolve("config.json"), config);
            var cfg = io.github.mamba4j.runtime.config.ConfigLoader.load(dir);
            Map<String, long[]> shapes = new LinkedHashMap<>();
            int D = cfg.hidden();
            shapes.put(cfg.embedding().getFirst(), new long[] {cfg.vocabSize(), D});
            shapes.put(cfg.finalNorm(), new long[] {D});
            for (var b : cfg.blocks()) {
                shapes.put(b.norm(), new long[] {D});
                String p = b.mixer().prefix();
                switch (b.mixer()) {
                    case io.github.mamba4j.runtime.config.Mixer.Mamba1 m -> {
                        long E = m.inner(), N = m.state(), R = m.dtRank();
                        shapes.put(p + "in_proj.weight", new long[] {2 * E, D});
                        shapes.put(p + "conv1d.weight", new long[] {E, 1, m.convWidth()});
                        shapes.put(p + "conv1d.bias", new long[] {E});
                        shapes.put(p + "x_proj.weight", new long[] {R + 2 * N, E});
                        shapes.put(p + "dt_proj.weight", new long[] {E, R});
                        shapes.put(p + "dt_proj.bias", new long[] {E});
                        shapes.put(p + "A_log", new long[] {E, N});
                        shapes.put(p + "D", new long[] {E});
                        shapes.put(p + "out_proj.weight", new long[] {D, E});
                    }
                    case io.github.mamba4j.runtime.config.Mixer.Mamba2 m -> {
                        long H = m.heads();
                        shapes.put(p + "in_proj.weight", new long[] {m.inProjRows(), D});
                        shapes.put(p + "conv1d.weight", new long[] {m.convChannels(), 1, m.convWidth()});
                        shapes.put(p + "conv1d.bias", new long[] {m.convChannels()});
                        shapes.put(p + "dt_bias", new long[] {H});
                        shapes.put(p + "A_log", new long[] {H});
                        shapes.put(p + "D", new long[] {H});
                        shapes.put(p + "norm.weight", new long[] {m.inner()});
                        shapes.put(p + "out_proj.weight", new long[] {D, m.inner()});
                    }
                    case io.github.mamba4j.runtime.config.Mixer.Attention a -> {
                        long q = (long) a.qHeads() * a.headDim(), kv = (long) a.kvHeads() * a.headDim();
                        shapes.put(p + "q_proj.weight", new long[] {q, D});
                        shapes.put(p + "k_proj.weight", new long[] {kv, D});
                        shapes.put(p + "v_proj.weight", new long[] {kv, D});
                        shapes.put(p + "o_proj.weight", new long[] {D, q});
                    }
                    case io.github.mamba4j.runtime.config.Mixer.Mlp m -> {
                        long I = m.intermediate();
                        if (m.gate() != null) shapes.put(m.gate(), new long[] {I, D});
                        if (m.up() != null) shapes.put(m.up(), new long[] {I, D});
                        if (m.gateUp() != null) shapes.put(m.gateUp(), new long[] {2 * I, D});
                        shapes.put(m.down(), new long[] {D, I});
                    }
                }
            }
            long params = 0;
            try (Arena arena = Arena.ofConfined()) {
                Map<String, Tensor> tensors = new java.util.TreeMap<>(); // name order, as safetensors writers store them
                long seed = 0x9E3779B97F4A7C15L;
                for (var e : shapes.entrySet()) {
                    String name = e.getKey();
                    long[] shape = e.getValue();
                    Tensor t = Tensor.allocate(arena, name, DType.BF16, shape);
                    long n = t.numel();
                    params += n;
                    boolean vector = shape.length == 1;
                    float scale = vector ? 0f : (float) (1 / Math.sqrt(shape[shape.length - 1] * (shape.length == 3 ? shape[2] : 1)));
                    for (long i = 0; i < n; i++) {
                        seed ^= seed << 13;
                        seed ^= seed >>> 7;
                        seed ^= seed << 17;
                        float u = ((seed >>> 40) / (float) (1 << 24)) * 2 - 1; // uniform [-1, 1)
                        float v;
                        if (name.endsWith("A_log")) v = (float) Math.log(1 + (i % 16));
                        else if (name.endsWith("dt_bias") || name.endsWith("dt_proj.bias")) v = -4f + u;
                        else if (vector) v = 1f + 0.1f * u; // norms, D, conv bias
                        else v = u * scale * 1.7f;
                        t.data().setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i, Tensor.toBf16(v));
                    }
                    tensors.put(name, t);
                }
                SafetensorsWriter.write(dir.resolve("model.safetensors"), tensors, Map.of("format", "pt"));
            }
            return params;
        }

        /** Bytes of the 2-D weight matrices a decode step reads (the output head once; the embedding row gather excluded). */
        static long matrixBytes(Path dir) {
            try (var ckpt = io.github.mamba4j.runtime.safetensors.Checkpoint.open(dir)) {
                long bytes = 0;
                for (Tensor t : ckpt.tensors().values()) if (t.rank() >= 2 && !t.name().contains("conv1d") && !t.name().endsWith("A_log"))
                    bytes += t.byteSize();
                return bytes; // the tied embedding counts once: it is the output head
            }
        }
    }
}
