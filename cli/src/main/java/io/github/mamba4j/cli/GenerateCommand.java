package io.github.mamba4j.cli;

import io.github.mamba4j.runtime.config.Mixer;
import io.github.mamba4j.runtime.config.ModelConfig;
import io.github.mamba4j.runtime.generate.Generator;
import io.github.mamba4j.runtime.generate.SamplingParams;
import io.github.mamba4j.runtime.model.Model;
import io.github.mamba4j.runtime.model.Session;
import io.github.mamba4j.tokenizer.ChatMessage;
import io.github.mamba4j.tokenizer.StreamDecoder;
import io.github.mamba4j.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code generate --model DIR --prompt TEXT}: prefill the prompt, then sample and stream
 * tokens to stdout; timings and state memory go to stderr at the end.
 */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Generate text from a prompt (--prompt, --prompt-file, --prompt-ids or standard input), "
                + "streaming it to standard output. Statistics go to standard error.")
final class GenerateCommand implements Callable<Integer> {
    @Mixin
    ModelOptions options;

    static final class Prompt {
        @Option(names = "--prompt", paramLabel = "TEXT", description = "the prompt text")
        String text;

        @Option(names = "--prompt-file", paramLabel = "FILE", description = "read the prompt from a UTF-8 file")
        Path file;

        @Option(names = "--prompt-ids", split = ",", paramLabel = "IDS",
                description = "token ids, comma-separated (no tokenizer needed; output is ids)")
        int[] ids;
    }

    @ArgGroup(exclusive = true)
    Prompt prompt = new Prompt();

    static final int DEFAULT_MAX_TOKENS = 128;

    @Option(names = "--max-tokens", paramLabel = "N",
            description = "tokens to generate at most (default: 128, or fewer if the model's position limit is closer)")
    Integer maxTokens;

    @Option(names = "--temperature", defaultValue = "0", paramLabel = "T",
            description = "0 = greedy (default); > 0 samples from softmax(logits / T)")
    float temperature;

    @Option(names = "--top-k", defaultValue = "0", paramLabel = "K", description = "keep the K most likely tokens (0 = all)")
    int topK;

    @Option(names = "--top-p", defaultValue = "1", paramLabel = "P", description = "nucleus sampling mass, in (0, 1]")
    float topP;

    @Option(names = "--min-p", defaultValue = "0", paramLabel = "P", description = "drop tokens below P × the top probability, in [0, 1)")
    float minP;

    @Option(names = "--repetition-penalty", defaultValue = "1", paramLabel = "R", description = "> 1 discourages repeats (CTRL style)")
    float repetitionPenalty;

    @Option(names = "--seed", defaultValue = "0", paramLabel = "S", description = "random seed: same seed, same output")
    long seed;

    @Option(names = "--chat", description = "wrap the prompt as a user message with the model's chat template")
    boolean chat;

    @Option(names = "--no-stream", description = "print the text at the end instead of token by token")
    boolean noStream;

    @Override
    public Integer call() throws IOException {
        Path dir = options.prepare();
        SamplingParams sampling = sampling();
        if (maxTokens != null && maxTokens < 1) throw new UsageError("--max-tokens must be >= 1, got " + maxTokens);

        Tokenizer tokenizer = null;
        if (prompt.ids == null) {
            if (!Files.isRegularFile(dir.resolve("tokenizer.json")))
                throw new UsageError("no tokenizer.json in " + dir + ": give token ids with --prompt-ids 1,2,3 instead");
            tokenizer = Tokenizer.load(dir);
        } else if (chat) {
            throw new UsageError("--chat needs text (--prompt, --prompt-file or stdin), not --prompt-ids");
        }
        int[] ids = prompt.ids != null ? prompt.ids : tokenizer.encode(promptText(tokenizer));
        if (ids.length == 0) throw new UsageError("the prompt is empty");

        PrintStream err = System.err;
        long t0 = System.nanoTime();
        try (Model model = Model.load(dir)) {
            LoadProgress.prefetch(model, err);
            double loadSeconds = (System.nanoTime() - t0) / 1e9;
            ModelConfig config = model.config();
            int budget = budget(config, ids.length);
            Set<Integer> eos = new HashSet<>(config.eosTokenIds());
            if (tokenizer != null) tokenizer.eosId().ifPresent(eos::add);

            int capacity = ids.length + budget;
            try (Session session = model.newSession(1, capacity)) {
                Output output = new Output(tokenizer, noStream);
                long start = System.nanoTime();
                long[] firstToken = {0};
                Generator.Result result = Generator.generate(session, new Generator.Request(ids, budget, sampling), eos,
                        (request, token) -> {
                            if (firstToken[0] == 0) firstToken[0] = System.nanoTime();
                            output.token(token);
                            return true;
                        });
                long end = System.nanoTime();
                output.finish();
                double prefill = (firstToken[0] - start) / 1e9, decode = (end - firstToken[0]) / 1e9;
                int generated = result.tokens().length;
                Session.MemoryReport mem = session.memory();
                err.printf("%nload %.2f s | prompt %d tokens, %.1f tokens/s | generated %d tokens (%s), %.1f tokens/s%n",
                        loadSeconds, ids.length, ids.length / prefill, generated,
                        switch (result.reason()) {
                            case END_OF_SEQUENCE -> "end of sequence";
                            case BUDGET -> "token budget";
                            case STOPPED -> "stopped";
                        },
                        generated > 1 ? (generated - 1) / decode : 0.0);
                err.printf("state: %s constant (conv + SSM) + %s per token of KV cache%n",
                        Bytes.human(mem.ssmStateBytes()), Bytes.human(mem.kvBytesPerToken()));
            }
        }
        return 0;
    }

