/**
 * Hugging Face {@code tokenizer.json} tokenizers in plain Java: byte-level BPE (GPT-2 / GPT-NeoX,
 * Llama 3, Qwen) and SentencePiece-style BPE (Llama 2: Metaspace, byte fallback), added and special
 * tokens, the normalizers, pre-tokenizers, post-processors and decoders those families use,
 * streaming decode that never emits half a UTF-8 character, and {@code tokenizer_config.json}
 * (bos/eos, chat templates rendered with Jinjava).
 *
 * <p>The pipeline is the library's: split off added tokens that match the raw text, normalize
 * the rest, split off added tokens that match the normalized text, pre-tokenize into words, run
 * BPE on each word, post-process (bos/eos). Parity with the {@code tokenizers} library is checked
 * on fixtures written by {@code ci/fixtures/make_tokenizer_fixtures.py}.
 */
package io.github.mamba4j.tokenizer;
