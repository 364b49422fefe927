package io.github.mamba4j.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The BPE model of {@code tokenizer.json}: a vocabulary and ranked merges.
 *
 * <p>A word (one pre-token) starts as one symbol per character (or per UTF-8 byte, as
 * {@code <0xNN>} tokens, when the character is not in the vocabulary and {@code byte_fallback}
 * is on; or the unknown token, fused over runs when {@code fuse_unk}). Then the adjacent pair
 * with the lowest merge rank is merged, leftmost first on ties, until no pair has a merge — the
 * library's priority-queue algorithm, so results match it exactly, including when several merges
 * produce the same token. With {@code ignore_merges}, a word that is itself in the vocabulary is
 * one token without merging.
 */
final class BpeModel {
    private static final int CACHE_LIMIT = 1 << 16;
    private static final int CACHE_MAX_WORD = 256;

    private final Map<String, Integer> vocab;
    private final String[] idToToken;
    /** (left id, right id) packed into a long, to rank (high 32 bits) and merged id (low 32). */
    private final Map<Long, Long> merges;
    /** merged id by rank, to check a queued merge still applies. */
    private final int[] mergedIdByRank;
    private final String unkToken;
    private final int unkId;
    private final boolean fuseUnk;
    private final boolean byteFallback;
    private final boolean ignoreMerges;
    private final String continuingSubwordPrefix;
    private final String endOfWordSuffix;
    private final int[] byteTokenIds;
    private final Map<String, int[]> cache = new ConcurrentHashMap<>();

    private BpeModel(Map<String, Integer> vocab, String[] idToToken, Map<Long, Long> merges, int[] mergedIdByRank,
                     String unkToken, boolean fuseUnk, boolean byteFallback, boolean ignoreMerges,
                     String continuingSubwordPrefix, String endOfWordSuffix) {
        this.vocab = vocab;
        this.idToToken = idToToken;
        this.merges = merges;
        this.mergedIdByRank = mergedIdByRank;
        this.unkToken = unkToken;
        this.unkId = unkToken == null ? -1 : vocab.getOrDefault(unkToken, -1);
        this.fuseUnk = fuseUnk;
        this.byteFallback = byteFallback;
        this.ignoreMerges = ignoreMerges;
        this.continuingSubwordPrefix = continuingSubwordPrefix;
        this.endOfWordSuffix = endOfWordSuffix;
        this.byteTokenIds = new int[256];
        for (int b = 0; b < 256; b++) byteTokenIds[b] = vocab.getOrDefault(String.format("<0x%02X>", b), -1);
    }

