package io.github.mamba4j.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.List;

/**
 * The {@code post_processor} of tokenizer.json for one sequence: adds the special tokens (bos,
 * cls/sep) around the encoded ids when special tokens are asked for. Pairs are not supported.
 */
sealed interface PostProcessor {
    int[] process(int[] ids, boolean addSpecialTokens);

    /** Ids before and after the sequence, from TemplateProcessing's "single" template or Roberta/Bert's cls and sep. */
    record Surround(int[] before, int[] after) implements PostProcessor {
        public int[] process(int[] ids, boolean addSpecialTokens) {
            if (!addSpecialTokens) return ids;
            int[] out = new int[before.length + ids.length + after.length];
            System.arraycopy(before, 0, out, 0, before.length);
            System.arraycopy(ids, 0, out, before.length, ids.length);
            System.arraycopy(after, 0, out, before.length + ids.length, after.length);
            return out;
        }
    }

    /** ByteLevel's post-processor only trims offsets, which are not tracked here. */
    record Identity() implements PostProcessor {
        public int[] process(int[] ids, boolean addSpecialTokens) {
            return ids;
        }
    }

    record Sequence(List<PostProcessor> processors) implements PostProcessor {
        public int[] process(int[] ids, boolean addSpecialTokens) {
            for (PostProcessor p : processors) ids = p.process(ids, addSpecialTokens);
            return ids;
        }
    }

    static PostProcessor fromJson(JsonNode node, String where) {
        if (node == null || node.isNull()) return new Identity();
        String type = Json.type(node, where);
        return switch (type) {
            case "ByteLevel" -> new Identity();
            case "TemplateProcessing" -> template(node, where);
            case "RobertaProcessing", "BertProcessing" -> {
                int[] cls = {idOfPair(node, "cls", where)};
                int[] sep = {idOfPair(node, "sep", where)};
                yield new Surround(cls, sep);
            }
            case "Sequence" -> {
                JsonNode list = node.get("processors");
                if (list == null || !list.isArray()) throw new TokenizerException(where + ".processors: missing or not an array");
                List<PostProcessor> all = new ArrayList<>();
                for (int i = 0; i < list.size(); i++) all.add(fromJson(list.get(i), where + ".processors[" + i + "]"));
                yield new Sequence(List.copyOf(all));
            }
            default -> throw new TokenizerException(where + ": post-processor type \"" + type + "\" is not supported"
                    + " (supported: TemplateProcessing, ByteLevel, RobertaProcessing, BertProcessing, Sequence)");
        };
    }

    private static int idOfPair(JsonNode node, String field, String where) {
        JsonNode pair = node.get(field);
        if (pair == null || !pair.isArray() || pair.size() != 2 || !pair.get(1).canConvertToInt()) {
            throw new TokenizerException(where + "." + field + ": expected [token, id]");
        }
        return pair.get(1).asInt();
    }

    private static PostProcessor template(JsonNode node, String where) {
        JsonNode single = node.get("single");
        if (single == null || !single.isArray()) throw new TokenizerException(where + ".single: missing or not an array");
        JsonNode specials = node.path("special_tokens");
        IntList before = new IntList(4);
        IntList after = new IntList(4);
        boolean seenSequence = false;
        for (int i = 0; i < single.size(); i++) {
            JsonNode piece = single.get(i);
            String at = where + ".single[" + i + "]";
            if (piece.has("Sequence")) {
                if (seenSequence) throw new TokenizerException(at + ": the sequence appears twice in the single template");
                seenSequence = true;
            } else if (piece.has("SpecialToken")) {
                String name = piece.get("SpecialToken").path("id").asText();
                JsonNode special = specials.get(name);
                if (special == null || !special.path("ids").isArray()) {
                    throw new TokenizerException(at + ": special token \"" + name + "\" is not in special_tokens");
                }
                for (JsonNode id : special.get("ids")) (seenSequence ? after : before).add(id.asInt());
            } else {
                throw new TokenizerException(at + ": expected {\"Sequence\": ...} or {\"SpecialToken\": ...}");
            }
        }
        if (!seenSequence) throw new TokenizerException(where + ".single: has no sequence $A");
        return new Surround(before.toArray(), after.toArray());
    }
}