    private SamplingParams sampling() {
        if (!(temperature >= 0)) throw new UsageError("--temperature must be >= 0, got " + temperature);
        if (topK < 0) throw new UsageError("--top-k must be >= 0, got " + topK);
        if (!(topP > 0 && topP <= 1)) throw new UsageError("--top-p must be in (0, 1], got " + topP);
        if (!(minP >= 0 && minP < 1)) throw new UsageError("--min-p must be in [0, 1), got " + minP);
        if (!(repetitionPenalty > 0)) throw new UsageError("--repetition-penalty must be > 0, got " + repetitionPenalty);
        return new SamplingParams(temperature, topK, topP, minP, repetitionPenalty, seed);
    }

    private String promptText(Tokenizer tokenizer) throws IOException {
        String text;
        if (prompt.text != null) text = prompt.text;
        else if (prompt.file != null) {
            if (!Files.isRegularFile(prompt.file)) throw new UsageError("prompt file " + prompt.file + " does not exist");
            text = Files.readString(prompt.file, StandardCharsets.UTF_8);
        } else {
            if (System.console() != null) System.err.println("reading the prompt from standard input (end with Ctrl-D) ...");
            try (InputStream in = System.in) {
                text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
        }
        return chat ? tokenizer.applyChatTemplate(List.of(ChatMessage.user(text)), true) : text;
    }

    /**
     * Tokens to generate. Models with attention have a position limit (max_position_embeddings);
     * pure SSMs have none. An explicit --max-tokens past the limit is an error; the default
     * shrinks to fit.
     */
    private int budget(ModelConfig config, int promptTokens) {
        boolean attention = config.blocks().stream().anyMatch(b -> b.mixer() instanceof Mixer.Attention);
        int limit = attention && config.maxPositions() > 0 ? config.maxPositions() : Integer.MAX_VALUE;
        if (promptTokens >= limit)
            throw new UsageError("the prompt has " + promptTokens + " tokens but this model's limit is " + limit
                    + " positions (max_position_embeddings), and at least one must be left to generate");
        if (maxTokens == null) return (int) Math.min(DEFAULT_MAX_TOKENS, (long) limit - promptTokens);
        if ((long) promptTokens + maxTokens > limit)
            throw new UsageError("the prompt (" + promptTokens + " tokens) plus --max-tokens " + maxTokens
                    + " exceeds this model's limit of " + limit + " positions (max_position_embeddings)");
        return maxTokens;
    }

    /** Streams decoded text (or ids without a tokenizer) to stdout. */
    private static final class Output {
        private final Tokenizer tokenizer;
        private final StreamDecoder decoder;
        private final boolean buffered;
        private final StringBuilder text = new StringBuilder();
        private final PrintStream out = System.out;
        private boolean first = true;

        Output(Tokenizer tokenizer, boolean buffered) {
            this.tokenizer = tokenizer;
            this.decoder = tokenizer == null ? null : tokenizer.streamDecoder(true);
            this.buffered = buffered;
        }

        void token(int id) {
            String piece = decoder == null ? (first ? "" : ",") + id : decoder.step(id);
            first = false;
            if (buffered) text.append(piece);
            else {
                out.print(piece);
                out.flush();
            }
        }

        void finish() {
            String tail = decoder == null ? "" : decoder.flush();
            if (buffered) out.print(text.append(tail));
            else out.print(tail);
            out.println();
            out.flush();
        }
    }
}