    /** Reads the {@code model} object of tokenizer.json; {@code where} names it in errors. */
    static BpeModel fromJson(JsonNode model, String where) {
        String type = model.path("type").asText("BPE");
        if (!type.equals("BPE")) {
            throw new TokenizerException(where + ": model type \"" + type + "\" is not supported"
                    + " (supported: BPE — byte-level or SentencePiece-style; WordPiece and Unigram are not)");
        }
        JsonNode dropout = model.get("dropout");
        if (dropout != null && !dropout.isNull() && dropout.asDouble() > 0) {
            throw new TokenizerException(where + ": BPE dropout " + dropout.asDouble()
                    + " is not supported (it makes encoding random)");
        }
        JsonNode vocabNode = model.get("vocab");
        if (vocabNode == null || !vocabNode.isObject()) {
            throw new TokenizerException(where + ".vocab: missing or not an object");
        }
        Map<String, Integer> vocab = new HashMap<>(vocabNode.size() * 2);
        int maxId = -1;
        for (Iterator<Map.Entry<String, JsonNode>> it = vocabNode.properties().iterator(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().canConvertToInt() || e.getValue().asInt() < 0) {
                throw new TokenizerException(where + ".vocab[\"" + e.getKey() + "\"]: id is not a non-negative integer");
            }
            int id = e.getValue().asInt();
            vocab.put(e.getKey(), id);
            maxId = Math.max(maxId, id);
        }
        String[] idToToken = new String[maxId + 1];
        vocab.forEach((token, id) -> idToToken[id] = token);

        JsonNode mergesNode = model.path("merges");
        if (!mergesNode.isArray() && !mergesNode.isMissingNode() && !mergesNode.isNull()) {
            throw new TokenizerException(where + ".merges: not an array");
        }
        Map<Long, Long> merges = new HashMap<>(Math.max(16, mergesNode.size() * 2));
        int[] mergedIdByRank = new int[mergesNode.size()];
        String prefix = textOrNull(model.get("continuing_subword_prefix"));
        int prefixLength = prefix == null ? 0 : prefix.length();
        for (int rank = 0; rank < mergesNode.size(); rank++) {
            JsonNode m = mergesNode.get(rank);
            String left;
            String right;
            if (m.isTextual()) { // legacy "left right"
                String[] parts = m.asText().split(" ", -1);
                if (parts.length != 2) {
                    throw new TokenizerException(where + ".merges[" + rank + "]: \"" + m.asText() + "\" is not \"left right\"");
                }
                left = parts[0];
                right = parts[1];
            } else if (m.isArray() && m.size() == 2 && m.get(0).isTextual() && m.get(1).isTextual()) {
                left = m.get(0).asText();
                right = m.get(1).asText();
            } else {
                throw new TokenizerException(where + ".merges[" + rank + "]: expected \"left right\" or [left, right]");
            }
            Integer leftId = vocab.get(left);
            Integer rightId = vocab.get(right);
            String mergedToken = left + (prefixLength > 0 && right.startsWith(prefix) ? right.substring(prefixLength) : right);
            Integer mergedId = vocab.get(mergedToken);
            if (leftId == null || rightId == null || mergedId == null) {
                throw new TokenizerException(where + ".merges[" + rank + "]: (\"" + left + "\", \"" + right
                        + "\") uses or makes a token that is not in the vocabulary");
            }
            merges.put(pair(leftId, rightId), ((long) rank << 32) | mergedId);
            mergedIdByRank[rank] = mergedId;
        }
        String unk = textOrNull(model.get("unk_token"));
        return new BpeModel(vocab, idToToken, merges, mergedIdByRank, unk,
                model.path("fuse_unk").asBoolean(false), model.path("byte_fallback").asBoolean(false),
                model.path("ignore_merges").asBoolean(false), prefix, textOrNull(model.get("end_of_word_suffix")));
    }

    private static String textOrNull(JsonNode node) {
        return node == null || node.isNull() ? null : node.asText();
    }

    private static long pair(int left, int right) {
        return ((long) left << 32) | (right & 0xFFFFFFFFL);
    }

    Integer tokenToId(String token) {
        return vocab.get(token);
    }

    String idToToken(int id) {
        return id >= 0 && id < idToToken.length ? idToToken[id] : null;
    }

    /** One more than the largest id of the vocabulary. */
    int size() {
        return idToToken.length;
    }

    /** Appends the ids of one pre-token to {@code out}. */
    void tokenize(String word, IntList out) {
        if (word.isEmpty()) return;
        if (ignoreMerges) {
            Integer id = vocab.get(word);
            if (id != null) {
                out.add(id);
                return;
            }
        }
        int[] cached = cache.get(word);
        if (cached == null) {
            cached = mergeWord(word);
            if (word.length() < CACHE_MAX_WORD && cache.size() < CACHE_LIMIT) cache.put(word, cached);
        }
        out.addAll(cached);
    }

