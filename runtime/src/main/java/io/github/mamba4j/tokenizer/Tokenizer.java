package io.github.mamba4j.tokenizer;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * A Hugging Face tokenizer read from {@code tokenizer.json} (and, with {@link #load(Path)},
 * {@code tokenizer_config.json} beside it). Immutable and safe to share between threads.
 *
 * <pre>{@code
 * Tokenizer tok = Tokenizer.load(modelDir);
 * int[] ids = tok.encode("Hello world");          // with bos if the post-processor adds it
 * String text = tok.decode(ids);                  // special tokens kept
 * StreamDecoder stream = tok.streamDecoder(true); // for generation: whole characters only
 * }</pre>
 */
public final class Tokenizer {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final BpeModel model;
    private final AddedVocabulary added;
    private final Normalizer normalizer;
    private final PreTokenizer preTokenizer;
    private final PostProcessor postProcessor;
    private final Decoder decoder;
    private final TokenizerConfig config;

    private Tokenizer(BpeModel model, AddedVocabulary added, Normalizer normalizer, PreTokenizer preTokenizer,
                      PostProcessor postProcessor, Decoder decoder, TokenizerConfig config) {
        this.model = model;
        this.added = added;
        this.normalizer = normalizer;
        this.preTokenizer = preTokenizer;
        this.postProcessor = postProcessor;
        this.decoder = decoder;
        this.config = config;
    }

    /**
     * Reads {@code dir/tokenizer.json} and, if present, {@code dir/tokenizer_config.json}.
     *
     * @throws TokenizerException when tokenizer.json is missing, malformed or uses a component
     *                            this package does not implement
     */
    public static Tokenizer load(Path dir) {
        Path tokenizerJson = dir.resolve("tokenizer.json");
        if (!Files.isDirectory(dir)) {
            throw new TokenizerException("tokenizer folder " + dir + " does not exist or is not a folder");
        }
        if (!Files.isRegularFile(tokenizerJson)) {
            throw new TokenizerException("no tokenizer.json in " + dir
                    + " (only Hugging Face tokenizer.json is read; a SentencePiece tokenizer.model alone is not)");
        }
        Path configJson = dir.resolve("tokenizer_config.json");
        TokenizerConfig config = Files.isRegularFile(configJson)
                ? TokenizerConfig.fromJson(readTree(configJson), configJson.toString())
                : TokenizerConfig.empty();
        // Newer transformers save the template beside the config instead of inside it.
        Path jinja = dir.resolve("chat_template.jinja");
        if (config.chatTemplate().isEmpty() && Files.isRegularFile(jinja)) {
            try {
                config = config.withChatTemplate(Files.readString(jinja, StandardCharsets.UTF_8));
            } catch (IOException e) {
                throw new TokenizerException(jinja + ": cannot read: " + e.getMessage(), e);
            }
        }
        return fromJson(readTree(tokenizerJson), tokenizerJson.toString(), config);
    }

    /** Reads one tokenizer.json file; no tokenizer_config.json. */
    public static Tokenizer fromFile(Path tokenizerJson) {
        return fromJson(readTree(tokenizerJson), tokenizerJson.toString(), TokenizerConfig.empty());
    }

    /** Parses tokenizer.json text; no tokenizer_config.json. */
    public static Tokenizer fromJson(String tokenizerJson) {
        try {
            return fromJson(JSON.readTree(tokenizerJson), "tokenizer.json", TokenizerConfig.empty());
        } catch (JsonProcessingException e) {
            throw new TokenizerException("tokenizer.json is not valid JSON: " + e.getOriginalMessage(), e);
        }
    }

    /** This tokenizer with another tokenizer_config.json. */
    public Tokenizer withConfig(TokenizerConfig config) {
        return new Tokenizer(model, added, normalizer, preTokenizer, postProcessor, decoder, config);
    }

    static JsonNode readTree(Path file) {
        try {
            return JSON.readTree(Files.readString(file, StandardCharsets.UTF_8));
        } catch (NoSuchFileException e) {
            throw new TokenizerException(file + ": file not found", e);
        } catch (JsonProcessingException e) {
            throw new TokenizerException(file + ": not valid JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new TokenizerException(file + ": cannot read: " + e.getMessage(), e);
        }
    }

    private static Tokenizer fromJson(JsonNode root, String where, TokenizerConfig config) {
        if (root == null || !root.isObject()) throw new TokenizerException(where + ": expected a JSON object at the top");
        JsonNode modelNode = root.get("model");
        if (modelNode == null || !modelNode.isObject()) throw new TokenizerException(where + ": no \"model\" object");
        // "truncation" and "padding" are ignored: context length is the caller's business.
        BpeModel model = BpeModel.fromJson(modelNode, where + ": model");
        Normalizer normalizer = Normalizer.fromJson(root.get("normalizer"), where + ": normalizer");
        PreTokenizer preTokenizer = PreTokenizer.fromJson(root.get("pre_tokenizer"), where + ": pre_tokenizer");
        PostProcessor postProcessor = PostProcessor.fromJson(root.get("post_processor"), where + ": post_processor");
        Decoder decoder = Decoder.fromJson(root.get("decoder"), where + ": decoder");
        List<AddedVocabulary.AddedToken> tokens = new ArrayList<>();
        JsonNode list = root.path("added_tokens");
        if (!list.isMissingNode() && !list.isNull() && !list.isArray()) throw new TokenizerException(where + ": added_tokens is not an array");
        for (int i = 0; i < list.size(); i++) {
            JsonNode t = list.get(i);
            String at = where + ": added_tokens[" + i + "]";
            if (!t.path("id").canConvertToInt()) throw new TokenizerException(at + ".id: missing or not an integer");
            String content = Json.text(t, "content", at);
            // As the library: a token already in the model's vocabulary keeps the model's id.
            Integer modelId = model.tokenToId(content);
            int id = modelId != null ? modelId : t.get("id").asInt();
            tokens.add(new AddedVocabulary.AddedToken(id, content, t.path("single_word").asBoolean(false),
                    t.path("lstrip").asBoolean(false), t.path("rstrip").asBoolean(false),
                    t.path("normalized").asBoolean(true), t.path("special").asBoolean(false)));
        }
        return new Tokenizer(model, new AddedVocabulary(tokens, normalizer), normalizer, preTokenizer, postProcessor,
                decoder, config);
    }

    /** Encodes with the special tokens the post-processor adds (bos for Llama-style tokenizers). */
    public int[] encode(String text) {
        return encode(text, true);
    }

    /**
     * Encodes {@code text} as {@code tokenizers}' {@code encode(text, add_special_tokens)}: added
     * tokens in the text are always recognised; {@code addSpecialTokens} only controls the
     * post-processor's bos/eos/cls/sep. tokenizer_config.json's {@code add_bos_token} is reported by
     * {@link #config()} but not applied here: tokenizer.json's post-processor decides, as in the
     * library (transformers gave the same ids on every fixture).
     */
    public int[] encode(String text, boolean addSpecialTokens) {
        return postProcessor.process(encodeWithoutPostProcessing(text, null), addSpecialTokens);
    }

    /**
     * The token strings of {@link #encode(String, boolean)}, as the library's
     * {@code Encoding.tokens}: vocabulary strings, except that an added token shows the text it
     * matched (with the white space lstrip/rstrip took).
     */
    public List<String> tokens(String text, boolean addSpecialTokens) {
        List<String> matched = new ArrayList<>();
        int[] ids = encodeWithoutPostProcessing(text, matched);
        int[] processed = postProcessor.process(ids, addSpecialTokens);
        // The post-processor only adds ids around the sequence: find where the sequence sits.
        int offset = indexOf(processed, ids);
        List<String> out = new ArrayList<>(processed.length);
        for (int i = 0; i < processed.length; i++) {
            int j = i - offset;
            out.add(j >= 0 && j < matched.size() ? matched.get(j) : idToToken(processed[i]));
        }
        return out;
    }

    private static int indexOf(int[] haystack, int[] needle) {
        for (int start = 0; start + needle.length <= haystack.length; start++) {
            if (java.util.Arrays.equals(haystack, start, start + needle.length, needle, 0, needle.length)) return start;
        }
        return 0;
    }

    /** Added tokens, normalization, pre-tokenization, BPE; {@code tokens} (if not null) gets each token's string. */
    private int[] encodeWithoutPostProcessing(String text, List<String> tokens) {
        IntList ids = new IntList(text.length() / 3 + 4);
        for (AddedVocabulary.Split split : added.extractAndNormalize(text, normalizer)) {
            if (split.id() >= 0) {
                ids.add(split.id());
                if (tokens != null) tokens.add(split.text());
                continue;
            }
            List<PreTokenizer.Piece> words = List.of(new PreTokenizer.Piece(split.text(), split.atOrigin()));
            if (preTokenizer != null) words = preTokenizer.apply(words);
            for (PreTokenizer.Piece word : words) {
                int before = ids.size();
                model.tokenize(word.text(), ids);
                if (tokens != null) for (int i = before; i < ids.size(); i++) tokens.add(model.idToToken(ids.get(i)));
            }
        }
        return ids.toArray();
    }

    /** Decodes keeping special tokens. */
    public String decode(int[] ids) {
        return decode(ids, false);
    }

    /**
     * Decodes as {@code tokenizers}' {@code decode(ids, skip_special_tokens)}. Ids outside the
     * vocabulary are skipped, as there. Invalid UTF-8 from byte tokens becomes U+FFFD.
     */
    public String decode(int[] ids, boolean skipSpecialTokens) {
        return decode(ids, 0, ids.length, skipSpecialTokens);
    }

    String decode(int[] ids, int from, int to, boolean skipSpecialTokens) {
        List<String> tokens = new ArrayList<>(to - from);
        for (int i = from; i < to; i++) {
            String token = added.decodedForm(ids[i]);
            if (token == null) token = model.idToToken(ids[i]);
            if (token == null) continue;
            if (skipSpecialTokens && added.isSpecial(token)) continue;
            tokens.add(token);
        }
        if (decoder == null) return String.join(" ", tokens);
        return String.join("", decoder.decodeChain(tokens));
    }

    /** A decoder for a stream of generated ids that emits only whole characters. */
    public StreamDecoder streamDecoder(boolean skipSpecialTokens) {
        return new StreamDecoder(this, skipSpecialTokens);
    }

    /** The id of a token string (added tokens first, then the model's vocabulary). */
    public OptionalInt tokenToId(String token) {
        Integer id = added.tokenToId(token);
        if (id == null) id = model.tokenToId(token);
        return id == null ? OptionalInt.empty() : OptionalInt.of(id);
    }

    /** The token string of an id, or null when no token has it. */
    public String idToToken(int id) {
        String token = added.decodedForm(id);
        return token != null ? token : model.idToToken(id);
    }

    /** Number of ids: one more than the largest id of the vocabulary and the added tokens. */
    public int vocabSize() {
        return Math.max(model.size(), added.maxId() + 1);
    }

    /** Whether {@code id} is a special added token (bos, eos, chat markers...). */
    public boolean isSpecial(int id) {
        String token = added.decodedForm(id);
        return token != null && added.isSpecial(token);
    }

    public TokenizerConfig config() {
        return config;
    }

    /** The bos id named by tokenizer_config.json, if any. */
    public OptionalInt bosId() {
        return config.bosToken().map(this::tokenToId).orElse(OptionalInt.empty());
    }

    /** The eos id named by tokenizer_config.json, if any. */
    public OptionalInt eosId() {
        return config.eosToken().map(this::tokenToId).orElse(OptionalInt.empty());
    }

    /**
     * Renders the chat template of tokenizer_config.json, as transformers'
     * {@code apply_chat_template(messages, tokenize=False, add_generation_prompt=...)}.
     *
     * @throws TokenizerException when there is no chat template or it fails (raise_exception)
     */
    public String applyChatTemplate(List<ChatMessage> messages, boolean addGenerationPrompt) {
        Optional<String> template = config.chatTemplate();
        if (template.isEmpty()) throw new TokenizerException("tokenizer_config.json has no chat_template");
        return ChatTemplate.render(template.get(), messages, addGenerationPrompt, config);
    }
}
