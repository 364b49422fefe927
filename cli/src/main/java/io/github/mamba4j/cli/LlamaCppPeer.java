package io.github.mamba4j.cli;

import io.github.mamba4j.runtime.config.Block;
import io.github.mamba4j.runtime.config.ConfigLoader;
import io.github.mamba4j.runtime.config.Family;
import io.github.mamba4j.runtime.config.Mixer;
import io.github.mamba4j.runtime.config.ModelConfig;
import io.github.mamba4j.runtime.safetensors.Checkpoint;
import io.github.mamba4j.runtime.tensor.DType;
import io.github.mamba4j.runtime.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The peer that {@code bench-models --llama-bench PATH} runs beside mamba4j: llama.cpp's
 * {@code llama-bench} on the same random weights, written as GGUF ({@link #writeGguf}), so
 * both engines are timed on one machine in one command. The GGUF keeps the bf16 matrices
 * bit for bit and stores vectors, conv weights and A = -exp(A_log) in f32, with the names
 * and metadata llama.cpp's loaders read for its {@code mamba}, {@code mamba2},
 * {@code nemotron_h} and {@code llama} architectures (no tokenizer: {@code tokenizer.ggml.model
 * = none} with the vocabulary size, which llama-bench accepts since it feeds random ids).
 */
final class LlamaCppPeer {
    private LlamaCppPeer() {}

    /** Prompt and generation tokens/s of one llama-bench run. */
    record Rates(double prompt, double gen) {}

    /** The GGUF architecture name of a family, or an exception naming the ones this peer maps. */
    static String arch(Family family) {
        return switch (family) {
            case MAMBA -> "mamba";
            case MAMBA2 -> "mamba2";
            case NEMOTRON_H -> "nemotron_h";
            case LLAMA -> "llama";
            default -> throw new IllegalArgumentException("no llama.cpp GGUF mapping for family " + family.modelType()
                    + " (mapped: mamba, mamba2, nemotron_h, llama)");
        };
    }

    /** Writes the checkpoint folder {@code dir} (config.json + safetensors) as one GGUF file. */
    static void writeGguf(Path dir, Path out) throws IOException {
        ModelConfig cfg = ConfigLoader.load(dir);
        String arch = arch(cfg.family());
        try (Checkpoint ckpt = Checkpoint.open(dir); Arena arena = Arena.ofConfined()) {
            GgufWriter gguf = new GgufWriter();
            Tensors t = new Tensors(ckpt, arena, gguf);
            int layers = cfg.blocks().getLast().layer() + 1;
            gguf.put("general.architecture", arch).put("general.name", dir.getFileName().toString())
                    .put(arch + ".vocab_size", cfg.vocabSize()).put(arch + ".embedding_length", cfg.hidden())
                    .put(arch + ".block_count", layers)
                    .put(arch + ".context_length", cfg.family() == Family.LLAMA ? cfg.maxPositions() : 1 << 20)
                    .put(arch + ".attention.layer_norm_rms_epsilon", cfg.normEps()).put("tokenizer.ggml.model", "none");
            int[] kvHeads = new int[layers], ff = new int[layers];
            for (Block b : cfg.blocks()) {
                String blk = "blk." + b.layer() + ".";
                boolean ffnNorm = cfg.family() == Family.LLAMA && b.mixer() instanceof Mixer.Mlp;
                t.f32(b.norm(), blk + (ffnNorm ? "ffn_norm" : "attn_norm") + ".weight");
                String p = b.mixer().prefix();
                switch (b.mixer()) {
                    case Mixer.Mamba1 m -> {
                        ssmKeys(gguf, arch, m.convWidth(), m.inner(), m.state(), m.dtRank());
                        t.matrix(p + "in_proj.weight", blk + "ssm_in.weight");
                        t.f32(p + "conv1d.weight", blk + "ssm_conv1d.weight", m.convWidth(), m.inner());
                        t.f32(p + "conv1d.bias", blk + "ssm_conv1d.bias");
                        t.matrix(p + "x_proj.weight", blk + "ssm_x.weight");
                        t.matrix(p + "dt_proj.weight", blk + "ssm_dt.weight");
                        t.f32(p + "dt_proj.bias", blk + "ssm_dt.bias");
                        t.negExp(p + "A_log", blk + "ssm_a", m.state(), m.inner());
                        t.f32(p + "D", blk + "ssm_d");
                        t.matrix(p + "out_proj.weight", blk + "ssm_out.weight");
                    }
                    case Mixer.Mamba2 m -> {
                        ssmKeys(gguf, arch, m.convWidth(), m.inner(), m.state(), m.heads());
                        gguf.put(arch + ".ssm.group_count", m.groups());
                        if (m.normGroupSize() != m.inner() / m.groups())
                            throw new IllegalArgumentException("llama.cpp normalises per group of E/G = "
                                    + m.inner() / m.groups() + ", this checkpoint over " + m.normGroupSize());
                        t.matrix(p + "in_proj.weight", blk + "ssm_in.weight");
                        t.f32(p + "conv1d.weight", blk + "ssm_conv1d.weight", m.convWidth(), m.convChannels());
                        t.f32(p + "conv1d.bias", blk + "ssm_conv1d.bias");
                        t.f32(p + "dt_bias", blk + "ssm_dt.bias");
                        t.negExp(p + "A_log", blk + "ssm_a", 1, m.heads());
                        t.f32(p + "D", blk + "ssm_d", 1, m.heads());
                        t.f32(p + "norm.weight", blk + "ssm_norm.weight", m.inner() / m.groups(), m.groups());
                        t.matrix(p + "out_proj.weight", blk + "ssm_out.weight");
                    }
                    case Mixer.Attention a -> {
                        kvHeads[b.layer()] = a.kvHeads();
                        gguf.put(arch + ".attention.head_count", a.qHeads()).put(arch + ".attention.key_length", a.headDim())
                                .put(arch + ".attention.value_length", a.headDim());
                        if (a.rope() != null) {
                            if (a.rope().rotaryDim() != a.headDim() || a.rope().llama3() != null)
                                throw new IllegalArgumentException("only full-width RoPE without llama3 scaling is mapped");
                            gguf.put(arch + ".rope.freq_base", a.rope().theta()).put(arch + ".rope.dimension_count", a.headDim());
                        }
                        t.attentionRows(p + "q_proj.weight", blk + "attn_q.weight", a.rope() != null, a.headDim());
                        t.attentionRows(p + "k_proj.weight", blk + "attn_k.weight", a.rope() != null, a.headDim());
                        t.matrix(p + "v_proj.weight", blk + "attn_v.weight");
                        t.matrix(p + "o_proj.weight", blk + "attn_output.weight");
                    }
                    case Mixer.Mlp m -> {
                        ff[b.layer()] = m.intermediate();
                        if (m.gateUp() != null) throw new IllegalArgumentException("a fused gate_up MLP is not mapped");
                        if (m.gate() != null) t.matrix(m.gate(), blk + "ffn_gate.weight");
                        t.matrix(m.up(), blk + "ffn_up.weight");
                        t.matrix(m.down(), blk + "ffn_down.weight");
                    }
                }
            }
            if (cfg.family() == Family.NEMOTRON_H || cfg.family() == Family.LLAMA) {
                // per layer: llama.cpp reads a Nemotron-H layer with kv heads and ff 0 as Mamba-2
                gguf.put(arch + ".attention.head_count_kv", kvHeads).put(arch + ".feed_forward_length", ff);
            } else {
                gguf.put(arch + ".attention.head_count", 0).put(arch + ".feed_forward_length", 0);
            }
            t.matrix(ckpt.require(cfg.embedding(), cfg.vocabSize(), cfg.hidden()), "token_embd.weight");
            t.f32(cfg.finalNorm(), "output_norm.weight");
            if (cfg.lmHead() != null) ckpt.find(cfg.lmHead()).ifPresent(h -> t.matrix(h, "output.weight"));
            gguf.write(out);
        }
    }

    private static void ssmKeys(GgufWriter gguf, String arch, int convWidth, int inner, int state, int timeStepRank) {
        gguf.put(arch + ".ssm.conv_kernel", convWidth).put(arch + ".ssm.inner_size", inner)
                .put(arch + ".ssm.state_size", state).put(arch + ".ssm.time_step_rank", timeStepRank);
    }

    /** Checkpoint tensors into GGUF entries: matrices as stored (bf16 bits kept), the rest as f32. */
    private record Tensors(Checkpoint ckpt, Arena arena, GgufWriter gguf) {
        /** A [out, in] matrix (F32 or BF16) as stored; GGUF dims {in, out}. */
        Tensor get(String name) {
            return ckpt.find(name).orElseThrow(() -> new IllegalArgumentException(ckpt.location() + " has no tensor " + name));
        }

        void matrix(String name, String ggufName) {
            matrix(get(name), ggufName);
        }

        void matrix(Tensor w, String ggufName) {
            if (w.rank() != 2 || !w.isContiguous() || (w.dtype() != DType.BF16 && w.dtype() != DType.F32))
                throw new IllegalArgumentException(w + ": a contiguous BF16 or F32 matrix is mapped");
            gguf.tensor(ggufName, w.dtype() == DType.BF16 ? GgufWriter.BF16 : GgufWriter.F32, new long[] {w.dim(1), w.dim(0)},
                    w.data().asSlice(0, w.byteSize()));
        }

        /**
         * q or k [heads·d, D]. With RoPE the rows of each head are reordered from the
         * rotate-half pairing (i, i + d/2) of Hugging Face to llama.cpp's adjacent pairing
         * (2i, 2i + 1): row h·d + 2i + s is stored row h·d + s·d/2 + i.
         */
        void attentionRows(String name, String ggufName, boolean rope, int d) {
            Tensor w = get(name);
            if (!rope) {
                matrix(w, ggufName);
                return;
            }
            long rowBytes = w.dim(1) * w.dtype().bytes();
            MemorySegment out = arena.allocate(w.byteSize(), 64);
            for (long head = 0; head < w.dim(0) / d; head++)
                for (int i = 0; i < d / 2; i++)
                    for (int s = 0; s < 2; s++)
                        MemorySegment.copy(w.data(), (head * d + s * (d / 2) + i) * rowBytes, out,
                                (head * d + 2L * i + s) * rowBytes, rowBytes);
            matrix(Tensor.of(w.name(), w.dtype(), w.shape(), out), ggufName);
        }

        /** Any tensor as f32 with GGUF dims {@code ne} (default: its shape reversed). */
        void f32(String name, String ggufName, long... ne) {
            Tensor w = get(name);
            put(w, ggufName, ne, false);
        }

        /** A = -exp(A_log), f32. */
        void negExp(String name, String ggufName, long... ne) {
            put(get(name), ggufName, ne, true);
        }

        private void put(Tensor w, String ggufName, long[] ne, boolean negExp) {
            if (ne.length == 0) {
                ne = w.shape().clone();
                for (int i = 0; i < ne.length / 2; i++) {
                    long x = ne[i];
                    ne[i] = ne[ne.length - 1 - i];
                    ne[ne.length - 1 - i] = x;
                }
            }
            if (Arrays.stream(ne).reduce(1, Math::multiplyExact) != w.numel())
                throw new IllegalArgumentException(w + " does not have the " + Arrays.toString(ne) + " elements llama.cpp reads");
            Tensor f = Tensor.allocate(arena, w.name(), DType.F32, w.numel());
            for (long i = 0; i < w.numel(); i++) f.setFloat(i, negExp ? (float) -Math.exp(w.getFloat(i)) : w.getFloat(i));
            gguf.tensor(ggufName, GgufWriter.F32, ne, f.data());
        }
    }

    /**
     * One llama-bench run on {@code gguf}: a {@code prompt}-token prefill, and {@code generate}
     * single-token steps after {@code prompt} cached tokens (its {@code -d} depth, as mamba4j's
     * generation follows its prompt); llama-bench's own warm-up runs first, its other settings
     * are its defaults. Its log goes to {@code log}; a failure names the command and the log's end.
     */
    static Rates run(Path llamaBench, Path gguf, int threads, int prompt, int generate, Path log) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(llamaBench.toString(), "-m", gguf.toString(), "-t", Integer.toString(threads),
                "-r", "1", "-o", "csv", "-p", Integer.toString(prompt), "-n", "0"));
        Map<String, String> pp = runCsv(cmd, log).getFirst();
        cmd.subList(cmd.size() - 4, cmd.size()).clear();
        cmd.addAll(List.of("-p", "0", "-n", Integer.toString(generate), "-d", Integer.toString(prompt)));
        Map<String, String> tg = runCsv(cmd, log).getFirst();
        return new Rates(Double.parseDouble(pp.get("avg_ts")), Double.parseDouble(tg.get("avg_ts")));
    }

    /** Runs a llama-bench command line and parses its CSV rows (header names → values). */
    private static List<Map<String, String>> runCsv(List<String> cmd, Path log) throws IOException {
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        int status;
        try {
            status = p.waitFor();
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while running " + String.join(" ", cmd), e);
        }
        List<String> lines = out.lines().filter(l -> l.startsWith("\"") || l.startsWith("build_commit")).toList();
        if (status != 0 || lines.size() < 2) {
            List<String> tail = Files.readAllLines(log, StandardCharsets.UTF_8);
            throw new IOException(String.join(" ", cmd) + " exited with " + status + "; the end of its log (" + log + "):\n"
                    + String.join("\n", tail.subList(Math.max(0, tail.size() - 15), tail.size())));
        }
        List<String> header = csv(lines.getFirst());
        List<Map<String, String>> rows = new ArrayList<>();
        for (String line : lines.subList(1, lines.size())) {
            List<String> cells = csv(line);
            Map<String, String> row = new TreeMap<>();
            for (int i = 0; i < header.size() && i < cells.size(); i++) row.put(header.get(i), cells.get(i));
            rows.add(row);
        }
        return rows;
    }

    /** One CSV line: fields separated by commas, optionally in double quotes ("" inside quotes is one "). */
    static List<String> csv(String line) {
        List<String> cells = new ArrayList<>();
        StringBuilder cell = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (quoted && c == '"' && i + 1 < line.length() && line.charAt(i + 1) == '"') {
                cell.append('"');
                i++;
            } else if (c == '"') quoted = !quoted;
            else if (c == ',' && !quoted) {
                cells.add(cell.toString());
                cell.setLength(0);
            } else cell.append(c);
        }
        cells.add(cell.toString());
        return cells;
    }
}