    private int[] mergeWord(String word) {
        // Symbols as a doubly linked list over arrays; a merged-away symbol gets length 0.
        int capacity = word.length() * 4;
        int[] symbol = new int[capacity];
        int[] length = new int[capacity];
        int count = 0;
        int pendingUnkLength = 0; // bytes of the unknown run not yet emitted
        for (int i = 0; i < word.length(); ) {
            int cp = word.codePointAt(i);
            int end = i + Character.charCount(cp);
            String piece = word.substring(i, end);
            int byteLength = utf8Length(cp);
            String lookup = piece;
            if (i > 0 && continuingSubwordPrefix != null) lookup = continuingSubwordPrefix + lookup;
            if (end == word.length() && endOfWordSuffix != null) lookup = lookup + endOfWordSuffix;
            i = end;
            Integer id = vocab.get(lookup);
            if (id != null) {
                if (pendingUnkLength > 0) {
                    symbol[count] = unkId;
                    length[count++] = pendingUnkLength;
                    pendingUnkLength = 0;
                }
                symbol[count] = id;
                length[count++] = byteLength;
                continue;
            }
            if (byteFallback) {
                byte[] bytes = lookup.getBytes(StandardCharsets.UTF_8);
                boolean all = true;
                for (byte b : bytes) all &= byteTokenIds[b & 0xFF] >= 0;
                if (all) {
                    // The unknown run is not flushed here, as in the library: byte tokens go first.
                    if (count + bytes.length > capacity) {
                        capacity = Math.max(capacity * 2, count + bytes.length);
                        symbol = Arrays.copyOf(symbol, capacity);
                        length = Arrays.copyOf(length, capacity);
                    }
                    for (byte b : bytes) {
                        symbol[count] = byteTokenIds[b & 0xFF];
                        length[count++] = 1;
                    }
                    continue;
                }
            }
            if (unkToken != null) {
                if (unkId < 0) {
                    throw new TokenizerException("BPE unk_token \"" + unkToken + "\" is not in the vocabulary");
                }
                if (pendingUnkLength > 0 && !fuseUnk) {
                    symbol[count] = unkId;
                    length[count++] = pendingUnkLength;
                    pendingUnkLength = 0;
                }
                pendingUnkLength += byteLength;
            }
            // No unk token and no byte fallback: the character is dropped, as in the library.
        }
        if (pendingUnkLength > 0) {
            symbol[count] = unkId;
            length[count++] = pendingUnkLength;
        }
        mergeAll(symbol, length, count);
        IntList ids = new IntList(count);
        for (int s = 0; s < count; s++) if (length[s] != 0) ids.add(symbol[s]);
        return ids.toArray();
    }

    /** Applies merges lowest rank first (leftmost on ties) until none applies. */
    private void mergeAll(int[] symbol, int[] length, int count) {
        int[] prev = new int[count];
        int[] next = new int[count];
        for (int s = 0; s < count; s++) {
            prev[s] = s - 1;
            next[s] = s + 1 < count ? s + 1 : -1;
        }
        LongHeap queue = new LongHeap(count);
        for (int s = 0; s + 1 < count; s++) {
            Long m = merges.get(pair(symbol[s], symbol[s + 1]));
            if (m != null) queue.push(((m >>> 32) << 32) | s);
        }
        while (!queue.isEmpty()) {
            long top = queue.pop();
            int rank = (int) (top >>> 32);
            int pos = (int) top;
            if (length[pos] == 0 || next[pos] == -1) continue;
            int right = next[pos];
            Long current = merges.get(pair(symbol[pos], symbol[right]));
            int mergedId = mergedIdByRank[rank];
            if (current == null || (int) (long) current != mergedId) continue;
            symbol[pos] = mergedId;
            length[pos] += length[right];
            next[pos] = next[right];
            length[right] = 0;
            if (next[right] != -1) prev[next[right]] = pos;
            if (prev[pos] >= 0) {
                Long m = merges.get(pair(symbol[prev[pos]], symbol[pos]));
                if (m != null) queue.push(((m >>> 32) << 32) | prev[pos]);
            }
            if (next[pos] != -1) {
                Long m = merges.get(pair(symbol[pos], symbol[next[pos]]));
                if (m != null) queue.push(((m >>> 32) << 32) | pos);
            }
        }
    }

    private static int utf8Length(int cp) {
        return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    }

    /** A min-heap of longs: (rank << 32 | position), so lowest rank, then leftmost, comes first. */
    private static final class LongHeap {
        private long[] heap;
        private int size;

        LongHeap(int capacity) {
            heap = new long[Math.max(4, capacity)];
        }

        boolean isEmpty() {
            return size == 0;
        }

        void push(long v) {
            if (size == heap.length) heap = Arrays.copyOf(heap, size * 2);
            int i = size++;
            while (i > 0) {
                int parent = (i - 1) >>> 1;
                if (heap[parent] <= v) break;
                heap[i] = heap[parent];
                i = parent;
            }
            heap[i] = v;
        }

        long pop() {
            long top = heap[0];
            long last = heap[--size];
            int i = 0;
            while (true) {
                int child = 2 * i + 1;
                if (child >= size) break;
                if (child + 1 < size && heap[child + 1] < heap[child]) child++;
                if (heap[child] >= last) break;
                heap[i] = heap[child];
                i = child;
            }
            heap[i] = last;
            return top;
        }
    }
}
